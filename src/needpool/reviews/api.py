"""REST API of reviews (included under /api/v1/).

Reads through ``reviews.selectors`` (a meeting or item the caller may not see is 404; a sales attendee gets only
the agenda items of requirements they may see), writes through ``reviews.services`` (403 without the
permission, 400 with per-field messages and nothing written for bad input). No DELETE.

- ``reviews/meetings/`` list, create; ``…/{id}/`` read, PUT / PATCH (ETag / If-Match: 412 when stale)
- ``reviews/meetings/{id}/agenda/`` POST requirement ids: put them on the agenda (answers the agenda)
- ``reviews/meetings/{id}/minutes/`` GET, PUT: solution, summary, per item notes, owner, due date (If-Match)
- ``reviews/items/{id}/`` read one agenda item; ``…/{id}/decide/`` POST the decision (409 when someone decided
  since the item ``version`` sent)
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from needpool.accounts.models import User
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless
from needpool.core.concurrency import (
    StaleVersion,
    VersionedAPIMixin,
    etag_parameter,
    if_match_parameter,
    precondition_failed_response,
)
from needpool.core.schema import NamedChoiceField
from needpool.core.validation import DateField, DateTimeField, IdField
from needpool.delivery.models import Iteration
from needpool.reviews import selectors, services
from needpool.reviews.models import AgendaItem, Decision, ReviewAttendee, ReviewMaterial, ReviewMeeting
from needpool.reviews.permissions import acting_user, can_review

TAGS = ["reviews"]
DENIED = gettext_lazy("只有经理和产品经理可以组织评审。")


class RejectUnknown:
    """Input serializers (nested ones too): an unknown key is a 400 naming it."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


def _name(user: Any) -> str:
    return str(user) if user is not None else ""


def _active_users() -> Any:
    return User.objects.filter(is_active=True)


# ---------------------------------------------------------------- serializers


class ReviewAttendeeSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=_active_users())
    user_name = serializers.SerializerMethodField()
    role = NamedChoiceField(
        ReviewAttendee.Role.choices, enum_name="ReviewAttendeeRoleEnum", required=False, default="other"
    )

    def get_user_name(self, obj: Any) -> str:
        return _name(obj.user) if isinstance(obj, ReviewAttendee) else ""


class ReviewItemSerializer(serializers.ModelSerializer):
    """One requirement on the agenda and the decision on it."""

    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    requirement_title = serializers.CharField(source="requirement.title", read_only=True)
    requirement_status = serializers.CharField(source="requirement.status.key", read_only=True)
    decision = NamedChoiceField(Decision.choices, enum_name="ReviewDecisionEnum", read_only=True)
    owner_name = serializers.SerializerMethodField()
    decided_by_name = serializers.SerializerMethodField()
    iteration_name = serializers.SerializerMethodField()

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "meeting",
            "requirement",
            "requirement_code",
            "requirement_title",
            "requirement_status",
            "position",
            "decision",
            "decision_note",
            "revisit_date",
            "iteration",
            "iteration_name",
            "notes",
            "owner",
            "owner_name",
            "due_date",
            "decided_by",
            "decided_by_name",
            "decided_at",
            "version",
        ]
        read_only_fields = fields

    def get_owner_name(self, obj: AgendaItem) -> str:
        return _name(obj.owner)

    def get_decided_by_name(self, obj: AgendaItem) -> str:
        return _name(obj.decided_by)

    def get_iteration_name(self, obj: AgendaItem) -> str:
        return obj.iteration.name if obj.iteration else ""


class ReviewMaterialSerializer(serializers.ModelSerializer):
    late = serializers.SerializerMethodField(help_text=gettext_lazy("发送晚于会前 3 天"))

    class Meta:
        model = ReviewMaterial
        fields = ["id", "title", "link", "name", "size", "sent_at", "sent_by", "late"]
        read_only_fields = fields

    def get_late(self, obj: ReviewMaterial) -> bool:
        return bool(selectors.late_materials(obj.meeting, [obj]))


class ReviewMeetingSerializer(RejectUnknown, serializers.ModelSerializer):
    """A review meeting 评审会议: schedule, chair, attendees and status (the agenda comes with one meeting)."""

    starts_at = DateTimeField()
    ends_at = DateTimeField()
    chair = serializers.PrimaryKeyRelatedField(queryset=_active_users())
    chair_name = serializers.SerializerMethodField()
    status = NamedChoiceField(ReviewMeeting.Status.choices, enum_name="ReviewMeetingStatusEnum", required=False)
    attendees = ReviewAttendeeSerializer(many=True, required=False, max_length=200)  # type: ignore[call-arg]

    class Meta:
        model = ReviewMeeting
        fields = [
            "id",
            "title",
            "starts_at",
            "ends_at",
            "place",
            "link",
            "chair",
            "chair_name",
            "status",
            "attendees",
            "solution",
            "summary",
            "version",
            "created_at",
        ]
        read_only_fields = ["solution", "summary", "version", "created_at"]

    def get_chair_name(self, obj: ReviewMeeting) -> str:
        return _name(obj.chair)


def extend_schema_field_items() -> Any:
    from drf_spectacular.utils import extend_schema_field

    return extend_schema_field(ReviewItemSerializer(many=True))


class ReviewMeetingDetailSerializer(ReviewMeetingSerializer):
    """One meeting with the agenda items the caller may see and the material sent."""

    items = serializers.SerializerMethodField()
    materials = ReviewMaterialSerializer(many=True, read_only=True)

    class Meta(ReviewMeetingSerializer.Meta):
        fields = [*ReviewMeetingSerializer.Meta.fields, "items", "materials"]

    @extend_schema_field_items()
    def get_items(self, obj: ReviewMeeting) -> Any:
        return ReviewItemSerializer(getattr(obj, "visible_items", []), many=True).data


class ReviewAgendaAddSerializer(RejectUnknown, serializers.Serializer):
    requirements = serializers.ListField(child=IdField(), min_length=1, max_length=200)


class ReviewDecideSerializer(RejectUnknown, serializers.Serializer):
    decision = NamedChoiceField(
        [c for c in Decision.choices if c[0] != Decision.PENDING], enum_name="ReviewDecisionChoiceEnum"
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text=gettext_lazy("拒绝的理由 / 需修改的内容（二者必填）"),
    )
    revisit_date = DateField(required=False, allow_null=True, help_text=gettext_lazy("暂缓时必填，不早于今天"))
    iteration = serializers.PrimaryKeyRelatedField(
        queryset=Iteration.objects.all(), required=False, allow_null=True, help_text=gettext_lazy("通过时可选")
    )
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=2**31 - 1,
        help_text=gettext_lazy("可选：读取时议题的 version；他人已先行决策时返回 409，不做修改"),
    )


class ReviewItemMinutesSerializer(RejectUnknown, serializers.Serializer):
    id = IdField()
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    owner = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    due_date = DateField(required=False, allow_null=True)


class ReviewMinutesSerializer(RejectUnknown, serializers.Serializer):
    """The minutes 评审纪要: solution, summary and, per agenda item, notes, owner and due date."""

    solution = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    version = serializers.IntegerField(read_only=True)
    items = ReviewItemMinutesSerializer(many=True, required=False, max_length=200, write_only=True)  # type: ignore[call-arg]
    agenda = ReviewItemSerializer(many=True, read_only=True)


class ReviewConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    version = serializers.IntegerField(help_text=gettext_lazy("议题当前的 version"))


# ---------------------------------------------------------------- views


def _attendees(data: dict[str, Any]) -> list[tuple[User, str]] | None:
    rows = data.pop("attendees", None)
    if rows is None:
        return None
    return [(row["user"], row.get("role") or "other") for row in rows]


@extend_schema(tags=TAGS)
class MeetingViewSet(
    VersionedAPIMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SelectorViewSet,
):
    """Review meetings (评审会议): seen by reviewers, pool-wide roles, the chair and attendees; organised by
    managers and product managers. No DELETE."""

    model = ReviewMeeting
    serializer_class = ReviewMeetingSerializer
    create_denied = DENIED
    update_denied = DENIED

    def select_list(self, user: Any) -> Any:
        return selectors.meeting_list(user=acting_user(user)).prefetch_related("attendees__user")

    def select_one(self, user: Any, pk: Any) -> ReviewMeeting:
        return selectors.meeting_get(user=acting_user(user), pk=pk)

    def get_serializer_class(self) -> Any:
        if self.action in ("retrieve", "update", "partial_update", "create"):
            return ReviewMeetingDetailSerializer
        return ReviewMeetingSerializer

    def may_create(self, user: Any) -> bool:
        return can_review(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> ReviewMeeting:
        data = dict(data)
        attendees = _attendees(data) or []
        return services.meeting_create(actor=acting_user(actor), attendees=attendees, **data)

    def may_update(self, user: Any, obj: ReviewMeeting) -> bool:
        return can_review(user)

    def update_service(self, actor: Any, obj: ReviewMeeting, data: dict[str, Any]) -> ReviewMeeting:
        data = dict(data)
        attendees = _attendees(data)
        user = acting_user(actor)
        meeting = services.meeting_update(
            actor=user, meeting=obj, expected_version=self.expected_version(obj.version), **data
        )
        if attendees is not None:
            services.attendees_set(actor=user, meeting=meeting, attendees=attendees)
        return meeting

    @extend_schema(request=ReviewMeetingSerializer, responses={201: ReviewMeetingDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=ReviewMeetingSerializer,
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: ReviewMeetingDetailSerializer, 412: precondition_failed_response()},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=ReviewMeetingSerializer,
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: ReviewMeetingDetailSerializer, 412: precondition_failed_response()},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)

    @extend_schema(parameters=[etag_parameter([200])], responses={200: ReviewMeetingDetailSerializer})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=ReviewAgendaAddSerializer, responses={200: ReviewItemSerializer(many=True)})
    @action(detail=True, methods=["post"], serializer_class=ReviewAgendaAddSerializer)
    def agenda(self, request: Request, pk: str | None = None) -> Response:
        """Put visible, unmerged requirements on the agenda (those already on it stay); answers the agenda."""
        meeting = self.get_object()
        deny_unless(can_review(request.user), str(DENIED))
        serializer = ReviewAgendaAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.agenda_add(
            actor=acting_user(request.user), meeting=meeting, requirement_ids=serializer.validated_data["requirements"]
        )
        fresh = self.select_one(request.user, meeting.pk)
        return Response(ReviewItemSerializer(fresh.visible_items, many=True).data)  # type: ignore[attr-defined]

    def _minutes(self, meeting: ReviewMeeting) -> Response:
        body = {
            "solution": meeting.solution,
            "summary": meeting.summary,
            "version": meeting.version,
            "agenda": getattr(meeting, "visible_items", []),
        }
        return self.with_etag(Response(ReviewMinutesSerializer(body).data), meeting.version)

    @extend_schema(methods=["GET"], parameters=[etag_parameter([200])], responses={200: ReviewMinutesSerializer})
    @extend_schema(
        methods=["PUT"],
        request=ReviewMinutesSerializer,
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: ReviewMinutesSerializer, 412: precondition_failed_response()},
    )
    @action(detail=True, methods=["get", "put"], serializer_class=ReviewMinutesSerializer)
    def minutes(self, request: Request, pk: str | None = None) -> Response:
        """The minutes 评审纪要; PUT changes the fields it sends (items: those listed)."""
        meeting = self.get_object()
        if request.method == "PUT":
            deny_unless(can_review(request.user), str(DENIED))
            serializer = ReviewMinutesSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = dict(serializer.validated_data)
            services.minutes_update(
                actor=acting_user(request.user),
                meeting=meeting,
                expected_version=self.expected_version(meeting.version),
                solution=data.get("solution"),
                summary=data.get("summary"),
                items=[dict(row) for row in data.get("items", [])],
            )
            meeting = self.select_one(request.user, meeting.pk)
        return self._minutes(meeting)


@extend_schema(tags=TAGS)
class AgendaItemViewSet(mixins.RetrieveModelMixin, SelectorViewSet):
    """Agenda items 评审议题: one requirement on a meeting's agenda and the decision on it."""

    model = AgendaItem
    serializer_class = ReviewItemSerializer

    def select_list(self, user: Any) -> Any:
        from needpool.reviews.permissions import visible_items

        return visible_items(acting_user(user)).select_related(*selectors.ITEM_RELATED)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StaleVersion):
            body = {"detail": " ".join(str(m) for m in exc.messages), "version": exc.current_version}
            return Response(body, status=status.HTTP_409_CONFLICT)
        return super().handle_exception(exc)

    @extend_schema(
        request=ReviewDecideSerializer,
        responses={
            200: ReviewItemSerializer,
            409: OpenApiResponse(
                ReviewConflictSerializer,
                description=gettext_lazy("他人已在您读取之后决策或修改了该议题；未做任何修改。"),
            ),
        },
    )
    @action(detail=True, methods=["post"], serializer_class=ReviewDecideSerializer)
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Record the decision (拒绝 needs a reason, 需修改 what must change, 暂缓 a revisit date; 通过 may name
        an iteration); the requirement moves through its workflow, or nothing is saved and the refusal is the
        400 message."""
        item = self.get_object()
        deny_unless(can_review(request.user), _("只有经理和产品经理可以记录评审决策。"))
        serializer = ReviewDecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        services.decide(
            actor=acting_user(request.user),
            item=item,
            decision=data["decision"],
            note=data.get("note", ""),
            revisit_date=data.get("revisit_date"),
            iteration=data.get("iteration"),
            expected_version=data.get("version"),
        )
        return Response(ReviewItemSerializer(self.select_one(request.user, item.pk)).data)


router = SimpleRouter()
router.register("reviews/meetings", MeetingViewSet, basename="review-meeting")
router.register("reviews/items", AgendaItemViewSet, basename="review-item")

urlpatterns = router.urls

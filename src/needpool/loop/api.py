"""REST API of closing the loop (included under /api/v1/): customer notices (read), release notes, NPS
campaigns with their results, and CSAT results per requirement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless
from needpool.core.schema import NamedChoiceField
from needpool.core.validation import BoundedModelSerializer
from needpool.customers.choices import Segment, ValueTier
from needpool.loop import permissions, selectors, services
from needpool.loop.models import CustomerNotice, NpsCampaign, ReleaseNote
from needpool.loop.permissions import acting_user
from needpool.requirements.models import Requirement

TAGS = ["loop"]


class RejectUnknownFields:
    """Input serializers: an unknown key is a 400 naming it, not silently ignored."""

    initial_data: Any
    fields: Any

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, Mapping):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return attrs


# ---------------------------------------------------------------- notices (read)


class NoticeSerializer(BoundedModelSerializer):
    """One notice to someone who asked for a requirement; ``recipient`` is the mail address (or a user id)."""

    requirement_code = serializers.CharField(source="requirement.code", read_only=True)
    mail_status = serializers.SerializerMethodField()

    class Meta:
        model = CustomerNotice
        fields = [
            "id",
            "requirement",
            "requirement_code",
            "event",
            "channel",
            "recipient",
            "recipient_name",
            "customer",
            "status",
            "mail_status",
            "created_at",
        ]
        read_only_fields = fields

    def get_mail_status(self, obj: CustomerNotice) -> str:
        return obj.mail.status if obj.mail is not None else ""


@extend_schema(tags=TAGS)
class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Notices sent to the people who asked for requirements the caller sees (newest first)."""

    model = CustomerNotice
    serializer_class = NoticeSerializer

    def select_list(self, user: Any) -> Any:
        return selectors.notice_list(user=user)


# ---------------------------------------------------------------- release notes


class ReleaseNoteSerializer(RejectUnknownFields, BoundedModelSerializer):
    """A changelog entry; drafted when a requirement launches, public on the portal once published."""

    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)
    version = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1)

    class Meta:
        model = ReleaseNote
        fields = ["id", "requirement", "title", "body", "is_public", "published_at", "version", "created_at"]
        read_only_fields = ["requirement", "published_at", "created_at"]


class PublishSerializer(RejectUnknownFields, serializers.Serializer):
    publish = serializers.BooleanField(help_text=gettext_lazy("true 发布到门户，false 撤下"))


@extend_schema(tags=TAGS)
class ReleaseNoteViewSet(
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    SelectorViewSet,
):
    """Release notes (更新日志) for people who close the loop. No DELETE: withdraw with ``publish``."""

    model = ReleaseNote
    serializer_class = ReleaseNoteSerializer
    create_denied = gettext_lazy("只有经理、产品经理和管理员可以编写更新日志。")
    update_denied = create_denied

    def select_list(self, user: Any) -> Any:
        deny_unless(permissions.can_close_loop(user), str(self.create_denied))
        return selectors.release_note_list(user=user)

    def may_create(self, user: Any) -> bool:
        return permissions.can_close_loop(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> ReleaseNote:
        data = {k: v for k, v in data.items() if k != "version"}
        return services.release_note_create(actor=acting_user(actor), **data)

    def may_update(self, user: Any, obj: ReleaseNote) -> bool:
        return permissions.can_close_loop(user)

    def update_service(self, actor: Any, obj: ReleaseNote, data: dict[str, Any]) -> ReleaseNote:
        return services.release_note_update(actor=acting_user(actor), note=obj, **data)

    @extend_schema(request=PublishSerializer, responses=ReleaseNoteSerializer)
    @action(detail=True, methods=["post"], serializer_class=PublishSerializer)
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Publish the note on the portal's changelog, or withdraw it."""
        note = self.get_object()
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.release_note_publish(
            actor=acting_user(request.user), note=note, publish=serializer.validated_data["publish"]
        )
        fresh = self.select_one(request.user, note.pk)
        return Response(ReleaseNoteSerializer(fresh, context={"request": request}).data)


# ---------------------------------------------------------------- NPS campaigns


class CampaignSerializer(RejectUnknownFields, BoundedModelSerializer):
    """An NPS campaign: the customers it asks (segments and value tiers; empty = all) and its progress."""

    segments = serializers.ListField(
        child=NamedChoiceField(Segment.choices, enum_name="SegmentEnum"), required=False, max_length=10
    )
    value_tiers = serializers.ListField(
        child=NamedChoiceField(ValueTier.choices, enum_name="ValueTierEnum"), required=False, max_length=10
    )
    question = serializers.CharField(max_length=300, required=False, allow_blank=True)
    invited = serializers.IntegerField(read_only=True)
    answered = serializers.IntegerField(read_only=True)

    class Meta:
        model = NpsCampaign
        fields = [
            "id",
            "name",
            "segments",
            "value_tiers",
            "question",
            "status",
            "started_at",
            "invited",
            "answered",
            "created_at",
        ]
        read_only_fields = ["status", "started_at", "created_at"]


class NpsCommentSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    comment = serializers.CharField()
    customer = serializers.CharField(allow_null=True)
    answered_at = serializers.DateTimeField()


class NpsResultSerializer(serializers.Serializer):
    """NPS = % promoters (9–10) − % detractors (0–6); ``nps`` is null before the first answer."""

    invited = serializers.IntegerField()
    answered = serializers.IntegerField()
    promoters = serializers.IntegerField()
    passives = serializers.IntegerField()
    detractors = serializers.IntegerField()
    nps = serializers.FloatField(allow_null=True)
    comments = NpsCommentSerializer(many=True)


@extend_schema(tags=TAGS)
class CampaignViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """NPS campaigns by customer segment, for people who close the loop."""

    model = NpsCampaign
    serializer_class = CampaignSerializer
    create_denied = gettext_lazy("只有经理、产品经理和管理员可以发起 NPS 调查。")

    def select_list(self, user: Any) -> Any:
        deny_unless(permissions.can_close_loop(user), str(self.create_denied))
        return selectors.campaign_list(user=user)

    def may_create(self, user: Any) -> bool:
        return permissions.can_close_loop(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> NpsCampaign:
        return services.nps_campaign_create(actor=acting_user(actor), **data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"], serializer_class=CampaignSerializer)
    def start(self, request: Request, pk: str | None = None) -> Response:
        """Start sending the invitations (once; a second start is a 400)."""
        campaign = self.get_object()
        services.nps_campaign_start(actor=acting_user(request.user), campaign=campaign)
        return self.respond_with(campaign)

    @extend_schema(responses=NpsResultSerializer)
    @action(detail=True, methods=["get"], serializer_class=NpsResultSerializer)
    def results(self, request: Request, pk: str | None = None) -> Response:
        """The campaign's NPS, its promoters / passives / detractors and the latest 200 comments."""
        campaign = self.get_object()
        result = selectors.nps_for_campaign(campaign)
        comments = [
            {
                "score": a.score,
                "comment": a.comment,
                "customer": a.customer.name if a.customer else None,
                "answered_at": a.answered_at,
            }
            for a in selectors.campaign_answers(campaign).exclude(comment="")[:200]
        ]
        data = {
            "invited": campaign.invited,
            "answered": result.total,
            "promoters": result.promoters,
            "passives": result.passives,
            "detractors": result.detractors,
            "nps": result.nps,
            "comments": comments,
        }
        return Response(NpsResultSerializer(data).data)


# ---------------------------------------------------------------- CSAT results


class CsatSerializer(serializers.ModelSerializer):
    """Satisfaction of one requirement: invitations, answers, share of 4–5 (%) and the average (1–5)."""

    invited = serializers.IntegerField(source="csat_invited")
    answered = serializers.IntegerField(source="csat_answered")
    satisfied_percent = serializers.SerializerMethodField()
    average = serializers.SerializerMethodField()

    class Meta:
        model = Requirement
        fields = ["id", "code", "title", "invited", "answered", "satisfied_percent", "average"]
        read_only_fields = fields

    def get_satisfied_percent(self, obj: Any) -> int | None:
        return round(100 * obj.csat_satisfied / obj.csat_answered) if obj.csat_answered else None

    def get_average(self, obj: Any) -> float | None:
        return None if obj.csat_average is None else round(float(obj.csat_average), 2)


@extend_schema_view(
    list=extend_schema(summary="CSAT per requirement"), retrieve=extend_schema(summary="CSAT of one requirement")
)
@extend_schema(tags=TAGS)
class CsatViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """CSAT results of the requirements the caller sees that had surveys (the id is the requirement's)."""

    model = Requirement
    serializer_class = CsatSerializer

    def select_list(self, user: Any) -> Any:
        return selectors.csat_requirements(user=user)


router = SimpleRouter()
router.register("loop/notices", NoticeViewSet, basename="loop-notice")
router.register("loop/release-notes", ReleaseNoteViewSet, basename="loop-release-note")
router.register("loop/nps-campaigns", CampaignViewSet, basename="loop-nps-campaign")
router.register("loop/csat", CsatViewSet, basename="loop-csat")

urlpatterns = router.urls

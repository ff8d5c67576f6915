"""REST API v1 for the pool: requirements, feedback, classification options and workflow statuses.

Thin edges only: every read goes through ``requirements.selectors`` (permission-scoped, 404 for what
the caller may not see), every write through ``requirements.services``. Permission checks that the
services repeat are done up front with ``requirements.permissions`` so that a caller without the
right gets 403 before any input error.

No DELETE is offered: requirements and feedback are the evidence trail of the pool and there is no
delete use-case in the services (a requirement leaves the pool by being rejected or closed).
Feedback has no update either; it is linked to a requirement when the requirement is created.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import User, acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless, scoped
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_write_customer
from needpool.customers.selectors import contact_list, customer_list, interaction_get
from needpool.requirements.choices import Channel, Dimension
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.merging.selectors import watchers_count_subquery
from needpool.requirements.models import (
    NOTE_MAX_LENGTH,
    ClassOption,
    Comment,
    Feedback,
    Requirement,
    StatusChange,
    WorkflowStatus,
    WorkflowTransition,
)
from needpool.requirements.permissions import (
    can_comment,
    can_create_requirement,
    can_edit_requirement,
    can_transition_requirement,
    can_write_feedback,
)
from needpool.requirements.selectors import (
    feedback_get,
    feedback_list,
    options,
    requirement_get,
    requirement_list,
)
from needpool.requirements.services import (
    active_workflow,
    comment_create,
    feedback_create,
    feedback_from_interaction_ask,
    requirement_create,
    requirement_transition,
    requirement_update,
)

# ---------------------------------------------------------------- fields


class OptionField(serializers.SlugRelatedField):
    """A classification option of one dimension: its key on input, ``{"key", "label"}`` on output."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("选项“{value}”不存在或已停用。"),
        "invalid": gettext_lazy("无效的选项。"),
    }

    def __init__(self, dimension: str = "", **kwargs: Any) -> None:
        self.dimension = dimension
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", ClassOption.objects.filter(dimension=dimension, is_active=True))
        kwargs.setdefault("slug_field", "key")
        super().__init__(**kwargs)

    def to_representation(self, obj: ClassOption) -> dict[str, str]:  # type: ignore[override]
        return {"key": obj.key, "label": str(obj)}


class OptionFieldExtension(OpenApiSerializerFieldExtension):
    target_class = OptionField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        if direction == "request":
            schema = build_basic_type(OpenApiTypes.STR)
            assert schema is not None
            schema["description"] = str(gettext_lazy("选项的键（见 /api/v1/options/?dimension=…）"))
            return schema
        return build_object_type(
            properties={"key": build_basic_type(OpenApiTypes.STR), "label": build_basic_type(OpenApiTypes.STR)},
            required=["key", "label"],
        )


class TagKeyField(serializers.SlugRelatedField):
    """A tag by its key. Lists pass ``tag_keys`` (pk → key) in the context: the list selector's tag
    prefetch loads only ids and labels, and reading ``key`` from it would cost a query per tag."""

    default_error_messages = {
        "does_not_exist": gettext_lazy("标签“{value}”不存在或已停用。"),
        "invalid": gettext_lazy("无效的标签。"),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", ClassOption.objects.filter(dimension=Dimension.TAG, is_active=True))
        kwargs.setdefault("slug_field", "key")
        super().__init__(**kwargs)

    def to_representation(self, obj: ClassOption) -> str:  # type: ignore[override]
        keys = self.context.get("tag_keys")
        if keys and obj.pk in keys:
            return str(keys[obj.pk])
        return obj.key


# ---------------------------------------------------------------- small read serializers


class StatusBriefSerializer(serializers.Serializer):
    key = serializers.CharField(read_only=True)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]

    def get_label(self, obj: WorkflowStatus) -> str:
        return str(obj)


class CustomerBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class OptionSerializer(serializers.ModelSerializer):
    """A classification option; ``key`` is what requirement input fields take, ``id`` what list filters take."""

    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    name = serializers.CharField(source="label", read_only=True)
    parent: serializers.SlugRelatedField[ClassOption] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True
    )

    class Meta:
        model = ClassOption
        fields = [
            "id",
            "dimension",
            "key",
            "label",
            "name",
            "label_en",
            "parent",
            "sla_hours",
            "sort_order",
            "description",
        ]
        read_only_fields = fields

    def get_label(self, obj: ClassOption) -> str:
        return str(obj)


class WorkflowStatusSerializer(serializers.ModelSerializer):
    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    name = serializers.CharField(source="label", read_only=True)
    targets = serializers.SerializerMethodField()

    class Meta:
        model = WorkflowStatus
        fields = ["id", "key", "label", "name", "label_en", "category", "order", "is_initial", "targets"]
        read_only_fields = fields

    def get_label(self, obj: WorkflowStatus) -> str:
        return str(obj)

    def get_targets(self, obj: WorkflowStatus) -> list[str]:
        """Keys of the statuses this one may move to."""
        return list(self.context.get("targets", {}).get(obj.pk, []))


# ---------------------------------------------------------------- requirements


class RequirementSerializer(serializers.ModelSerializer):
    """A requirement; classification fields take option keys and return ``{"key", "label"}``."""

    url = serializers.HyperlinkedIdentityField(view_name="requirement-detail")
    type = OptionField(Dimension.TYPE, required=False, allow_null=True)
    urgency = OptionField(Dimension.URGENCY, required=False, allow_null=True)
    nature = OptionField(Dimension.NATURE, required=False, allow_null=True)
    source = OptionField(Dimension.SOURCE, required=False, allow_null=True)  # type: ignore[assignment]
    category = OptionField(Dimension.CATEGORY, required=False, allow_null=True)
    tags = TagKeyField(many=True, required=False)
    status = StatusBriefSerializer(read_only=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    customers = serializers.SerializerMethodField()
    merged_into: serializers.PrimaryKeyRelatedField[Requirement] = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text=gettext_lazy("已合并到的需求 id（未合并为 null）")
    )
    watchers_count = serializers.SerializerMethodField()

    class Meta:
        model = Requirement
        fields = [
            "id",
            "url",
            "code",
            "title",
            "description",
            "background",
            "concrete_ask",
            "expected_date",
            "type",
            "urgency",
            "nature",
            "source",
            "category",
            "tags",
            "status",
            "priority",
            "customer_value",
            "owner",
            "submitted_at",
            "first_response_due",
            "first_responded_at",
            "sla_breached",
            "customers",
            "merged_into",
            "watchers_count",
        ]
        read_only_fields = [
            "code",
            "customer_value",
            "submitted_at",
            "first_response_due",
            "first_responded_at",
            "sla_breached",
        ]

    @extend_schema_field(CustomerBriefSerializer(many=True))
    def get_customers(self, obj: Requirement) -> list[dict[str, Any]]:
        """Distinct customers behind the requirement's feedback, oldest evidence first."""
        items = getattr(obj, "evidence", None)
        if items is None:
            items = obj.feedback_items.all()  # prefetched with the customer by requirement_get
        seen: dict[int, dict[str, Any]] = {}
        for item in items:
            customer = item.customer if item.customer_id else None
            if customer is not None and customer.pk not in seen:
                seen[customer.pk] = {"id": customer.pk, "code": customer.code, "name": customer.name}
        return list(seen.values())

    def get_watchers_count(self, obj: Requirement) -> int:
        """How many users watch the requirement (notified when it is merged)."""
        counted = getattr(obj, "watchers_count", None)
        return int(counted) if counted is not None else len(obj.watchers.all())


class RequirementCreateSerializer(RequirementSerializer):
    """Create input: the requirement plus its evidence (a customer's words, or existing feedback ids)."""

    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.none(), required=False, allow_null=True, write_only=True
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True, write_only=True
    )
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SALES, write_only=True)
    feedback_text = serializers.CharField(required=False, allow_blank=True, max_length=5000, write_only=True)
    feedback = serializers.PrimaryKeyRelatedField(
        queryset=Feedback.objects.none(), many=True, required=False, write_only=True
    )

    class Meta(RequirementSerializer.Meta):
        fields = [*RequirementSerializer.Meta.fields, "customer", "contact", "channel", "feedback_text", "feedback"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        fields["contact"].queryset = scoped(self, contact_list, Contact)  # type: ignore[attr-defined]
        fields["feedback"].child_relation.queryset = scoped(self, feedback_list, Feedback)  # type: ignore[attr-defined]
        return fields


class TransitionSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=40, help_text=gettext_lazy("目标状态的键（见 /api/v1/statuses/）"))
    note = serializers.CharField(max_length=NOTE_MAX_LENGTH, required=False, allow_blank=True, default="")


class CommentSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "author", "author_name", "body", "mentions", "created_at"]
        read_only_fields = ["id", "author", "author_name", "mentions", "created_at"]
        extra_kwargs = {"body": {"max_length": 5000}}

    def get_author_name(self, obj: Comment) -> str:
        return str(obj.author) if obj.author_id else ""


class StatusChangeSerializer(serializers.ModelSerializer):
    source = StatusBriefSerializer(read_only=True, allow_null=True)  # type: ignore[assignment]
    target = StatusBriefSerializer(read_only=True)
    actor_name = serializers.SerializerMethodField()
    requirement_code = serializers.CharField(source="requirement.code", read_only=True)

    class Meta:
        model = StatusChange
        fields = ["id", "requirement_code", "source", "target", "actor", "actor_name", "note", "at"]
        read_only_fields = fields

    def get_actor_name(self, obj: StatusChange) -> str:
        return str(obj.actor) if obj.actor_id else ""


@extend_schema(tags=["requirements"])
class RequirementViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Requirements in the pool (需求).

    The list takes the same filters as the list page (``RequirementFilter``). Create, edit,
    status transitions and comments call the services; there is no DELETE (see the module docstring).
    """

    model = Requirement
    serializer_class = RequirementSerializer
    filterset_class = RequirementFilter
    create_denied = gettext_lazy("您没有创建需求的权限。")
    update_denied = gettext_lazy("您没有编辑该需求的权限。")

    def select_list(self, user: Any) -> Any:
        # The list selector defers long text and leaves three classification fields unjoined (the
        # page does not show them); the API returns them, so load them in the same query.
        return (
            requirement_list(user=user)
            .defer(None)
            .defer("search_text")
            .select_related("nature", "source", "category")
            .annotate(watchers_count=watchers_count_subquery())
        )

    def select_one(self, user: Any, pk: Any) -> Requirement:
        return requirement_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_create_requirement(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Requirement:
        return requirement_create(actor=actor, **data)

    def may_update(self, user: Any, obj: Requirement) -> bool:
        return can_edit_requirement(user, obj)

    def update_service(self, actor: Any, obj: Requirement, data: dict[str, Any]) -> Requirement:
        return requirement_update(actor=actor, requirement=obj, **data)

    @extend_schema(
        responses={
            200: RequirementSerializer,
            307: OpenApiResponse(description=gettext_lazy("该需求已合并：Location 指向保留需求，跟随即可。")),
        }
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One requirement. A merged one answers 307 to the requirement it was merged into."""
        from needpool.requirements.merging.api import merged_redirect_response

        requirement = self.get_object()
        onward = merged_redirect_response(request, requirement)
        if onward is not None:
            return onward
        return Response(self.get_serializer(requirement).data)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return RequirementCreateSerializer
        return RequirementSerializer

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if self.action == "list" and not self.building_schema:
            context["tag_keys"] = {o.pk: o.key for o in options(Dimension.TAG)}
        return context

    def respond_with(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        # Whatever the action (create takes another serializer), the answer is the requirement as read.
        fresh = self.select_one(self.request.user, obj.pk)
        return Response(RequirementSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=RequirementCreateSerializer, responses={201: RequirementSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=TransitionSerializer,
        responses={
            200: RequirementSerializer,
            400: OpenApiResponse(description=gettext_lazy('不允许的流转：{"to": ["…"]}')),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        """Move the requirement to another status of its flow (allowed moves and the standardisation gate)."""
        requirement = self.get_object()
        deny_unless(can_transition_requirement(request.user, requirement), _("您没有流转该需求状态的权限。"))
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        requirement_transition(actor=acting_user(request.user), requirement=requirement, **serializer.validated_data)
        return self.respond_with(requirement)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=CommentSerializer, filterset_class=None)
    def comments(self, request: Request, pk: str | None = None) -> Response:
        """The requirement's comments (oldest first); POST adds one (@username notifies that user)."""
        requirement = self.get_object()
        if request.method == "POST":
            deny_unless(can_comment(request.user, requirement))
            serializer = CommentSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            comment = comment_create(
                actor=acting_user(request.user), requirement=requirement, body=serializer.validated_data["body"]
            )
            return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(list(requirement.comments.all()))
        return self.get_paginated_response(CommentSerializer(page, many=True).data)

    @extend_schema(responses=StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=StatusChangeSerializer, filterset_class=None)
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Recorded status changes, newest first (who, when, from, to, note).

        A survivor of merges lists the merged requirements' changes too; ``requirement_code`` says whose line it is.
        """
        from needpool.requirements.merging.selectors import merged_descendants

        requirement = self.get_object()
        ids = [requirement.pk] + [r.pk for r in merged_descendants(requirement)]
        changes = (
            StatusChange.objects.filter(requirement_id__in=ids)
            .select_related("source", "target", "actor", "requirement")
            .order_by("-at", "-id")
        )
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(StatusChangeSerializer(page, many=True).data)


# ---------------------------------------------------------------- feedback


class FeedbackSerializer(serializers.ModelSerializer):
    """One customer's words from one channel (原始需求)."""

    url = serializers.HyperlinkedIdentityField(view_name="feedback-detail")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), required=False, allow_null=True)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    requirement = serializers.PrimaryKeyRelatedField(
        queryset=Requirement.objects.none(), required=False, allow_null=True
    )
    received_at = serializers.DateTimeField(required=False)

    class Meta:
        model = Feedback
        fields = [
            "id",
            "url",
            "customer",
            "contact",
            "channel",
            "raw_text",
            "received_at",
            "sentiment",
            "requirement",
            "interaction",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["interaction", "created_by", "created_at"]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        fields["contact"].queryset = scoped(self, contact_list, Contact)  # type: ignore[attr-defined]
        fields["requirement"].queryset = scoped(self, requirement_list, Requirement)  # type: ignore[attr-defined]
        return fields


class FeedbackFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=gettext_lazy("客户"))
    requirement = django_filters.NumberFilter(field_name="requirement_id", label=gettext_lazy("所属需求"))
    unlinked = django_filters.BooleanFilter(
        field_name="requirement", lookup_expr="isnull", label=gettext_lazy("未关联需求")
    )

    class Meta:
        model = Feedback
        fields: list[str] = []


@extend_schema(tags=["feedback"])
class FeedbackViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Feedback items (反馈). List, read and create only: no update or delete service exists.

    This is the staff side. ``/api/v1/feedback/`` is served by the intake app's subclass of it, which adds
    a collection channel's token and the ``Idempotency-Key`` to create (the pool knows nothing of channels).
    """

    model = Feedback
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    create_denied = gettext_lazy("您没有录入反馈的权限。")

    def select_list(self, user: Any) -> Any:
        return feedback_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Feedback:
        return feedback_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_write_feedback(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Feedback:
        return feedback_create(actor=actor, **data)


@extend_schema(tags=["interactions"])
class InteractionKeyAskFeedbackView(generics.GenericAPIView):
    """``POST /api/v1/interactions/{id}/key-asks/{index}/feedback/``: one key ask of a customer interaction
    becomes a feedback item. The interaction is read through ``customers.selectors`` (404 when not visible)."""

    serializer_class = FeedbackSerializer
    queryset = Interaction.objects.none()
    filterset_class = None

    @extend_schema(
        request=None,
        responses={201: FeedbackSerializer},
        parameters=[
            OpenApiParameter(
                "index", int, OpenApiParameter.PATH, description=gettext_lazy("key_ask_lines 中的序号（从 0 开始）")
            )
        ],
    )
    def post(self, request: Request, pk: str, index: str) -> Response:
        """Turn one key ask of the interaction into a feedback item (asking twice returns the same item)."""
        interaction = interaction_get(user=request.user, pk=pk)
        deny_unless(can_write_customer(request.user, interaction.customer), _("您没有维护该客户的权限。"))
        feedback = feedback_from_interaction_ask(
            actor=acting_user(request.user), interaction=interaction, index=int(index)
        )
        return Response(self.get_serializer(feedback).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------- discovery


class OptionFilter(django_filters.FilterSet):
    dimension = django_filters.ChoiceFilter(
        choices=Dimension.choices, method="filter_dimension", label=gettext_lazy("维度")
    )

    class Meta:
        model = ClassOption
        fields: list[str] = []

    def filter_dimension(self, queryset: Any, name: str, value: str) -> Any:
        return options(value).select_related("parent") if value else queryset


@extend_schema(tags=["options"])
class OptionViewSet(mixins.ListModelMixin, SelectorViewSet):
    """Active classification options (type, urgency, nature, source, category, tag), to discover keys."""

    model = ClassOption
    serializer_class = OptionSerializer
    filterset_class = OptionFilter

    def select_list(self, user: Any) -> Any:
        every = [options(d) for d in Dimension.values]
        combined = every[0]
        for qs in every[1:]:
            combined = combined | qs
        return combined.select_related("parent").order_by("dimension", "sort_order", "id")


@extend_schema(tags=["statuses"])
class StatusViewSet(mixins.ListModelMixin, SelectorViewSet):
    """Statuses of the active workflow in order, each with the keys it may move to."""

    model = WorkflowStatus
    serializer_class = WorkflowStatusSerializer
    filterset_class = None

    def _workflow(self) -> Any:
        if not hasattr(self, "_active_workflow"):
            self._active_workflow = active_workflow()
        return self._active_workflow

    def select_list(self, user: Any) -> Any:
        return self._workflow().statuses.order_by("order", "id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not self.building_schema:
            targets: dict[int, list[str]] = {}
            moves = (
                WorkflowTransition.objects.filter(workflow=self._workflow())
                .order_by("target__order", "target_id")
                .values_list("source_id", "target__key")
            )
            for source_id, key in moves:
                targets.setdefault(source_id, []).append(key)
            context["targets"] = targets
        return context

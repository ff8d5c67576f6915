"""Serializers of the pool's API: option fields (by key), requirements, transitions, comments, history, feedback."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from needpool.accounts.models import User
from needpool.core.api import scoped
from needpool.core.messages import past_date_warning
from needpool.core.validation import BoundedModelSerializer, DateTimeField
from needpool.customers.choices import ValueTier
from needpool.customers.models import Contact, Customer
from needpool.customers.selectors import contact_list, customer_list
from needpool.requirements.choices import Channel, Dimension
from needpool.requirements.models import (
    NOTE_MAX_LENGTH,
    ClassOption,
    Comment,
    Feedback,
    Requirement,
    StatusChange,
    WorkflowStatus,
)
from needpool.requirements.selectors import (
    feedback_list,
    requirement_list,
)
from needpool.requirements.services import EDITABLE_FIELDS

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


class OptionSerializer(BoundedModelSerializer):
    """A classification option; ``key`` is what requirement input fields take, ``id`` what list filters take."""

    label = serializers.SerializerMethodField()  # type: ignore[assignment]
    name = serializers.CharField(source="label", read_only=True)
    parent: serializers.SlugRelatedField[ClassOption] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="key", read_only=True, allow_null=True
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


class WorkflowStatusSerializer(BoundedModelSerializer):
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


class RequirementSerializer(BoundedModelSerializer):
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
        read_only=True, allow_null=True, help_text=gettext_lazy("已合并到的需求 id（未合并为 null）")
    )
    # Blank until the customers behind the requirement have a value tier.
    customer_value = serializers.ChoiceField(choices=ValueTier.choices, allow_blank=True, read_only=True)
    watchers_count = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField(
        help_text=gettext_lazy("提醒，不阻止保存：例如未关闭的需求期望时间已经过去")
    )

    class Meta:
        model = Requirement
        # The editable fields are the service's (requirements.services.EDITABLE_FIELDS): declared once.
        fields = [
            "id",
            "url",
            "code",
            *EDITABLE_FIELDS,
            "tags",
            "status",
            "customer_value",
            "submitted_at",
            "first_response_due",
            "first_responded_at",
            "sla_breached",
            "customers",
            "merged_into",
            "watchers_count",
            "rule_version",
            "warnings",
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

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_warnings(self, obj: Requirement) -> list[str]:
        """What the user should know but may keep: an expected date already past on an open requirement."""
        if obj.status_id and not obj.status.is_open:
            return []
        warning = past_date_warning(obj.expected_date, Requirement._meta.get_field("expected_date").verbose_name)
        return [warning] if warning else []

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


class CommentSerializer(BoundedModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "author", "author_name", "body", "mentions", "created_at"]
        read_only_fields = ["id", "author", "author_name", "mentions", "created_at"]
        extra_kwargs = {"body": {"max_length": 5000}}

    def get_author_name(self, obj: Comment) -> str:
        return str(obj.author) if obj.author_id else ""


class StatusChangeSerializer(BoundedModelSerializer):
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


class FeedbackSerializer(BoundedModelSerializer):
    """One customer's words from one channel (原始需求)."""

    url = serializers.HyperlinkedIdentityField(view_name="feedback-detail")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none(), required=False, allow_null=True)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    requirement = serializers.PrimaryKeyRelatedField(
        queryset=Requirement.objects.none(), required=False, allow_null=True
    )
    received_at = DateTimeField(required=False)
    notices = serializers.SerializerMethodField(
        help_text=gettext_lazy("本次保存的提示（如文字中的手机号码已按隐私规则隐藏）；读取时为空")
    )

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
            "notices",
        ]
        read_only_fields = ["interaction", "created_by", "created_at"]

    def get_notices(self, obj: Feedback) -> list[str]:
        return list(self.context.get("notices", []))

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        fields["contact"].queryset = scoped(self, contact_list, Contact)  # type: ignore[attr-defined]
        fields["requirement"].queryset = scoped(self, requirement_list, Requirement)  # type: ignore[attr-defined]
        return fields

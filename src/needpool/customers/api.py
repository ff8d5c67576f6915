"""REST API v1 for the light CRM: customers, contacts, interactions.

Reads go through ``customers.selectors`` (sales and service see only their own, their team's and
unowned customers; anything else is 404), writes through ``customers.services``. A caller without
the right to write gets 403 before any input error.

DELETE puts a customer (with its contacts) or a contact in the recycle bin (回收站): it leaves every list
and an admin can restore it within 30 days; a customer that still has feedback or interactions is refused
(400, with the reason). Interactions have neither update nor delete: they are history.
The privacy rule for contacts (no personal mobile numbers or mailboxes) is enforced by
``contact_create`` / ``contact_update``; its refusal comes back as 400 ``{"phone": […]}`` or
``{"email": […]}`` and nothing is written.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import User, acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless, scoped
from needpool.core.concurrency import (
    VersionedAPIMixin,
    if_match_parameter,
    precondition_failed_response,
    versioned_schema,
)
from needpool.core.validation import BoundedModelSerializer
from needpool.customers.filters import ContactFilter, CustomerFilter, InteractionFilter
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_write_customer
from needpool.customers.privacy import masking_notices
from needpool.customers.selectors import (
    contact_get,
    contact_list,
    customer_get,
    customer_list,
    interaction_get,
    interaction_list,
)
from needpool.customers.services import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    INTERACTION_FIELDS,
    contact_create,
    contact_delete,
    contact_update,
    customer_create,
    customer_delete,
    customer_update,
    interaction_create,
)

delete_schema = extend_schema(
    parameters=[if_match_parameter()],
    responses={
        204: OpenApiResponse(description=gettext_lazy("已移入回收站（管理员可在 30 天内恢复）。")),
        412: precondition_failed_response(),
    },
)

# ---------------------------------------------------------------- customers


class CustomerSerializer(BoundedModelSerializer):
    """A customer company (客户). ``code`` is assigned and ``value_tier`` derived from the yearly purchase."""

    url = serializers.HyperlinkedIdentityField(view_name="customer-detail")
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )

    class Meta:
        model = Customer
        # The writable fields are the service's (customers.services.CUSTOMER_FIELDS): declared once.
        fields = ["id", "url", "code", *CUSTOMER_FIELDS, "value_tier", "created_at", "updated_at"]
        read_only_fields = ["code", "value_tier", "created_at", "updated_at"]


@extend_schema(tags=["customers"])
@versioned_schema(CustomerSerializer)
class CustomerViewSet(
    VersionedAPIMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SelectorViewSet,
):
    """Customers (客户): list with ``q``, ``segment``, ``value_tier``, ``industry``; create; edit; DELETE into
    the recycle bin (with the customer's contacts).

    Answers carry ``ETag: W/"<version>"``; PUT / PATCH honour an optional ``If-Match`` (412 when stale).
    """

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter  # the list page's filters and sorts; an invalid value is a 400
    create_denied = gettext_lazy("您没有维护客户的权限。")
    update_denied = gettext_lazy("您没有维护该客户的权限。")

    def select_list(self, user: Any) -> Any:
        return customer_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Customer:
        return customer_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_write_customer(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Customer:
        return customer_create(actor=actor, **data)

    def may_update(self, user: Any, obj: Customer) -> bool:
        return can_write_customer(user, obj)

    def update_service(self, actor: Any, obj: Customer, data: dict[str, Any]) -> Customer:
        return customer_update(actor=actor, customer=obj, expected_version=self.expected_version(obj.version), **data)

    @delete_schema
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        customer = self.get_object()
        deny_unless(can_write_customer(request.user, customer), _("您没有删除该客户的权限。"))
        expected = self.expected_version(customer.version)
        customer_delete(actor=acting_user(request.user), customer=customer, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- contacts


class ContactSerializer(BoundedModelSerializer):
    """A person at a customer: work phone and work email only (privacy rule, checked by the service)."""

    url = serializers.HyperlinkedIdentityField(view_name="contact-detail")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())

    class Meta:
        model = Contact
        fields = ["id", "url", "customer", *CONTACT_FIELDS]

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        return fields

    def validate_customer(self, value: Customer) -> Customer:
        if self.instance is not None and value.pk != self.instance.customer_id:
            raise serializers.ValidationError(_("联系人所属客户不能修改。"))
        return value


@extend_schema(tags=["contacts"])
@versioned_schema(ContactSerializer)
class ContactViewSet(
    VersionedAPIMixin,
    ServiceCreateMixin,
    ServiceUpdateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    SelectorViewSet,
):
    """Contacts (联系人) of the customers the caller can see; filter with ``customer``. DELETE into the recycle bin.

    Answers carry ``ETag: W/"<version>"``; PUT / PATCH honour an optional ``If-Match`` (412 when stale).
    """

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    create_denied = gettext_lazy("您没有维护客户的权限。")
    update_denied = gettext_lazy("您没有维护该客户的权限。")

    def select_list(self, user: Any) -> Any:
        return contact_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Contact:
        return contact_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_write_customer(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Contact:
        data = dict(data)
        return contact_create(actor=actor, customer=data.pop("customer"), **data)

    def may_update(self, user: Any, obj: Contact) -> bool:
        return can_write_customer(user, obj.customer)

    def update_service(self, actor: Any, obj: Contact, data: dict[str, Any]) -> Contact:
        data = dict(data)
        data.pop("customer", None)  # a contact stays with its customer (the serializer refuses a change)
        return contact_update(actor=actor, contact=obj, expected_version=self.expected_version(obj.version), **data)

    @delete_schema
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        contact = self.get_object()
        deny_unless(can_write_customer(request.user, contact.customer), _("您没有删除该联系人的权限。"))
        expected = self.expected_version(contact.version)
        contact_delete(actor=acting_user(request.user), contact=contact, expected_version=expected)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- interactions


class InteractionSerializer(BoundedModelSerializer):
    """One contact with a customer (互动记录); ``is_late`` is set when entered after the allowed hours."""

    url = serializers.HyperlinkedIdentityField(view_name="interaction-detail")
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.none())
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.none(), required=False, allow_null=True)
    key_ask_lines = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=gettext_lazy("关键诉求，每项一条；POST …/key-asks/{index}/feedback/ 可将其转为反馈"),
    )
    notices = serializers.SerializerMethodField(
        help_text=gettext_lazy("本次保存的提示（如文字中的手机号码已按隐私规则隐藏）；读取时为空")
    )

    class Meta:
        model = Interaction
        fields = [
            "id",
            "url",
            "customer",
            *INTERACTION_FIELDS,
            "key_ask_lines",
            "is_late",
            "recorded_by",
            "created_at",
            "notices",
        ]
        read_only_fields = ["is_late", "recorded_by", "created_at"]

    def get_notices(self, obj: Interaction) -> list[str]:
        return list(self.context.get("notices", []))

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["customer"].queryset = scoped(self, customer_list, Customer)  # type: ignore[attr-defined]
        fields["contact"].queryset = scoped(self, contact_list, Contact)  # type: ignore[attr-defined]
        return fields


@extend_schema(tags=["interactions"])
class InteractionViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Interactions (互动记录): list, read, create, and turn a key ask into feedback. No edit or DELETE."""

    # Turning a key ask into feedback (POST …/{id}/key-asks/{index}/feedback/) is the pool's:
    # requirements.api.InteractionKeyAskFeedbackView, routed in needpool.api_v1.

    model = Interaction
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    create_denied = gettext_lazy("您没有维护客户的权限。")

    def select_list(self, user: Any) -> Any:
        return interaction_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Interaction:
        return interaction_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_write_customer(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Interaction:
        data = dict(data)
        interaction = interaction_create(actor=actor, customer=data.pop("customer"), **data)
        self.notices = masking_notices(interaction)  # answered in the created row's ``notices``
        return interaction

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "notices": getattr(self, "notices", [])}

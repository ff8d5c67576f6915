"""A contact's personal data over the API (PIPL requests), mounted under /api/v1/ by ``needpool.api_v1``.

- ``GET contacts/{id}/personal-data/``: a copy of everything kept about the person (个人信息副本);
- ``POST contacts/{id}/erase/`` with ``reason``: irreversible erasure (``customers.services.contact_erase``).

Both: 404 when the contact is not visible, 403 unless the caller may handle personal data requests
(``customers.permissions.can_manage_personal_data``: admin, manager, product manager).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import deny_unless
from needpool.customers.models import Contact
from needpool.customers.permissions import can_manage_personal_data
from needpool.customers.selectors import contact_erasure_entry, contact_get, contact_personal_data
from needpool.customers.services import ERASE_REASON_MAX_LENGTH, contact_erase

DENIED = gettext_lazy("只有管理员或经理可以导出或删除联系人的个人信息。")


class EraseRequestSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        max_length=ERASE_REASON_MAX_LENGTH,
        help_text=gettext_lazy("删除原因（必填），如：本人于 2024-05-01 书面要求删除"),
    )


class ErasedContactSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text=gettext_lazy("删除后的名称：已删除联系人 #<id>"))
    erased_at = serializers.DateTimeField()
    erased_by = serializers.CharField()
    reason = serializers.CharField()


class ContactPersonalDataView(generics.GenericAPIView):
    """``GET /api/v1/contacts/{id}/personal-data/``: the copy of a contact's personal data (JSON)."""

    queryset = Contact.objects.none()
    filterset_class = None
    pagination_class = None

    @extend_schema(tags=["contacts"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, id: int) -> Response:
        """Everything kept about the contact: contact fields, their interactions, feedback, portal submissions."""
        contact = contact_get(user=request.user, pk=id)
        deny_unless(can_manage_personal_data(request.user, contact.customer), str(DENIED))
        response = Response(contact_personal_data(user=request.user, pk=id))
        response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}-personal-data.json"'
        response["Cache-Control"] = "private, no-store"
        return response


class ContactEraseView(generics.GenericAPIView):
    """``POST /api/v1/contacts/{id}/erase/``: erase the contact's personal data; a reason is required."""

    queryset = Contact.objects.none()
    serializer_class = EraseRequestSerializer
    filterset_class = None
    pagination_class = None

    @extend_schema(tags=["contacts"], request=EraseRequestSerializer, responses={200: ErasedContactSerializer})
    def post(self, request: Request, id: int) -> Response:
        """Irreversible: the contact becomes "已删除联系人 #<id>" and every record about them is scrubbed."""
        contact = contact_get(user=request.user, pk=id)
        deny_unless(can_manage_personal_data(request.user, contact.customer), str(DENIED))
        serializer = EraseRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        erased = contact_erase(
            actor=acting_user(request.user), contact=contact, reason=serializer.validated_data["reason"]
        )
        entry = contact_erasure_entry(erased)
        if entry is None:  # pragma: no cover - the service writes it in the same transaction
            raise serializers.ValidationError(_("删除未完成。"))
        body = {
            "id": erased.pk,
            "name": erased.name,
            "erased_at": entry.at,
            "erased_by": str(entry.actor or ""),
            "reason": entry.changes.get("reason", ""),
        }
        return Response(ErasedContactSerializer(body).data, status=status.HTTP_200_OK)


urlpatterns: list[URLPattern] = [
    path("contacts/<id:id>/personal-data/", ContactPersonalDataView.as_view(), name="contact-personal-data"),
    path("contacts/<id:id>/erase/", ContactEraseView.as_view(), name="contact-erase"),
]

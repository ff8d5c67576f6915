"""The contact page and its personal-data actions (PIPL): download a copy, erase on request.

Thin: the copy is ``customers.selectors.contact_personal_data``, the erasure ``customers.services.contact_erase``;
who may do either is ``customers.permissions.can_manage_personal_data``.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors
from needpool.customers.models import Contact
from needpool.customers.permissions import can_manage_personal_data
from needpool.customers.selectors import contact_erasure_entry, contact_get, contact_personal_data
from needpool.customers.services import ERASE_REASON_MAX_LENGTH, contact_erase


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("删除原因"),
        max_length=ERASE_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("必填，将记入审计日志，如：本人于 2024-05-01 书面要求删除"),
    )
    confirm = forms.BooleanField(label=gettext_lazy("我已确认：删除后无法恢复"))


def _page(request: HttpRequest, contact: Contact, form: EraseForm | None = None, status: int = 200) -> HttpResponse:
    context = {
        "contact": contact,
        "customer": contact.customer,
        "erasure": contact_erasure_entry(contact),
        "may_manage": can_manage_personal_data(request.user, contact.customer),
        "erase_form": form or EraseForm(),
        "open_dialog": form is not None,
    }
    return render(request, "customers/contact.html", context, status=status)


def contact_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, contact_get(user=request.user, pk=pk))


def contact_personal_data_download(request: HttpRequest, pk: int) -> HttpResponse:
    copy = contact_personal_data(user=request.user, pk=pk)
    response = HttpResponse(
        json.dumps(copy, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{int(pk)}-personal-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def contact_erase_page(request: HttpRequest, pk: int) -> HttpResponse:
    contact = contact_get(user=request.user, pk=pk)
    if not can_manage_personal_data(request.user, contact.customer):
        raise PermissionDenied(_("只有管理员或经理可以导出或删除联系人的个人信息。"))
    form = EraseForm(request.POST)
    if form.is_valid():
        try:
            erased = contact_erase(actor=acting_user(request.user), contact=contact, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("联系人的个人信息已删除，现显示为“%(name)s”。") % {"name": erased.name})
            return redirect("customers:contact", pk=erased.pk)
    return _page(request, contact, form, status=400)

"""Customer pages: list, create / edit, and the detail page with contacts, interactions and their asks.

The detail page's feedback and requirements are the pool's: the page loads them from
``requirements.customer_views.customer_pool`` with htmx, and the key asks' "转为反馈" buttons post to
``requirements.customer_views.ask_to_feedback``. This app does not import the pool.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.accounts.roles import Cap
from needpool.core.concurrency import StaleVersion, versioned_edit
from needpool.core.permissions import user_can
from needpool.core.validation import parse_id
from needpool.core.views import add_service_errors, paginate
from needpool.customers.filters import CustomerFilter
from needpool.customers.forms import ContactForm, CustomerForm, InteractionForm, customer_filter_args
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import can_write_customer
from needpool.customers.privacy import masking_notices
from needpool.customers.selectors import (
    customer_contacts,
    customer_get,
    customer_interactions,
    customer_list,
)
from needpool.customers.services import contact_create, customer_create, customer_update, interaction_create

DETAIL_LIMIT = 50


def _ask_rows(interaction: Interaction) -> list[dict[str, Any]]:
    """Each key-ask line with its index and the feedback it already became (prefetched), if any."""
    done = {item.raw_text: item for item in interaction.feedback.all()}
    return [
        {"index": index, "text": text, "feedback": done.get(text)}
        for index, text in enumerate(interaction.key_ask_lines())
    ]


def _detail_context(
    request: HttpRequest,
    customer: Customer,
    contact_form: ContactForm | None = None,
    interaction_form: InteractionForm | None = None,
) -> dict[str, Any]:
    user = request.user
    interactions = list(customer_interactions(customer, limit=DETAIL_LIMIT))
    for interaction in interactions:
        interaction.ask_rows = _ask_rows(interaction)  # type: ignore[attr-defined]
    return {
        "customer": customer,
        "contacts": list(customer_contacts(customer)),
        "interactions": interactions,
        "detail_limit": DETAIL_LIMIT,
        "can_write": can_write_customer(user, customer),
        "can_create_requirement": user_can(user, Cap.REQUIREMENT_CREATE),
        "contact_form": contact_form or ContactForm(),
        "interaction_form": interaction_form
        or InteractionForm(
            customer=customer, initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)}
        ),
        "today": timezone.localdate(),
    }


def _require_write(request: HttpRequest, customer: Customer | None = None) -> None:
    """Refuse before validating input, so a read-only user gets 403 whatever they post."""
    if not can_write_customer(request.user, customer):
        raise PermissionDenied(_("您没有维护该客户的权限。"))


def _detail_url(pk: int, anchor: str = "") -> str:
    return reverse("customers:detail", args=[pk]) + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------- pages


def customer_list_page(request: HttpRequest) -> HttpResponse:
    form = CustomerFilter(request.GET or None, queryset=Customer.objects.none()).form
    page = paginate(request, customer_list(user=request.user, **customer_filter_args(request.GET)))
    context = {
        "page_obj": page,
        "rows": page.object_list,
        "filter_form": form,
        "has_filters": any(request.GET.get(name) for name in ("q", "segment", "value_tier")),
        "can_create": can_write_customer(request.user),
    }
    return render(request, "customers/list.html", context)


def customer_create_page(request: HttpRequest) -> HttpResponse:
    _require_write(request)
    form = CustomerForm(request.POST or None, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if data.get("owner") is None:
            data.pop("owner")  # the service makes the creator the owner
        try:
            customer = customer_create(actor=acting_user(request.user), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("客户 %(code)s 已创建。") % {"code": customer.code})
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "is_create": True})


def customer_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a customer: only the fields this user changed are saved; a form opened before someone else saved is
    merged when the changes do not overlap, otherwise the page shows the differences (``core.concurrency``)."""
    data = request.POST if request.method == "POST" else None
    for _attempt in range(3):
        customer = customer_get(user=request.user, pk=pk)
        _require_write(request, customer)
        edit = versioned_edit(data, form_class=CustomerForm, instance=customer)
        if not edit.ready:
            break
        if not edit.fields:
            messages.info(request, _("没有需要保存的修改。"))
            return redirect("customers:detail", pk=customer.pk)
        cleaned = edit.form.service_data()  # type: ignore[attr-defined]
        try:
            customer_update(
                actor=acting_user(request.user),
                customer=customer,
                expected_version=edit.expected_version,
                **{name: cleaned[name] for name in edit.fields},
            )
        except StaleVersion:
            continue  # changed again meanwhile: compare with the newest version
        except ValidationError as exc:
            add_service_errors(edit.form, exc)
            break
        if edit.expected_version is not None and edit.expected_version != edit.form.cleaned_data.get("version"):
            message = _("客户 %(code)s 已保存：他人在此期间修改了其他字段，已一并保留。")
        else:
            message = _("客户 %(code)s 已保存。")
        messages.success(request, message % {"code": customer.code})
        return redirect("customers:detail", pk=customer.pk)
    context = {"form": edit.form, "is_create": False, "customer": customer, "conflicts": edit.conflicts}
    return render(request, "customers/form.html", context, status=409 if edit.conflicts else 200)


def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    return render(request, "customers/detail.html", _detail_context(request, customer))


def contact_options(request: HttpRequest) -> HttpResponse:
    """<option>s of one customer's contacts, for the requirement form's contact select (htmx)."""
    raw = request.GET.get("customer", "").strip()
    contacts: list[Contact] = []
    token = raw.split()[0] if raw else ""
    if (pk := parse_id(token)) is not None:
        contacts = list(customer_contacts(customer_get(user=request.user, pk=pk)))
    elif token:
        found = customer_list(user=request.user).filter(code=token.upper()).first()
        contacts = list(customer_contacts(found)) if found else []
    return render(request, "customers/_contact_options.html", {"contacts": contacts})


# ---------------------------------------------------------------- actions (POST)


@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    _require_write(request, customer)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            contact = contact_create(actor=acting_user(request.user), customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("联系人“%(name)s”已添加。") % {"name": contact.name})
            return redirect(_detail_url(customer.pk, "contacts"))
    return render(request, "customers/detail.html", _detail_context(request, customer, contact_form=form))


@require_POST
def interaction_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    _require_write(request, customer)
    form = InteractionForm(request.POST, customer=customer)
    if form.is_valid():
        try:
            interaction = interaction_create(actor=acting_user(request.user), customer=customer, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if interaction.is_late:
                messages.warning(request, _("互动记录已保存，但超过补录时限，已标记为“补录超时”。"))
            else:
                messages.success(request, _("互动记录已保存。"))
            for notice in masking_notices(interaction):
                messages.warning(request, notice)
            return redirect(_detail_url(customer.pk, f"interaction-{interaction.pk}"))
    return render(request, "customers/detail.html", _detail_context(request, customer, interaction_form=form))

"""Acceptance records and change requests of a requirement."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.audit import audit_for
from needpool.core.validation import parse_id
from needpool.core.views import add_service_errors, error_text, paginate
from needpool.customers.models import Contact
from needpool.delivery import permissions, selectors
from needpool.delivery.choices import ChangeStatus
from needpool.delivery.forms import AcceptanceForm, ChangeRequestForm, DecideForm, EvaluateForm, NoteForm
from needpool.delivery.models import ChangeRequest, Plan
from needpool.delivery.services import (
    acceptance_record,
    change_decide,
    change_evaluate,
    change_implement,
    change_request_create,
    change_tell,
    next_steps,
)
from needpool.requirements.selectors import requirement_get


def acceptance_create_page(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if not permissions.can_plan(request.user):
        raise permissions.deny(_("您没有记录验收的权限。"))
    plans = Plan.objects.filter(requirements=requirement).order_by("start_date", "id")
    customers = requirement.feedback_items.filter(customer__isnull=False).values("customer_id")
    contacts = (
        Contact.objects.filter(customer_id__in=customers).select_related("customer").order_by("customer_id", "id")
    )
    initial = {"accepted_at": timezone.localtime().replace(second=0, microsecond=0), "plan": plans.first()}
    form = AcceptanceForm(request.POST or None, initial=initial, plans=plans, contacts=contacts)
    if request.method == "POST" and form.is_valid():
        try:
            acceptance_record(actor=request.user, requirement=requirement, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("验收单已记录。"))
            return redirect("requirements:detail", pk=requirement.pk)
    return render(request, "delivery/acceptance_form.html", {"form": form, "requirement": requirement})


def change_create_page(request: HttpRequest, pk: int) -> HttpResponse:
    requirement = requirement_get(user=request.user, pk=pk)
    if not permissions.can_request_change(request.user, requirement):
        raise permissions.deny(_("您没有提出需求变更的权限。"))
    form = ChangeRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = change_request_create(actor=request.user, requirement=requirement, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("需求变更已提出。"))
            return redirect("delivery:change", pk=change.pk)
    return render(request, "delivery/change_form.html", {"form": form, "requirement": requirement})


def change_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    page = paginate(request, selectors.change_list(user=request.user, status=status))
    return render(
        request,
        "delivery/changes.html",
        {"page_obj": page, "changes": page.object_list, "statuses": ChangeStatus.choices, "status": status},
    )


def _change_field_label(name: str) -> str:
    try:
        return str(getattr(ChangeRequest._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


STEP_FORMS = {"evaluate": EvaluateForm, "decide": DecideForm, "implement": NoteForm, "tell": NoteForm}
STEP_ALLOWED = {
    "evaluate": permissions.can_evaluate_change,
    "decide": permissions.can_decide_change,
    "implement": permissions.can_implement_change,
    "tell": permissions.can_tell_change,
}


def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = selectors.change_get(user=request.user, pk=pk)
    steps = [
        {
            "key": step,
            "form": STEP_FORMS[step](prefix=step),
            "url": reverse(f"delivery:change_{step}", args=[change.pk]),
        }
        for step in next_steps(change.status)
        if STEP_ALLOWED[step](request.user, change)
    ]
    history = [
        {"entry": entry, "rows": [{**row, "label": _change_field_label(row["field"])} for row in entry.change_rows()]}
        for entry in audit_for(change, limit=50)
    ]
    context = {"change": change, "steps": steps, "history": history}
    return render(request, "delivery/change.html", context)


def change_step_page(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEP_FORMS or request.method != "POST":
        raise Http404
    change = selectors.change_get(user=request.user, pk=pk)
    form = STEP_FORMS[step](request.POST, prefix=step)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("delivery:change", pk=change.pk)
    version = parse_id(request.POST.get("version"))
    data = form.cleaned_data
    try:
        if step == "evaluate":
            change_evaluate(actor=request.user, change=change, expected_version=version, **data)  # type: ignore[arg-type]
        elif step == "decide":
            change_decide(actor=request.user, change=change, expected_version=version, **data)  # type: ignore[arg-type]
        elif step == "implement":
            change_implement(actor=request.user, change=change, expected_version=version, **data)  # type: ignore[arg-type]
        else:
            change_tell(actor=request.user, change=change, expected_version=version, **data)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("需求变更已更新。"))
    return redirect("delivery:change", pk=change.pk)

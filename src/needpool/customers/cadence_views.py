"""Pages of the follow-up cadence: the settings table (admins) and applying a customer's suggested segment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import add_service_errors, error_text
from needpool.customers.cadence import (
    MAX_INTERVAL_DAYS,
    MAX_SENIOR_VISIT_DAYS,
    NOTE_MAX_LENGTH,
    cadence_table,
    cadence_update,
    can_configure_cadence,
    customer_apply_suggested_segment,
)
from needpool.customers.choices import Segment
from needpool.customers.selectors import customer_get


class CadenceRowForm(forms.Form):
    interval_days = forms.IntegerField(label=gettext_lazy("跟进间隔（天）"), min_value=1, max_value=MAX_INTERVAL_DAYS)
    senior_visit_days = forms.IntegerField(
        label=gettext_lazy("高层拜访间隔（天）"), min_value=1, max_value=MAX_SENIOR_VISIT_DAYS, required=False
    )
    note = forms.CharField(label=gettext_lazy("跟进要点"), max_length=NOTE_MAX_LENGTH, required=False)


def cadence_settings(request: HttpRequest) -> HttpResponse:
    if not can_configure_cadence(request.user):
        raise PermissionDenied(_("只有管理员可以修改跟进节奏。"))
    table = cadence_table()
    data = request.POST if request.method == "POST" else None
    rows: list[dict[str, Any]] = [
        {
            "cadence": row,
            "form": CadenceRowForm(
                data,
                prefix=row.segment,
                initial={
                    "interval_days": row.interval_days,
                    "senior_visit_days": row.senior_visit_days,
                    "note": row.note,
                },
            ),
        }
        for row in table
    ]
    if data is not None and all(r["form"].is_valid() for r in rows):
        try:
            with transaction.atomic():  # the whole table or nothing
                for r in rows:
                    if r["form"].has_changed() or r["cadence"].pk is None:
                        cadence_update(
                            actor=acting_user(request.user), segment=r["cadence"].segment, **r["form"].cleaned_data
                        )
        except ValidationError as exc:
            for r in rows:
                add_service_errors(r["form"], exc)
                break
        else:
            messages.success(request, _("跟进节奏已保存，客户的下次跟进日期将在每日任务中按新节奏更新。"))
            return redirect("customers:cadence")
    return render(request, "customers/cadence.html", {"rows": rows, "segments": Segment})


@require_POST
def apply_segment(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_get(user=request.user, pk=pk)
    try:
        updated = customer_apply_suggested_segment(
            actor=acting_user(request.user), customer=customer, expected_segment=request.POST.get("segment") or None
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("客户分层已改为“%(label)s”。") % {"label": updated.get_segment_display()})
    return redirect("customers:detail", pk=customer.pk)

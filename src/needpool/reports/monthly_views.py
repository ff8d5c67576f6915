"""Monthly review pages: the months, one month's review with its conclusions, the mail schedule."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import acting_user
from needpool.core.concurrency import StaleVersion
from needpool.core.views import add_service_errors
from needpool.reports import monthly
from needpool.reports.forms import ConclusionsForm, ScheduleForm
from needpool.reports.models import MonthlyReview
from needpool.reports.services import (
    monthly_review_find,
    monthly_review_get_or_create,
    monthly_review_update,
    monthly_schedule,
    monthly_schedule_update,
)

RECENT_MONTHS = 12
PER_PAGE = 12


def recent_months(today: dt.date, count: int = RECENT_MONTHS) -> list[dt.date]:
    """This month and the ``count`` - 1 before it, newest first."""
    months = [monthly.month_start(today)]
    while len(months) < count:
        months.append(monthly.previous_month(months[-1]))
    return months


def monthly_list(request: HttpRequest) -> HttpResponse:
    monthly.require_read(request.user)
    today = timezone.localdate()
    written = MonthlyReview.objects.exclude(conclusions="").values_list("month", flat=True)
    months = sorted(set(recent_months(today)) | set(written), reverse=True)
    page = Paginator(months, PER_PAGE).get_page(request.GET.get("page"))
    rows = {
        r.month: r for r in MonthlyReview.objects.filter(month__in=list(page.object_list)).select_related("updated_by")
    }
    current = monthly.month_start(today)
    items = [
        {
            "month": m,
            "key": monthly.month_key(m),
            "label": monthly.month_label(m),
            "review": rows.get(m),
            "current": m == current,
        }
        for m in page.object_list
    ]
    context: dict[str, Any] = {"page_obj": page, "items": items, "may_write": monthly.can_write(request.user)}
    return render(request, "reports/monthly_list.html", context)


def _month_or_404(text: str) -> dt.date:
    try:
        return monthly.parse_month(text)
    except ValidationError as exc:
        raise Http404 from exc


def monthly_detail(request: HttpRequest, month: str) -> HttpResponse:
    monthly.require_read(request.user)
    start = _month_or_404(month)
    if monthly.month_key(start) != month:
        return redirect("reports:monthly_detail", month=monthly.month_key(start))
    may_write = monthly.can_write(request.user)
    review = monthly_review_find(start)
    form = ConclusionsForm(
        initial={"conclusions": review.conclusions if review else "", "version": review.version if review else 1}
    )
    conflict: MonthlyReview | None = None
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied(_("只有可分析需求的用户（经理、产品经理、管理员）可以修改月度复盘。"))
        form = ConclusionsForm(request.POST)
        if form.is_valid():
            actor = acting_user(request.user)
            try:
                row = monthly_review_get_or_create(actor=actor, month=start)
                monthly_review_update(
                    actor=actor,
                    review=row,
                    conclusions=form.cleaned_data["conclusions"],
                    version=form.cleaned_data.get("version"),
                )
            except StaleVersion as exc:
                conflict = monthly_review_find(start)
                # The next save is based on what is stored now: the writer has seen it on this page.
                data = request.POST.copy()
                data["version"] = str(exc.current_version)
                form = ConclusionsForm(data)
                form.is_valid()
                form.add_error(
                    None,
                    _("团队结论在您打开后已被他人修改，未保存。下面是当前保存的内容；确认后再次保存将以您的内容为准。"),
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("团队结论已保存。"))
                return redirect("reports:monthly_detail", month=monthly.month_key(start))
        review = monthly_review_find(start) if conflict is None else conflict
    report = monthly.build(start, acting_user(request.user))
    today = timezone.localdate()
    context: dict[str, Any] = {
        # The page shows the conclusions with their form; the document above it is everything else.
        "report": replace(report, sections=[s for s in report.sections if s.key != "conclusions"]),
        "review": review,
        "conflict": conflict,
        "form": form,
        "may_write": may_write,
        "month": start,
        "month_key": monthly.month_key(start),
        "export_query": {"month": monthly.month_key(start)},
        "month_label": monthly.month_label(start),
        "previous_key": monthly.month_key(monthly.previous_month(start)) if start > monthly.FIRST_MONTH else "",
        "next_key": monthly.month_key((start + dt.timedelta(days=32)).replace(day=1))
        if start < monthly.month_start(today)
        else "",
        "in_progress": start == monthly.month_start(today),
    }
    return render(request, "reports/monthly_detail.html", context)


def monthly_schedule_page(request: HttpRequest) -> HttpResponse:
    monthly.require_read(request.user)
    may_write = monthly.can_write(request.user)
    schedule = monthly_schedule()
    chosen = list(schedule.recipients.order_by("username")) if schedule.pk else []
    form = ScheduleForm(initial={"enabled": schedule.enabled, "recipients": [u.pk for u in chosen]})
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied(_("只有可分析需求的用户（经理、产品经理、管理员）可以修改月度复盘。"))
        form = ScheduleForm(request.POST)
        if form.is_valid():
            try:
                monthly_schedule_update(
                    actor=acting_user(request.user),
                    enabled=form.cleaned_data["enabled"],
                    recipients=form.cleaned_data["recipients"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("发送设置已保存。"))
                return redirect("reports:monthly_schedule")
    if not may_write:
        for field in form.fields.values():
            field.disabled = True
    unfit = [u for u in chosen if not (u.is_active and u.email and monthly.can_read(u))]
    context = {"form": form, "schedule": schedule, "may_write": may_write, "unfit": unfit}
    return render(request, "reports/monthly_schedule.html", context)

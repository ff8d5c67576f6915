"""What a report counts: the period and the slices (team, owner, customer segment, industry, analysis project).

``ReportFilters`` is parsed once from the query string by ``ReportFilterForm`` (clear Chinese messages, nothing
guessed) and handed to every builder; ``as_query`` gives the same filters back as query parameters, so a chart
element links to the requirement list with the very filters it was counted under (``requirement_list_url``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from needpool.customers.choices import Segment

DEFAULT_DAYS = 90
MAX_DAYS = 3660  # ten years: longer asks are refused, not silently cut
EARLIEST = dt.date(1970, 1, 1)  # dates outside are refused (the period arithmetic stays far from date's limits)
LATEST = dt.date(2099, 12, 31)
Grain = str  # "week" | "month"


@dataclass(frozen=True)
class ReportFilters:
    """The period is inclusive on both ends and applies to 提交时间 (submitted_at) unless a figure says
    otherwise (answers to surveys: answered_at; overdue: today's state)."""

    start: dt.date
    end: dt.date
    grain: Grain = "month"
    team: int | None = None
    owner: int | None = None
    segment: str = ""
    industry: str = ""
    project: int | None = None

    @classmethod
    def default(cls, *, today: dt.date | None = None) -> ReportFilters:
        today = today or timezone.localdate()
        return cls(start=today - dt.timedelta(days=DEFAULT_DAYS - 1), end=today, grain="week")

    @classmethod
    def for_month(cls, year: int, month: int, **slices: Any) -> ReportFilters:
        start = dt.date(year, month, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        return cls(start=start, end=end, grain="week", **slices)

    def previous(self) -> ReportFilters:
        """The period of the same length just before (for "biggest movers")."""
        days = (self.end - self.start).days + 1
        if self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1:  # a whole month → the month before
            end = self.start - dt.timedelta(days=1)
            return replace(self, start=end.replace(day=1), end=end)
        return replace(self, start=self.start - dt.timedelta(days=days), end=self.start - dt.timedelta(days=1))

    def as_query(self) -> dict[str, str]:
        query = {"start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain}
        for name in ("team", "owner", "segment", "industry", "project"):
            value = getattr(self, name)
            if value not in (None, ""):
                query[name] = str(value)
        return query

    def list_query(self) -> dict[str, str]:
        """The requirement list's own parameter names for the same slice (see requirements.filters)."""
        query = {"submitted_after": self.start.isoformat(), "submitted_before": self.end.isoformat()}
        for name in ("team", "owner", "segment", "industry", "project"):
            value = getattr(self, name)
            if value not in (None, ""):
                query[name] = str(value)
        return query


def requirement_list_url(filters: ReportFilters | None, **extra: Any) -> str:
    """The requirement list counting the same requirements: the report's slice plus ``extra`` (type=…,
    status=…, sla_breached=true …). ``extra`` values of None drop a parameter (e.g. submitted_after=None for
    a figure that is a state of today, not of the period)."""
    query: dict[str, str] = filters.list_query() if filters is not None else {}
    for key, value in extra.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return reverse("requirements:list") + ("?" + urlencode(query) if query else "")


class ReportFilterForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), required=False)
    end = forms.DateField(label=_("结束日期"), required=False)
    grain = forms.ChoiceField(label=_("趋势粒度"), required=False, choices=[("week", _("按周")), ("month", _("按月"))])
    team = forms.IntegerField(label=_("团队"), required=False, min_value=1, max_value=2**53)
    owner = forms.IntegerField(label=_("负责人"), required=False, min_value=1, max_value=2**53)
    segment = forms.ChoiceField(label=_("客户分层"), required=False, choices=[("", ""), *Segment.choices])
    industry = forms.CharField(label=_("所属行业"), required=False, max_length=60, strip=True)
    project = forms.IntegerField(label=_("分析项目"), required=False, min_value=1, max_value=2**53)

    def _clean_date(self, name: str) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get(name)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                _("日期须在 %(earliest)s 至 %(latest)s 之间。"),
                code="out_of_range",
                params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
            )
        return value

    def clean_start(self) -> dt.date | None:
        return self._clean_date("start")

    def clean_end(self) -> dt.date | None:
        return self._clean_date("end")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("开始日期不能晚于结束日期。"), code="order")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(_("统计期间最长十年，请缩短期间。"), code="too_long")
        return data

    def filters(self, *, today: dt.date | None = None) -> ReportFilters:
        """The parsed filters (call after ``is_valid()``); a missing end is today, a missing start 90 days back."""
        data = self.cleaned_data
        base = ReportFilters.default(today=today)
        end = data.get("end") or (
            data["start"] + dt.timedelta(days=DEFAULT_DAYS - 1) if data.get("start") else base.end
        )
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS - 1)
        return ReportFilters(
            start=start,
            end=end,
            grain=data.get("grain") or ("month" if (end - start).days > 180 else "week"),
            team=data.get("team"),
            owner=data.get("owner"),
            segment=data.get("segment") or "",
            industry=data.get("industry") or "",
            project=data.get("project"),
        )

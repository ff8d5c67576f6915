"""The report filters every report parses: defaults, the previous period, the list link, and refused input."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needpool.reports.filters import EARLIEST, LATEST, ReportFilterForm, ReportFilters, requirement_list_url


def test_the_default_period_is_the_last_ninety_days_by_week() -> None:
    f = ReportFilters.default(today=dt.date(2026, 12, 6))
    assert (f.start, f.end, f.grain) == (dt.date(2026, 9, 8), dt.date(2026, 12, 6), "week")


def test_a_whole_month_goes_back_a_whole_month() -> None:
    f = ReportFilters.for_month(2026, 3)
    assert (f.start, f.end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert (f.previous().start, f.previous().end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    ten_days = ReportFilters(start=dt.date(2026, 3, 11), end=dt.date(2026, 3, 20))
    assert (ten_days.previous().start, ten_days.previous().end) == (dt.date(2026, 3, 1), dt.date(2026, 3, 10))


def test_the_list_link_keeps_the_slice_and_drops_what_is_asked() -> None:
    f = ReportFilters(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30), team=3, segment="high_value")
    query = parse_qs(urlsplit(requirement_list_url(f, type="bug", submitted_after=None)).query)
    assert query == {"submitted_before": ["2026-11-30"], "team": ["3"], "segment": ["high_value"], "type": ["bug"]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"start": "2026-12-01", "end": "2026-11-01"}, "开始日期不能晚于结束日期。"),
        ({"start": "1990-01-01", "end": "2026-11-01"}, "统计期间最长十年，请缩短期间。"),
        ({"start": "0001-01-01"}, "日期须在 1970-01-01 至 2099-12-31 之间。"),
        ({"end": "9999-12-31"}, "日期须在 1970-01-01 至 2099-12-31 之间。"),
        ({"segment": "vip"}, "客户分层没有“vip”这一项"),
    ],
)
def test_bad_filters_are_refused_in_chinese(data: dict[str, str], message: str) -> None:
    form = ReportFilterForm(data)
    assert not form.is_valid()
    assert any(message in text for errors in form.errors.values() for text in errors)


@given(st.dates(), st.dates())
def test_any_two_dates_are_refused_or_give_a_period_within_the_limits(a: dt.date, b: dt.date) -> None:
    """No date pair crashes the period arithmetic: the form refuses it or the period is ordered and in range."""
    form = ReportFilterForm({"start": a.isoformat(), "end": b.isoformat()})
    if form.is_valid():
        f = form.filters(today=dt.date(2026, 12, 6))
        assert EARLIEST <= f.start <= f.end <= LATEST
        assert f.previous().start < f.start

"""Dashboard snapshots: a large pool's dashboard comes from a kept document, never stale without saying so.

The policy's branches (live / fresh / stale / missing → build → served), the key of a relative period, the
document's round trip through JSON, the one-build-per-key guard (and a race of two builders on PostgreSQL), scope
isolation as a property (a snapshot served always equals what the reader would get live at its time), the
periodic refresh and expiry, the command's check finding a tampered snapshot, the page's and the API's answers
and the page's query count when served from a snapshot. ``NEEDPOOL_REPORTS_LIVE_MAX = 0`` stands for a large pool.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team, User
from needpool.reports import metrics, services, snapshots
from needpool.reports.document import Chart, Figure, Report, Section, Series, Table, Text, as_dict, from_dict
from needpool.reports.filters import ReportFilters
from needpool.reports.models import DashboardSnapshot
from needpool.reports.snapshot_tasks import dashboard_snapshots_refresh_job
from tests.races import at_once
from tests.reports.sample_report import full_report, sample_report

URL = "/reports/"
SNAPSHOT_URL = "/reports/snapshot/"
API_URL = "/api/v1/reports/dashboard/"


@pytest.fixture
def large(settings: Any) -> None:
    """Every pool counts as large: the dashboard is served from snapshots."""
    settings.NEEDPOOL_REPORTS_LIVE_MAX = 0


@pytest.fixture
def pool(make_requirements: Any) -> Any:
    return make_requirements(6)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def build_now(result: services.DashboardResult, user: User) -> DashboardSnapshot:
    """What the worker does with the build a request started (jobs run in-process in tests)."""
    assert result.snapshot is not None
    snapshot = DashboardSnapshot.objects.get(pk=result.snapshot.pk)
    assert snapshot.building_since is not None
    assert services.dashboard_snapshot_build_run(
        snapshot_id=snapshot.pk, user_id=user.pk, token=snapshot.building_since
    )
    snapshot.refresh_from_db()
    return snapshot


def today_filters() -> ReportFilters:
    return ReportFilters.default(today=timezone.localdate())


# ---------------------------------------------------------------- the document as JSON


def test_every_kind_of_block_round_trips() -> None:
    for report in (sample_report(), full_report()):
        data = as_dict(report)
        again = Report.from_dict(data)
        assert as_dict(again) == data
        assert again.computed_at == report.computed_at
        assert [type(b) for s in again.sections for b in s.blocks] == [
            type(b) for s in report.sections for b in s.blocks
        ]


TEXT = st.text(max_size=8)
VALUE = st.one_of(
    st.none(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
    TEXT,
    st.dates(),
)
UNIT = st.sampled_from(["", "%", "h", "d", "count", "score"])
FIGURE = st.builds(Figure, key=TEXT, label=TEXT, value=VALUE, unit=UNIT, note=TEXT, href=TEXT)
TABLE = st.integers(0, 3).flatmap(
    lambda width: st.builds(
        Table,
        key=TEXT,
        title=TEXT,
        columns=st.lists(TEXT, min_size=width, max_size=width),
        rows=st.lists(st.lists(VALUE, min_size=width, max_size=width), max_size=3),
        hrefs=st.lists(st.lists(TEXT, min_size=width, max_size=width), max_size=3),
        note=TEXT,
    )
)
CHART = st.builds(
    Chart,
    key=TEXT,
    title=TEXT,
    kind=st.sampled_from(["bar", "hbar", "line", "pie", "funnel", "stacked"]),
    categories=st.lists(TEXT, max_size=3),
    series=st.lists(st.builds(Series, name=TEXT, values=st.lists(VALUE, max_size=3)), max_size=2),
    hrefs=st.lists(TEXT, max_size=3),
    unit=UNIT,
    note=TEXT,
)
TEXT_BLOCK = st.builds(Text, key=TEXT, title=TEXT, body=TEXT, items=st.lists(TEXT, max_size=2))
REPORT = st.builds(
    Report,
    kind=TEXT,
    title=TEXT,
    scope=st.lists(TEXT, max_size=3),
    computed_at=st.datetimes(timezones=st.just(dt.UTC)),
    sections=st.lists(
        st.builds(
            Section, key=TEXT, title=TEXT, blocks=st.lists(st.one_of(FIGURE, TABLE, CHART, TEXT_BLOCK), max_size=4)
        ),
        max_size=3,
    ),
    subtitle=TEXT,
    stale_note=TEXT,
)


@settings(max_examples=150, deadline=None)
@given(REPORT)
def test_from_dict_gives_back_what_as_dict_gave(report: Report) -> None:
    data = as_dict(report)
    assert as_dict(from_dict(data)) == data
    assert as_dict(from_dict(as_dict(from_dict(data)))) == data


# ---------------------------------------------------------------- keys


def test_the_last_90_days_map_to_one_key_all_day_and_a_new_one_after_midnight() -> None:
    day = dt.date(2026, 12, 6)
    tz = timezone.get_current_timezone()
    keys = set()
    for moment in (dt.time(0, 0, 1), dt.time(12, 0), dt.time(23, 59, 59)):
        today = timezone.localdate(dt.datetime.combine(day, moment, tzinfo=tz))
        keys.add(snapshots.filters_key(ReportFilters.default(today=today), "zh-hans"))
    assert len(keys) == 1
    (key,) = keys
    assert "start=2026-09-08" in key and "end=2026-12-06" in key
    tomorrow = snapshots.filters_key(ReportFilters.default(today=day + dt.timedelta(days=1)), "zh-hans")
    assert tomorrow != key
    assert snapshots.key_for_today(key, day + dt.timedelta(days=1)) == tomorrow
    assert snapshots.key_for_today(key, day) == key


def test_the_key_is_canonical_and_carries_slice_and_language() -> None:
    filters = ReportFilters(
        start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31), grain="month", team=3, segment="normal"
    )
    key = snapshots.filters_key(filters, "en")
    assert key == "end=2026-03-31&grain=month&lang=en&segment=normal&start=2026-01-01&team=3"
    assert key != snapshots.filters_key(filters, "zh-hans")
    query, language = snapshots.key_query(key)
    assert language == "en" and query["team"] == "3" and "lang" not in query
    assert snapshots.is_relative({}) and snapshots.is_relative({"team": "3"})
    assert not snapshots.is_relative({"start": "2026-01-01"}) and not snapshots.is_relative({"end": "2026-01-01"})


def test_scope_keys(users: dict[str, User], outsider: User) -> None:
    for role in ("admin", "manager", "product_manager", "engineer", "viewer", "compliance"):
        assert snapshots.scope_key(users[role]) == "all"
    assert snapshots.scope_key(users["sales"]) == f"user:{users['sales'].pk}"
    assert snapshots.scope_key(outsider) == f"user:{outsider.pk}"
    assert snapshots.scope_key(users["service"]) != snapshots.scope_key(users["sales"])


def test_the_pool_estimate_stops_counting_past_the_cap(pool: Any) -> None:
    assert snapshots.live_pool_size(100) == 6
    assert snapshots.live_pool_size(2) == 3  # cap + 1: enough to know it is above
    assert snapshots.use_live(6) and not snapshots.use_live(5)


# ---------------------------------------------------------------- the policy


def test_a_small_pool_is_computed_live_and_keeps_nothing(users: dict[str, User], pool: Any) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    assert result.state == "live" and result.report is not None and result.report.stale_note == ""
    assert not DashboardSnapshot.objects.exists()


def _moment(at: dt.datetime, now: dt.datetime) -> str:
    """How a note names ``at`` when read at ``now``: the time of day, with the date when it is another day (a
    test run two hours before local midnight reads its snapshot "yesterday")."""
    local, today = timezone.localtime(at), timezone.localtime(now).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


def test_missing_then_built_then_fresh_then_stale(
    large: None, users: dict[str, User], pool: Any, django_capture_on_commit_callbacks: Any
) -> None:
    manager, filters = users["manager"], today_filters()
    with django_capture_on_commit_callbacks() as started:
        first = services.dashboard_snapshot_get_or_build(user=manager, filters=filters, relative=True)
    assert first.state == "building" and first.report is None and len(started) == 1
    row = DashboardSnapshot.objects.get()
    assert row.scope_key == "all" and row.relative and row.document is None and row.building_since is not None
    # A second request while it builds starts nothing more.
    with django_capture_on_commit_callbacks() as again:
        assert services.dashboard_snapshot_get_or_build(user=manager, filters=filters).state == "building"
    assert again == []

    with django_capture_on_commit_callbacks(execute=True):
        started[0]()  # the worker's build
    row.refresh_from_db()
    assert row.document is not None and row.building_since is None and row.computed_at is not None
    assert row.compute_ms >= 0

    soon = row.computed_at + dt.timedelta(minutes=3)
    with django_capture_on_commit_callbacks() as none_started:
        fresh = services.dashboard_snapshot_get_or_build(user=manager, filters=filters, now=soon)
    assert fresh.state == "fresh" and none_started == []
    assert fresh.report is not None
    assert fresh.report.stale_note == f"数据截至 {_moment(row.computed_at, soon)}（每 15 分钟更新）"
    live = metrics.dashboard(user=manager, filters=filters, now=row.computed_at)
    assert snapshots.comparable(as_dict(fresh.report)) == snapshots.comparable(as_dict(live))

    late = row.computed_at + dt.timedelta(hours=2, minutes=5)
    with django_capture_on_commit_callbacks() as rebuild:
        stale = services.dashboard_snapshot_get_or_build(user=manager, filters=filters, now=late)
    assert stale.state == "stale" and len(rebuild) == 1
    assert stale.report is not None and f"数据截至 {_moment(row.computed_at, late)}，已是" in stale.report.stale_note
    assert "2" in stale.report.stale_note and "小时" in stale.report.stale_note
    row.refresh_from_db()
    assert row.requested_at == late


def test_max_age_is_a_setting(large: None, settings: Any, users: dict[str, User], pool: Any) -> None:
    settings.NEEDPOOL_REPORTS_SNAPSHOT_MAX_AGE = 60
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    snapshot = build_now(result, users["manager"])
    assert snapshot.computed_at is not None
    later = snapshot.computed_at + dt.timedelta(seconds=90)
    served = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters(), now=later)
    assert served.state == "stale"
    first = services.dashboard_snapshot_get_or_build(
        user=users["manager"], filters=today_filters(), now=snapshot.computed_at + dt.timedelta(seconds=30)
    )
    assert first.report is not None and "每 1 分钟更新" in first.report.stale_note


def test_one_build_per_key_and_a_dead_build_is_taken_over(large: None, users: dict[str, User], pool: Any) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    assert result.snapshot is not None
    snapshot = DashboardSnapshot.objects.get()
    mark = snapshot.building_since
    assert mark is not None
    # Claimed: neither a second request nor the command nor the refresh builds it meanwhile.
    assert not services.dashboard_snapshot_build(snapshot=snapshot, user=users["manager"], now=mark)
    assert not services.dashboard_snapshot_refresh(user=users["manager"], filters=today_filters(), now=mark)
    # A build that outlived the timeout (its worker died) is taken over, and the dead one stores nothing.
    later = mark + snapshots.build_timeout() + dt.timedelta(seconds=1)
    assert services.dashboard_snapshot_build(snapshot=snapshot, user=users["manager"], now=later)
    snapshot.refresh_from_db()
    assert snapshot.computed_at == later and snapshot.building_since is None
    assert not services.dashboard_snapshot_build_run(snapshot_id=snapshot.pk, user_id=users["manager"].pk, token=mark)


def test_a_build_as_someone_of_another_scope_stores_nothing(
    large: None, users: dict[str, User], outsider: User, pool: Any
) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    assert result.snapshot is not None
    snapshot = DashboardSnapshot.objects.get()
    assert not services.dashboard_snapshot_build_run(
        snapshot_id=snapshot.pk, user_id=outsider.pk, token=snapshot.building_since
    )
    snapshot.refresh_from_db()
    assert snapshot.document is None and snapshot.building_since is None


def test_a_failed_build_releases_its_mark(
    large: None, users: dict[str, User], pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    assert result.snapshot is not None

    def boom(**kwargs: Any) -> Report:
        raise RuntimeError("database went away")

    monkeypatch.setattr(metrics, "dashboard", boom)
    snapshot = DashboardSnapshot.objects.get()
    with pytest.raises(RuntimeError):
        services.dashboard_snapshot_build_run(
            snapshot_id=snapshot.pk, user_id=users["manager"].pk, token=snapshot.building_since
        )
    snapshot.refresh_from_db()
    assert snapshot.building_since is None and snapshot.document is None


# ---------------------------------------------------------------- scope isolation


READERS = ["admin", "manager", "viewer", "sales", "service", "outsider"]
FILTERS = st.fixed_dictionaries(
    {
        "days": st.sampled_from([1, 30, 90, 400]),
        "team": st.booleans(),
        "segment": st.sampled_from(["", "normal", "high_value"]),
        "grain": st.sampled_from(["week", "month"]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(asks=st.lists(st.tuples(st.sampled_from(READERS), FILTERS), min_size=1, max_size=6))
def test_a_snapshot_served_is_what_that_reader_gets_live(
    large: None, users: dict[str, User], outsider: User, team: Team, pool: Any, asks: list[Any]
) -> None:
    DashboardSnapshot.objects.all().delete()
    people = {**users, "outsider": outsider}
    today = timezone.localdate()
    for name, spec in asks:
        reader = people[name]
        filters = ReportFilters(
            start=today - dt.timedelta(days=spec["days"] - 1),
            end=today,
            grain=spec["grain"],
            team=team.pk if spec["team"] else None,
            segment=spec["segment"],
        )
        result = services.dashboard_snapshot_get_or_build(user=reader, filters=filters)
        if result.state == "building":
            build_now(result, reader)
            result = services.dashboard_snapshot_get_or_build(user=reader, filters=filters)
        assert result.state == "fresh" and result.report is not None and result.snapshot is not None
        assert result.snapshot.scope_key == snapshots.scope_key(reader)
        live = metrics.dashboard(user=reader, filters=filters, now=result.report.computed_at)
        assert snapshots.comparable(as_dict(result.report)) == snapshots.comparable(as_dict(live))
    # A rep's snapshot is theirs alone: no row of one rep's key was ever served to another reader.
    keys = set(DashboardSnapshot.objects.values_list("scope_key", flat=True))
    allowed = {snapshots.scope_key(people[name]) for name, _spec in asks}
    assert keys <= allowed


# ---------------------------------------------------------------- the race


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent builders are proven on PostgreSQL")
def test_two_builders_of_the_same_key_at_once_make_one_build(
    large: None, users: dict[str, User], pool: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = DashboardSnapshot.objects.create(
        scope_key="all",
        filters_key=snapshots.filters_key(today_filters(), "zh-hans"),
        requested_at=timezone.now(),
        reader=users["manager"],
    )
    builds: list[int] = []
    lock = threading.Lock()
    real = metrics.dashboard

    def slow(**kwargs: Any) -> Report:
        with lock:
            builds.append(1)
        time.sleep(0.3)  # both builders are past their claim before either finishes
        return real(**kwargs)

    monkeypatch.setattr(metrics, "dashboard", slow)
    now = timezone.now()
    results, errors = at_once(
        [
            lambda: services.dashboard_snapshot_build(snapshot=snapshot, user=users["manager"], now=now),
            lambda: services.dashboard_snapshot_build(snapshot=snapshot, user=users["admin"], now=now),
        ]
    )
    assert not errors, errors
    assert sorted(results) == [False, True] and len(builds) == 1
    snapshot.refresh_from_db()
    assert snapshot.document is not None and snapshot.building_since is None


# ---------------------------------------------------------------- periodic refresh and expiry


def test_the_refresh_keeps_opened_snapshots_fresh_and_drops_forgotten_ones(
    large: None, users: dict[str, User], pool: Any
) -> None:
    now = timezone.now()
    today = timezone.localdate(now)
    yesterday_default = ReportFilters.default(today=today - dt.timedelta(days=1))
    year = ReportFilters(start=today - dt.timedelta(days=364), end=today, grain="month")
    sales = users["sales"]

    def row(scope: str, filters: ReportFilters, requested: dt.timedelta, **extra: Any) -> DashboardSnapshot:
        return DashboardSnapshot.objects.create(
            scope_key=scope,
            filters_key=snapshots.filters_key(filters, "zh-hans"),
            requested_at=now - requested,
            **extra,
        )

    relative = row(f"user:{sales.pk}", yesterday_default, dt.timedelta(hours=20), relative=True, reader=sales)
    recent = row(
        "all", year, dt.timedelta(days=2), reader=users["manager"], computed_at=now - dt.timedelta(hours=1), document={}
    )
    fresh = row(
        "all",
        replace(year, grain="week"),
        dt.timedelta(days=1),
        reader=users["manager"],
        computed_at=now - dt.timedelta(minutes=2),
        document={"kept": 1},
    )
    idle = row(
        "all",
        ReportFilters(start=today - dt.timedelta(days=9), end=today),
        dt.timedelta(days=8),
        reader=users["manager"],
    )
    forgotten = row("all", ReportFilters(start=today - dt.timedelta(days=2), end=today), dt.timedelta(days=31))

    counts = services.dashboard_snapshots_refresh(now=now)

    assert not DashboardSnapshot.objects.filter(pk=forgotten.pk).exists()
    assert counts["dropped"] == 1
    recent.refresh_from_db()
    assert recent.computed_at == now and recent.document and recent.document["kind"] == "dashboard"
    fresh.refresh_from_db()
    assert fresh.document == {"kept": 1}  # still fresh for the next ten minutes: left alone
    idle.refresh_from_db()
    assert idle.document is None  # not opened for a week: not rebuilt (dropped after 30 days)
    # The rep's relative view moved to today's dates, built as that rep; yesterday's row is left to expire.
    moved = DashboardSnapshot.objects.get(
        scope_key=f"user:{sales.pk}", filters_key=snapshots.filters_key(today_filters(), "zh-hans")
    )
    assert moved.document is not None and moved.relative and moved.computed_at == now
    relative.refresh_from_db()
    assert relative.document is None
    # The whole pool's default view is always kept, whoever opened it.
    default = DashboardSnapshot.objects.get(
        scope_key="all", filters_key=snapshots.filters_key(today_filters(), "zh-hans")
    )
    assert default.document is not None
    assert counts["built"] == 3

    # Bounded per run: one build at most, the oldest first.
    DashboardSnapshot.objects.update(computed_at=None, document=None)
    DashboardSnapshot.objects.filter(pk=recent.pk).update(computed_at=now - dt.timedelta(days=1), document={})
    assert services.dashboard_snapshots_refresh(now=now, limit=1)["built"] == 1
    assert DashboardSnapshot.objects.filter(computed_at=now).count() == 1
    assert DashboardSnapshot.objects.get(computed_at=now).pk != recent.pk  # never-built ones come first


def test_the_refresh_does_nothing_for_a_small_pool_but_expire(users: dict[str, User], pool: Any) -> None:
    now = timezone.now()
    DashboardSnapshot.objects.create(scope_key="all", filters_key="a", requested_at=now - dt.timedelta(days=40))
    DashboardSnapshot.objects.create(scope_key="all", filters_key="b", requested_at=now - dt.timedelta(days=1))
    assert dashboard_snapshots_refresh_job.call_local() == {"dropped": 1, "built": 0, "skipped": 0, "due": 0}
    assert list(DashboardSnapshot.objects.values_list("filters_key", flat=True)) == ["b"]


# ---------------------------------------------------------------- the command


def test_the_check_finds_a_tampered_snapshot(large: None, users: dict[str, User], pool: Any, capsys: Any) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    snapshot = build_now(result, users["manager"])
    rep = services.dashboard_snapshot_get_or_build(user=users["sales"], filters=today_filters())
    build_now(rep, users["sales"])

    call_command("reports_snapshots", "--check")
    assert "2 checked, 0 differ" in capsys.readouterr().out

    document = dict(snapshot.document or {})
    first = document["sections"][0]["blocks"][0]
    first["value"] = (first["value"] or 0) + 1
    DashboardSnapshot.objects.filter(pk=snapshot.pk).update(document=document)
    with pytest.raises(CommandError) as failed:
        call_command("reports_snapshots", "--check")
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "differs" in out and f"#{snapshot.pk}" in out

    with pytest.raises(CommandError):  # found (exit 1), and built again
        call_command("reports_snapshots", "--check", "--rebuild")
    capsys.readouterr()
    call_command("reports_snapshots", "--check")
    assert "2 checked, 0 differ" in capsys.readouterr().out


def test_the_check_tells_age_from_error(large: None, users: dict[str, User], pool: Any, make_requirements: Any) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    build_now(result, users["manager"])
    make_requirements(1, prefix="新")  # written after the snapshot: its numbers are older, not wrong
    [check] = services.dashboard_snapshots_check()
    assert check.outcome == "changed"


def test_rebuild_builds_every_snapshot(large: None, users: dict[str, User], pool: Any, capsys: Any) -> None:
    services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters())
    DashboardSnapshot.objects.update(building_since=None)
    call_command("reports_snapshots", "--rebuild")
    assert "1 of 1 rebuilt" in capsys.readouterr().out
    assert DashboardSnapshot.objects.get().document is not None
    call_command("reports_snapshots")
    assert "1 snapshot(s)" in capsys.readouterr().out


# ---------------------------------------------------------------- the page and the API


def test_the_page_waits_then_shows_the_snapshot_with_its_time_and_refresh(
    large: None, users: dict[str, User], pool: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_for(users["manager"])
    with django_capture_on_commit_callbacks() as started:
        page = client.get(URL, {"grain": "month"})
    html = page.content.decode()
    assert page.status_code == 200 and "正在计算" in html and 'id="report-filters"' in html
    assert 'hx-get="/reports/snapshot/?grain=month"' in html and 'hx-trigger="every 2s"' in html
    assert 'id="report-document"' not in html and len(started) == 1
    assert client.get(SNAPSHOT_URL, {"grain": "month"}).status_code == 204  # still building

    with django_capture_on_commit_callbacks(execute=True):
        started[0]()
    swapped = client.get(SNAPSHOT_URL, {"grain": "month"})
    body = swapped.content.decode()
    assert swapped.status_code == 200 and 'id="report-document"' in body and "<script src" not in body
    assert "每 15 分钟更新" in body and 'id="report-refresh"' in body

    page = client.get(URL, {"grain": "month"})
    html = page.content.decode()
    assert 'id="report-stale"' in html and "每 15 分钟更新" in html and "刷新" in html
    assert 'action="/reports/refresh/?grain=month"' in html

    with django_capture_on_commit_callbacks() as rebuild:
        done = client.post("/reports/refresh/?grain=month")
    assert done.status_code == 302 and done["Location"] == "/reports/?grain=month" and len(rebuild) == 1
    assert "正在更新" in client.get(URL, {"grain": "month"}).content.decode()


def test_refresh_is_post_only_and_a_small_pool_page_is_live(users: dict[str, User], pool: Any) -> None:
    client = client_for(users["manager"])
    assert client.get("/reports/refresh/").status_code == 405
    html = client.get(URL).content.decode()
    assert 'id="report-document"' in html and 'id="report-refresh"' not in html and "正在计算" not in html
    assert not DashboardSnapshot.objects.exists()


def test_the_page_from_a_snapshot_takes_a_few_queries(
    large: None, users: dict[str, User], pool: Any, django_assert_max_num_queries: Any
) -> None:
    result = services.dashboard_snapshot_get_or_build(user=users["manager"], filters=today_filters(), relative=True)
    build_now(result, users["manager"])
    client = client_for(users["manager"])
    client.get(URL)  # session and user warm, requested_at already moved
    with django_assert_max_num_queries(12):
        page = client.get(URL)
    assert 'id="report-stale"' in page.content.decode()


def test_the_api_answers_202_then_the_snapshot(
    large: None, users: dict[str, User], pool: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = api(users["sales"])
    with django_capture_on_commit_callbacks() as started:
        waiting = client.get(API_URL)
    assert waiting.status_code == 202 and waiting["Retry-After"] == "2"
    assert waiting.json()["status"] == "building"
    with django_capture_on_commit_callbacks(execute=True):
        started[0]()
    served = client.get(API_URL)
    body = served.json()
    assert served.status_code == 200 and "每 15 分钟更新" in body["stale_note"] and body["computed_at"]
    snapshot = DashboardSnapshot.objects.get()
    assert snapshot.scope_key == f"user:{users['sales'].pk}"
    assert snapshot.document is not None and body["computed_at"] == snapshot.document["computed_at"]
    assert api(users["sales"]).get(API_URL, {"start": "2026-02-30"}).status_code == 400


def test_exports_compute_live(large: None, users: dict[str, User], pool: Any) -> None:
    from needpool.reports.dashboard_views import build_from_query

    report = build_from_query(users["manager"], {})
    assert report.stale_note == "" and not DashboardSnapshot.objects.exists()


def test_decimal_values_survive_as_numbers() -> None:
    report = sample_report()
    report.sections[0].blocks.append(Figure("x", "x", Decimal("2.50"), "%"))
    again = from_dict(as_dict(report))
    figure = again.figure("x")
    assert figure is not None and figure.value == 2.5

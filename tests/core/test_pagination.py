"""A list counts at most a cap of rows and says so ("N+"): a search SEARCH_COUNT_CAP, a plain list LIST_COUNT_CAP;
``?count=exact`` counts them all. The API's ``count`` does the same and says ``count_capped``."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core import pagination
from needpool.core import views as core_views
from needpool.requirements.services import requirement_create

LIST = "/api/v1/requirements/"


@pytest.fixture
def four(users, customer):
    return [
        requirement_create(actor=users["product_manager"], title=f"批量折扣规则{i}", customer=customer)
        for i in range(4)
    ]


def test_search_count_is_capped_and_marked(client, users, four, monkeypatch):
    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", 2)
    monkeypatch.setattr(core_views, "PAGE_SIZE", 2)
    client.force_login(users["manager"])
    searched = client.get("/requirements/", {"q": "批量折扣"}).content.decode()
    assert "共 2+ 条" in searched
    plain = client.get("/requirements/").content.decode()
    assert "共 4 条" in plain and "data-exact-count" not in plain


def test_a_plain_list_counts_up_to_its_cap_and_offers_the_exact_total(client, users, four, monkeypatch):
    monkeypatch.setattr(pagination, "LIST_COUNT_CAP", 3)
    monkeypatch.setattr(core_views, "PAGE_SIZE", 2)
    client.force_login(users["manager"])
    capped = client.get("/requirements/", {"sort": "-submitted_at"}).content.decode()
    assert "共 3+ 条" in capped
    assert 'href="?sort=-submitted_at&amp;count=exact" data-exact-count' in capped
    # The last page knows the total: its rows end there.
    last = client.get("/requirements/", {"sort": "-submitted_at", "page": 2}).content.decode()
    assert "第 3–4 条，共 4 条" in last and "data-exact-count" not in last
    exact = client.get("/requirements/", {"sort": "-submitted_at", "count": "exact"}).content.decode()
    assert "共 4 条" in exact and "data-exact-count" not in exact
    assert "清除筛选" not in exact  # asking for the exact total is not a filter


def test_past_the_counted_pages_the_pager_marks_the_page_and_counts_the_rows_seen(client, users, four, monkeypatch):
    """Page 3 of a list counted to 1 row, one per page: the strip lists 3 (current) and 4 (next), and the total
    reads "3+", the rows known so far, not the cap."""
    monkeypatch.setattr(pagination, "LIST_COUNT_CAP", 1)
    monkeypatch.setattr(core_views, "PAGE_SIZE", 1)
    client.force_login(users["manager"])
    page = client.get("/requirements/", {"page": 3}).content.decode()
    assert "第 3–3 条，共 3+ 条" in page
    assert '<li class="page-item active" aria-current="page"><span class="page-link">3</span></li>' in page
    assert 'href="?page=4">4</a>' in page and 'rel="next"' in page
    last = client.get("/requirements/", {"page": 4}).content.decode()
    assert "第 4–4 条，共 4 条" in last and 'rel="next"' not in last


def test_a_page_number_past_the_rows_of_a_capped_list_gives_the_last_counted_page(client, users, four, monkeypatch):
    """Any number passes for a capped list; one past its rows is the last counted page, not an error."""
    monkeypatch.setattr(pagination, "LIST_COUNT_CAP", 1)
    monkeypatch.setattr(core_views, "PAGE_SIZE", 1)
    client.force_login(users["manager"])
    page = client.get("/requirements/", {"page": 99})
    assert page.status_code == 200
    assert "第 1–1 条，共 1+ 条" in page.content.decode()


def test_the_api_count_stops_at_its_cap_and_says_so(client, users, four, monkeypatch):
    client.force_login(users["manager"])
    below = client.get(LIST).json()
    assert (below["count"], below["count_capped"]) == (4, False)
    monkeypatch.setattr(pagination, "LIST_COUNT_CAP", 3)
    monkeypatch.setattr(pagination, "SEARCH_COUNT_CAP", 1)
    capped = client.get(LIST, {"page_size": 2}).json()
    assert (capped["count"], capped["count_capped"], len(capped["results"])) == (3, True, 2)
    assert capped["next"]  # the next page is still there
    last = client.get(LIST, {"page_size": 2, "page": 2}).json()
    assert len(last["results"]) == 2 and last["next"] is None  # the rows past the cap are still listed
    assert client.get(LIST, {"page_size": 2, "page": 3}).status_code == 404
    searched = client.get(LIST, {"q": "批量折扣"}).json()
    assert (searched["count"], searched["count_capped"]) == (1, True)
    exact = client.get(LIST, {"q": "批量折扣", "count": "exact"}).json()
    assert (exact["count"], exact["count_capped"], len(exact["results"])) == (4, False, 4)


@pytest.mark.parametrize(
    ("params", "cap"),
    [
        ({}, "list"),
        ({"q": "  "}, "list"),
        ({"q": "折扣"}, "search"),
        ({"count": "EXACT "}, None),
        ({"q": "折扣", "count": "exact"}, None),
        ({"count": "1"}, "list"),
    ],
)
def test_count_cap_by_request(params, cap):
    expected = {"list": pagination.LIST_COUNT_CAP, "search": pagination.SEARCH_COUNT_CAP, None: None}[cap]
    assert pagination.count_cap(params) == expected


def test_capped_paginator_counts_exactly_below_the_cap(users, requirement):
    from needpool.requirements.models import Requirement

    paginator = pagination.CappedPaginator(Requirement.objects.order_by("-id"), 25, cap=5)
    assert paginator.count == 1
    assert not paginator.capped


def test_a_capped_count_of_a_narrow_list_is_one_statement(users, four, django_assert_num_queries):
    """A list whose pages read their ids first (NarrowPageQuerySet) is counted by one COUNT over a LIMIT, not by
    reading the ids of ``cap + 1`` rows and then counting those."""
    from needpool.requirements.selectors import requirement_list

    listed = requirement_list(user=users["manager"], filters={"q": "批量折扣"})
    assert isinstance(listed, pagination.NarrowPageQuerySet)
    paginator = pagination.CappedPaginator(listed, 25, cap=2)
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 2 and paginator.capped
    sql = captured.captured_queries[0]["sql"]
    assert "LIMIT 3" in sql and "ORDER BY" not in sql, sql  # any 3 rows say "more than 2": none sorted first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(min_value=0, max_value=9),
    cap=st.integers(min_value=1, max_value=7),
    per_page=st.integers(min_value=1, max_value=4),
)
def test_walking_a_capped_list_by_next_gives_every_row_once(nine, n, cap, per_page):
    """Whatever the cap, following "next" from page 1 lists every row once and in order; the count is exact up
    to the cap and says "more" beyond it."""
    from needpool.requirements.models import Requirement

    rows = Requirement.objects.filter(pk__in=nine[:n]).order_by("-pk")
    paginator = pagination.CappedPaginator(rows, per_page, cap=cap)
    seen: list[int] = []
    page = paginator.get_page(1)
    while True:
        seen.extend(r.pk for r in page.object_list)
        assert page.end_index() - page.start_index() + 1 == len(page.object_list) or not page.object_list
        # The pager lists the page a reader is on, and the next one when there is one, however far past the cap.
        numbers = list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
        assert page.number in numbers
        assert not page.has_next() or page.number + 1 in numbers
        # The total: exact when the count stayed under the cap or on the last page, else the rows known so far
        # with a "+", never fewer than the page shows.
        total = getattr(page, "total_display", str(paginator.count))
        if not page.has_next():
            assert total == str(n)
        elif n > cap:
            assert total == f"{max(min(n, cap), page.end_index())}+"
        if not page.has_next():
            break
        page = paginator.page(page.next_page_number())
    assert seen == sorted(nine[:n], reverse=True)
    assert (paginator.count, paginator.capped) == (min(n, cap), n > cap)


@pytest.fixture
def nine(users, customer):
    return [
        requirement_create(actor=users["product_manager"], title=f"分页需求{i}", customer=customer).pk for i in range(9)
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    chosen=st.lists(st.integers(min_value=0, max_value=8), unique=True, max_size=9),
    window=st.integers(min_value=1, max_value=10),
    start=st.integers(min_value=0, max_value=9),
    size=st.integers(min_value=1, max_value=5),
)
def test_a_page_read_among_the_newest_ids_is_the_page_read_without_them(nine, chosen, window, start, size):
    """Sorted newest entry first, a page looked for among the newest ``window`` ids is the page the whole list
    gives, for any rows, window and slice: the window is kept only when it holds the whole page."""
    from django.db import connection

    from needpool.requirements.models import Requirement

    ids = [nine[i] for i in chosen]
    rows = pagination.narrow_pages(Requirement.objects.filter(pk__in=ids).order_by("-id"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pagination, "NEWEST_WINDOW", window)
        patch.setattr(pagination, "NEWEST_WINDOW_VENDORS", frozenset({connection.vendor}))
        page = [r.pk for r in rows[start : start + size]]
    assert sorted(page, reverse=True) == sorted(ids, reverse=True)[start : start + size]


def test_the_window_is_used_when_it_holds_the_page(nine, monkeypatch, django_assert_num_queries):
    """Two statements for the ids (the newest id, then the ids in the window), and the window in the second."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from needpool.requirements.models import Requirement

    monkeypatch.setattr(pagination, "NEWEST_WINDOW", 4)
    monkeypatch.setattr(pagination, "NEWEST_WINDOW_VENDORS", frozenset({connection.vendor}))
    rows = pagination.narrow_pages(Requirement.objects.filter(pk__in=nine).order_by("-id"))
    with CaptureQueriesContext(connection) as ctx:
        page = [r.pk for r in rows[0:3]]
    assert page == sorted(nine, reverse=True)[:3]
    sql = [q["sql"] for q in ctx.captured_queries if "requirements_requirement" in q["sql"]]
    assert len(sql) == 3, sql  # newest id, ids in the window, the rows
    assert f"> {max(nine) - 4}" in sql[1], sql[1]
    if connection.vendor == "postgresql":
        # The walk turned bitmap scans off for its statement only: later statements of the same transaction
        # (a test runs in one) plan as before.
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_bitmapscan')")
            assert cursor.fetchone() == ("on",)

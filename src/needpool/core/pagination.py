"""Bounded pagination shared by API lists (page pagination with a capped page size), and the query set whose
pages pick their ids before they read their rows."""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast, overload

from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections, transaction
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

#: A search's pager counts at most this many matches ("1000+"): 40 pages nobody reads to the end.
SEARCH_COUNT_CAP = 1000
#: A plain list's pager counts at most this many rows ("100000+"). Below it the total is exact, as before; above
#: it, counting every live requirement of a pool of 1,000,000 on each page view is an index scan of 42–58 ms
#: on PostgreSQL, while 100,001 rows are counted in about 5. ``?count=exact`` asks for the exact total.
LIST_COUNT_CAP = 100_000


def exact_count_asked(params: Any) -> bool:
    """``?count=exact``: the caller wants the exact total, whatever it costs."""
    return str(params.get("count", "")).strip().lower() == "exact"


def count_cap(params: Any, *, search_param: str = "q") -> int | None:
    """The count cap of a list read with ``params``: none when the exact total is asked for, the search cap
    when ``search_param`` holds a term, else the list cap."""
    if exact_count_asked(params):
        return None
    return SEARCH_COUNT_CAP if str(params.get(search_param, "")).strip() else LIST_COUNT_CAP


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class CappedCountPagination(StandardPagination):
    """API pages whose ``count`` stops at a cap (see ``count_cap``), as a search engine's total does: the answer
    says ``"count_capped": true`` when there are more, and ``?count=exact`` gives the exact total."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        cap = count_cap(request.query_params)
        self.django_paginator_class = (
            Paginator if cap is None else functools.partial(CappedPaginator, cap=cap)  # type: ignore[assignment]
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        response = super().get_paginated_response(data)
        response.data["count_capped"] = bool(getattr(getattr(self.page, "paginator", None), "capped", False))
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count_capped"] = {
            "type": "boolean",
            "description": "true when there are more rows than ``count`` says (the count stopped at its cap); "
            "?count=exact gives the exact total",
        }
        return answer


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows, so a search whose common word matches 50,000 requirements shows
    "1000+" instead of counting every match on each page view."""

    def __init__(self, object_list: Any, per_page: int, cap: int = SEARCH_COUNT_CAP, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if isinstance(rows, NarrowPageQuerySet):
            rows = ordinary(rows)  # one COUNT over a LIMIT, not the ids of 1,001 rows read first
        # Any ``cap + 1`` rows tell whether there are more than ``cap``: unsorted, the database stops at the
        # LIMIT instead of sorting every match first (PostgreSQL, 31,000 matches of a search at 1,000,000
        # requirements: 187 → 22 ms).
        # (A list someone already read is counted by its length.)
        counted = (
            rows.order_by()[: self.cap + 1].count() if isinstance(rows, QuerySet) else min(len(rows), self.cap + 1)
        )
        self.capped = counted > self.cap
        return min(counted, self.cap)

    def validate_number(self, number: Any) -> int:
        try:
            return super().validate_number(number)
        except EmptyPage:
            # Past the counted pages of a capped count the rows go on: any page ≥ 1 may hold some.
            if self.capped and int(number) > 1:
                return int(number)
            raise

    def get_page(self, number: Any) -> Page:
        try:
            return super().get_page(number)
        except EmptyPage:
            # A number past the rows of a capped list (any number passes ``validate_number`` there): the last
            # counted page, as Django gives the last page for a number past the end.
            return self.page(self.num_pages)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        # Past the count, a page is read with one row more than it shows: that row says whether a next page is
        # there. The last counted page is not cut at the cap, and the pages after it are reachable.
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        more = len(rows) > self.per_page
        # The pager's numbers reach this page and, when there is one, the next: past the counted pages the page
        # a reader is on is listed and marked, not left out of a strip that ends at the cap.
        reached = number + 1 if more else number
        if reached > self.num_pages:
            self.__dict__["num_pages"] = reached
        return CappedPage(rows[: self.per_page], number, self, more=more)


class CappedPage(Page):
    """A page of a list whose count stopped at its cap: a next page is there when a row beyond this one is."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1

    @property
    def total_known(self) -> bool:
        """Whether the total is exact: the count stayed under its cap, or this page is the list's last."""
        return not getattr(self.paginator, "capped", False) or (not self.more and bool(self.object_list))

    @property
    def total_display(self) -> str:
        """The total as this page knows it: "100000+" on the counted pages; past them the rows seen so far
        ("100125+"), or the exact total on the last page."""
        seen = max(self.paginator.count, self.end_index())
        return str(seen) if self.total_known else f"{seen}+"


_M = TypeVar("_M", bound=Model)

#: A page of a list sorted newest entry first (``-id``) is first looked for among the newest this many ids.
NEWEST_WINDOW = 50_000
#: Databases where that pays: PostgreSQL plans a search of a common word as a bitmap scan of all its matches
#: (31,250 heap pages of a 1,000,000-row pool for 实时 监控: 210 ms), as it estimates two words of one phrase to
#: match independently (1,041 rows estimated); bounded by ids it reads a few thousand (1–32 ms). SQLite's FTS5
#: subquery is read whole either way.
NEWEST_WINDOW_VENDORS = frozenset({"postgresql"})


class NarrowPageQuerySet(QuerySet[_M]):
    """A query whose page (a slice) picks its ids by a narrow copy of itself, then reads those rows only.

    Sorting a list to find one page carries every candidate row into the sort with all its columns and joins
    when no index serves the whole order: a requirement list filtered to two flows' statuses of one key sorted
    5,000 full rows with their type, urgency and owner (SQLite at 100,000: 22 ms). The narrow copy has the
    same filters and order and only the joins they need (``values("pk")`` drops ``select_related``); the
    page's query then reads the rows of its ids by primary key and sorts those (1 ms).

    The ids are read by a statement of their own, not put in the page's query as a subquery: PostgreSQL plans
    a query of more than eight joins in the order it is written, and joined the whole table to the type,
    urgency, status and owner before it kept the subquery's 25 ids (the list API at 100,000: 300 ms).
    """

    @overload
    def __getitem__(self, k: int) -> _M: ...

    @overload
    def __getitem__(self, k: str) -> Any: ...

    @overload
    def __getitem__(self, k: slice) -> NarrowPageQuerySet[_M]: ...

    def __getitem__(self, k: int | str | slice) -> Any:
        if (
            not isinstance(k, slice)
            or k.step is not None
            or self._result_cache is not None
            or self._iterable_class is not ModelIterable
            or self.query.is_sliced
            or self.query.combinator
        ):
            return super().__getitem__(cast(Any, k))
        ids = self._newest_window_ids(k)
        if ids is None:
            ids = list(self._narrow().values_list("pk", flat=True)[k])
        return self.filter(pk__in=ids)

    def _newest_window_ids(self, k: slice) -> list[Any] | None:
        """The page's ids read among the newest ``NEWEST_WINDOW`` ids only, when the list is sorted by id
        descending and the window holds the whole page; else None (the caller reads them without the window).

        Exact, not a guess: sorted by id descending, when ``id > top - window`` holds the slice's ``stop``
        rows, the first ``stop`` rows of the list are all in it (any row outside has a smaller id than every
        row inside). Rows added meanwhile have larger ids and are inside the window too."""
        if (
            tuple(self.query.order_by) not in (("-id",), ("-pk",))
            or connections[self.db].vendor not in NEWEST_WINDOW_VENDORS
            or k.stop is None
            or (k.start or 0) < 0
            or k.stop <= (k.start or 0)
        ):
            return None
        top = self.model._base_manager.using(self.db).order_by("-pk").values_list("pk", flat=True).first()
        if not isinstance(top, int) or top <= NEWEST_WINDOW:
            return None  # the window would be the whole table: one statement less without it
        windowed = self._narrow().filter(pk__gt=top - NEWEST_WINDOW).values_list("pk", flat=True)[k]
        ids = _walking_the_primary_key(windowed)
        return ids if len(ids) == k.stop - (k.start or 0) else None

    def _narrow(self) -> QuerySet[_M]:
        return ordinary(self)


def _walking_the_primary_key(rows: QuerySet[Any]) -> list[Any]:
    """``rows`` read by walking the primary key backwards, with bitmap scans off for that one statement.

    Within the window PostgreSQL still combined the GIN bitmap of every match of a common word with the id
    range (批量折扣 at 1,000,000: 27–32 ms), where walking the window's ids from the newest stops after the
    page's rows (1–2 ms) and reads at most the window. Bitmap scans are the only way the GIN index is read, so
    with them off the walk is the plan; the setting is local to a transaction (a savepoint inside one) and is
    set back right after the statement."""
    connection = connections[rows.db]
    if connection.vendor != "postgresql":
        return list(rows)
    with transaction.atomic(using=rows.db), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_bitmapscan')")
        (before,) = cursor.fetchone()
        cursor.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
        ids = list(rows)  # an error rolls the savepoint back, and the setting with it
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])
    return ids


def ordinary(qs: QuerySet[_M]) -> QuerySet[_M]:
    """The same query as a plain QuerySet, whose slices are the ordinary LIMIT / OFFSET (for rows that are
    narrow already, such as the board's cards: picking their ids first would only add a statement)."""
    return QuerySet(model=qs.model, query=qs.query.chain(), using=qs.db)


def narrow_pages(qs: QuerySet[_M], kind: type[NarrowPageQuerySet[Any]] = NarrowPageQuerySet) -> NarrowPageQuerySet[_M]:
    """``qs`` as a ``kind`` (a copy: the class adds behaviour, no state)."""
    clone = qs.all()
    clone.__class__ = kind
    return cast(NarrowPageQuerySet[_M], clone)


def known_empty(obj: Model, name: str) -> None:
    """Record that ``obj``'s to-many relation ``name`` has no rows, as a prefetch that found none would: its
    ``.all()`` is then an empty list read from memory, with no statement (``prefetch_related_objects`` stores
    the same)."""
    rows = getattr(obj, name).get_queryset()
    rows._result_cache = []
    rows._prefetch_done = True
    cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = rows

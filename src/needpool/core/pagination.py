"""Bounded pagination shared by API lists (page pagination with a capped page size), and the query set whose
pages pick their ids before they read their rows."""

from __future__ import annotations

from typing import Any, TypeVar, cast, overload

from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows, so a search whose common word matches 50,000 requirements shows
    "1000+" instead of counting every match on each page view."""

    def __init__(self, object_list: Any, per_page: int, cap: int = 1000, **kwargs: Any) -> None:
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
        if hasattr(rows, "order_by"):
            rows = rows.order_by()
        counted = rows[: self.cap + 1].count()  # type: ignore[attr-defined]
        self.capped = counted > self.cap
        return min(counted, self.cap)

    @property
    def count_display(self) -> str:
        total = self.count
        return f"{total}+" if self.capped else str(total)


_M = TypeVar("_M", bound=Model)


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
        ids = list(self._narrow().values_list("pk", flat=True)[k])
        return self.filter(pk__in=ids)

    def _narrow(self) -> QuerySet[_M]:
        return ordinary(self)


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

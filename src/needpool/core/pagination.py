"""Bounded pagination shared by API lists (page pagination with a capped page size)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
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
        counted = self.object_list[: self.cap + 1].count()  # type: ignore[attr-defined]
        self.capped = counted > self.cap
        return min(counted, self.cap)

    @property
    def count_display(self) -> str:
        total = self.count
        return f"{total}+" if self.capped else str(total)

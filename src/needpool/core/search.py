"""Full-text search over jieba-segmented text: SQLite FTS5 by default, PostgreSQL a stored tsvector column + GIN."""

from __future__ import annotations

from typing import TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

from needpool.core.text import query_terms

M = TypeVar("M", bound=Model)


def _fts5_query(terms: tuple[str, ...]) -> str:
    return " AND ".join('"' + term.replace('"', '""') + '"' for term in terms)


def full_text_filter(
    qs: QuerySet[M], query: str, *, fts_table: str, vector_column: str = "search_vector"
) -> QuerySet[M]:
    """Rows of ``qs`` whose indexed text holds every word of ``query``: on SQLite the FTS5 table ``fts_table``
    (rowid = the row's id), on PostgreSQL the row's stored ``tsvector`` column ``vector_column`` (generated from
    its index text by the database, GIN-indexed)."""
    terms = query_terms(query)
    if not terms:
        return qs
    table = qs.model._meta.db_table
    if connection.vendor == "postgresql":
        return qs.extra(  # noqa: S610 - parameters are bound
            where=[f"{table}.{vector_column} @@ plainto_tsquery('simple', %s)"],
            params=[" ".join(terms)],
        )
    return qs.extra(  # noqa: S610 - parameters are bound
        where=[f"{table}.id IN (SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH %s)"],
        params=[_fts5_query(terms)],
    )

"""Chinese text tools: jieba segmentation for the full-text index and queries."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

_TOKEN = re.compile(r"[\w\u4e00-\u9fff]+", re.UNICODE)
_MAX_QUERY_TERMS = 12


def _clean_tokens(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for token in tokens:
        for part in _TOKEN.findall(token.lower()):
            if part:
                out.append(part)
    return out


def segment_for_index(*texts: str | None) -> str:
    """Fine-grained words (search mode) of all ``texts``, space-separated, for the index column."""
    joined = " ".join(t for t in texts if t)
    return " ".join(_clean_tokens(list(jieba.cut_for_search(joined))))


@lru_cache(maxsize=2048)
def query_terms(query: str) -> tuple[str, ...]:
    """Words of a user's query; each must occur in a match."""
    tokens = _clean_tokens(list(jieba.cut(query.strip())))
    seen: dict[str, None] = {}
    for token in tokens:
        seen.setdefault(token, None)
    return tuple(list(seen)[:_MAX_QUERY_TERMS])


def human_join(items: list[str] | tuple[str, ...]) -> str:
    """Join words as a list in the active language (、 in Chinese, a comma in English)."""
    from django.utils.translation import gettext as _

    return _("、").join(str(item) for item in items)

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
    """Fine-grained words (search mode) of all ``texts``, space-separated, for the index column.

    Each text is segmented on its own: jieba never joins words across the space between two texts, so this is
    the segmentation of the joined texts, and a text met again (a title that repeats the description, an edit
    that left the description as it was) is not segmented twice.
    """
    return " ".join(words for words in (_segment_text(t) for t in texts if t) if words)


@lru_cache(maxsize=256)
def _segment_text(text: str) -> str:
    return " ".join(_clean_tokens(list(jieba.cut_for_search(text))))


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

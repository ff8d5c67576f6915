"""The n-grams of many texts at once and their inverted lists equal those of each text on its own."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.requirements.dedup import segment, text


def reference_keys(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each text normalised on its own (``text.normalize``), then its 1- and 2-grams: the definition."""
    rows: list[int] = []
    keys: list[int] = []
    bigrams: list[tuple[int, int]] = []
    for row, raw in enumerate(texts):
        for word in text.normalize(raw).split(" "):
            points = [ord(c) for c in word]
            rows.extend([row] * len(points))
            keys.extend(points)
            bigrams.extend((row, a << 21 | b) for a, b in itertools.pairwise(points))
    return (
        np.array(rows + [r for r, _k in bigrams], dtype=np.int64),
        np.array(keys + [k for _r, k in bigrams], dtype=np.int64),
    )


def pairs(rows: np.ndarray, keys: np.ndarray) -> list[tuple[int, int]]:
    return sorted(zip(rows.tolist(), keys.tolist(), strict=True))


# Chinese, full-width forms, Greek capital sigma (its lower case depends on what follows), combining marks,
# NUL, underscores, punctuation and spaces: what a joined normalisation could get wrong at a text's edges.
ALPHABET = st.sampled_from(
    [*"订单导出报表批量折扣ＡＢｃ１２aZ9 _-，。!?\n\t\x00", "Σ", "ΑΣ", "\u0301", "e\u0301", "ﬁ", "Ⅻ", "㈱", "İ"]
)
TEXTS = st.lists(st.lists(ALPHABET, max_size=12).map("".join), max_size=8)


@settings(max_examples=300, deadline=None)
@given(texts=TEXTS)
def test_the_keys_of_many_texts_at_once_are_those_of_each_text(texts):
    assert pairs(*text.ngram_keys(texts)) == pairs(*reference_keys(texts))


@settings(max_examples=200, deadline=None)
@given(texts=TEXTS, chunk=st.integers(1, 4))
def test_inverted_lists_built_a_chunk_at_a_time_equal_the_plain_ones(texts, chunk):
    original = segment.CHUNK_TEXTS
    segment.CHUNK_TEXTS = chunk
    try:
        built = segment._postings_of(texts)
    finally:
        segment.CHUNK_TEXTS = original
    expected = segment._postings(*reference_keys(texts))
    for got, want in zip(built, expected, strict=True):
        assert got.tolist() == want.tolist()

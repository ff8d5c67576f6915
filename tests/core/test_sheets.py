"""Formula-like text is kept as text in every sheet the product writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from needpool.core.sheets import FORMULA_STARTS, csv_text, formula_like, neutral_text


@given(st.sampled_from(FORMULA_STARTS), st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=30))
def test_every_formula_start_is_protected(start: str, rest: str) -> None:
    text = start + rest
    assert csv_text(text) == "'" + text
    clean, risky = neutral_text("\x00" + text)  # a NUL is dropped, the rest is judged
    assert clean == text and risky


@given(st.text(max_size=30).filter(lambda t: not t.startswith(FORMULA_STARTS)))
def test_plain_text_is_left_as_it_is(text: str) -> None:
    assert csv_text(text) == text
    assert not formula_like(text)

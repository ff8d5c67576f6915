"""``{% requirement_rows %}`` writes the list's rows exactly as the template loop it replaced wrote them (kept in
``reference/requirement_rows.html``): any title, code, tags, customers, classification, owner, dates and SLA, in
both languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe
from hypothesis import given, settings
from hypothesis import strategies as st

REFERENCE = (Path(__file__).parent / "reference/requirement_rows.html").read_text(encoding="utf-8")
TEXT = st.text(alphabet=st.sampled_from(list("ab 需求<>&\"'%、")), max_size=8)


class _Named(SimpleNamespace):
    def __str__(self) -> str:
        return self.label


class _Many:
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def all(self) -> list[Any]:
        return self.items


OPTION = st.builds(
    _Named, label=st.one_of(TEXT, TEXT.map(mark_safe)), key=st.sampled_from(["urgent", "important", "x"])
)
ROW = st.builds(
    SimpleNamespace,
    pk=st.integers(min_value=1, max_value=2**63 - 1),
    code=TEXT,
    version=st.integers(min_value=0, max_value=10**6),
    title=st.one_of(TEXT, TEXT.map(mark_safe)),
    tags=st.lists(OPTION, max_size=3).map(_Many),
    customers=st.lists(st.builds(SimpleNamespace, name=TEXT), max_size=4),
    type=st.one_of(st.none(), OPTION),
    urgency=st.one_of(st.none(), OPTION),
    status=st.one_of(st.none(), OPTION),
    priority=st.sampled_from(["", "P0", "P1", "<b>"]),
    owner=st.one_of(st.none(), OPTION),
    expected_date=st.one_of(st.none(), st.dates(min_value=dt.date(1, 1, 1))),
    sla_breached=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(ROW, max_size=4),
    can_create=st.booleans(),
    bulk_enabled=st.booleans(),
    language=st.sampled_from(["zh-hans", "en"]),
)
def test_the_rows_are_written_as_the_template_loop_wrote_them(rows, can_create, bulk_enabled, language):
    engine = engines["django"]
    context = {"rows": rows, "can_create": can_create, "bulk": {"enabled": bulk_enabled}}
    with translation.override(language):
        expected = engine.from_string("{% load i18n %}" + REFERENCE).render(context)
        written = engine.from_string(
            "{% load requirement_rows %}      {% requirement_rows rows can_create|default:bulk.enabled %}"
        ).render(context)
    assert written == expected


def test_the_list_page_shows_the_rows(client, users, requirement, customer):
    client.force_login(users["manager"])
    html = client.get("/requirements/").content.decode()
    assert f'<tr class="requirement-row" data-code="{requirement.code}" data-id="{requirement.pk}">' in html
    assert f'<a href="/requirements/{requirement.pk}/" class="np-clamp" title="{requirement.title}">' in html
    assert f'title="{customer.name}">{customer.name}</span>' in html
    assert f'value="{requirement.pk}" data-version="{requirement.version}"' in html  # a manager may select rows

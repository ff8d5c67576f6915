"""``FastSelectRenderer`` writes a plain select, every input and a text area exactly as Django's templates do,
for any choices, values and attributes; anything else goes through the templates."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.core.renderers import FastSelectRenderer

TEXT = st.text(alphabet=st.sampled_from(list("ab 需求<>&\"'=")), max_size=6)
VALUE = st.one_of(TEXT, st.integers(min_value=-5, max_value=2000), st.none(), st.booleans())
LABEL = st.one_of(
    TEXT,
    st.integers(min_value=0, max_value=5000),
    TEXT.map(mark_safe),
    st.just(gettext_lazy("全部")),
)
CHOICE = st.tuples(VALUE, LABEL)
CHOICES = st.lists(
    st.one_of(CHOICE, st.tuples(TEXT.filter(bool), st.lists(CHOICE, min_size=1, max_size=3))), max_size=6
)
ATTRS = st.dictionaries(
    st.sampled_from(["class", "id", "data-x", "disabled", "aria-describedby", "required", "title"]),
    st.one_of(TEXT, st.booleans(), st.none(), st.integers(min_value=0, max_value=99)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    choices=CHOICES,
    multiple=st.booleans(),
    name=TEXT,
    picked=st.lists(VALUE, max_size=3),
    attrs=ATTRS,
    call_attrs=ATTRS,
)
def test_a_select_is_written_as_the_templates_write_it(choices, multiple, name, picked, attrs, call_attrs):
    widget_class = forms.SelectMultiple if multiple else forms.Select
    widget = widget_class(attrs=attrs, choices=choices)
    value: Any = picked if multiple else (picked[0] if picked else None)
    fast = widget.render(name, value, attrs=call_attrs, renderer=FastSelectRenderer())
    slow = widget.render(name, value, attrs=call_attrs, renderer=DjangoTemplates())
    assert fast == slow


INPUT_WIDGETS = [
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.PasswordInput,
    forms.HiddenInput,
    forms.DateInput,
    forms.DateTimeInput,
    forms.TimeInput,
    forms.CheckboxInput,
    forms.FileInput,
    forms.SearchInput,
    forms.TelInput,
    forms.ColorInput,
]
INPUT_VALUE = st.one_of(
    TEXT,
    TEXT.map(mark_safe),
    st.integers(min_value=-5, max_value=20000),
    st.none(),
    st.booleans(),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-1000, max_value=1000),
    st.just(gettext_lazy("全部")),
)


@settings(max_examples=400, deadline=None)
@given(
    widget_class=st.sampled_from(INPUT_WIDGETS),
    name=TEXT,
    value=INPUT_VALUE,
    attrs=ATTRS,
    call_attrs=ATTRS,
    render_value=st.booleans(),
)
def test_an_input_is_written_as_the_templates_write_it(widget_class, name, value, attrs, call_attrs, render_value):
    widget = (
        widget_class(attrs=attrs, render_value=render_value)
        if widget_class is forms.PasswordInput
        else (widget_class(attrs=attrs))
    )
    fast = widget.render(name, value, attrs=call_attrs, renderer=FastSelectRenderer())
    slow = widget.render(name, value, attrs=call_attrs, renderer=DjangoTemplates())
    assert fast == slow


@settings(max_examples=200, deadline=None)
@given(name=TEXT, value=INPUT_VALUE, attrs=ATTRS, call_attrs=ATTRS)
def test_a_text_area_is_written_as_the_templates_write_it(name, value, attrs, call_attrs):
    widget = forms.Textarea(attrs=attrs)
    fast = widget.render(name, value, attrs=call_attrs, renderer=FastSelectRenderer())
    slow = widget.render(name, value, attrs=call_attrs, renderer=DjangoTemplates())
    assert fast == slow


@pytest.fixture
def templates_used(monkeypatch) -> list[str]:
    """The names of the templates Django's form renderer renders while the test runs."""
    used: list[str] = []
    original = DjangoTemplates.render

    def spy(self: Any, template_name: str, context: Any, request: Any = None) -> str:
        used.append(template_name)
        return original(self, template_name, context, request)

    monkeypatch.setattr(DjangoTemplates, "render", spy)
    return used


def test_the_renderer_writes_inputs_without_templates(templates_used):
    used = templates_used
    renderer = FastSelectRenderer()
    assert forms.TextInput().render("t", "a<b", renderer=renderer) == '<input type="text" name="t" value="a&lt;b">'
    assert forms.Textarea().render("d", "x", renderer=renderer).endswith(">\nx</textarea>")
    assert used == []


def test_the_renderer_writes_selects_itself_and_leaves_other_widgets_to_the_templates(templates_used):
    used = templates_used
    renderer = FastSelectRenderer()
    html = forms.Select(choices=[("a", "甲")]).render("k", "a", renderer=renderer)
    assert html.startswith('<select name="k">') and '<option value="a" selected>甲</option>' in html
    assert used == []  # no template
    forms.ClearableFileInput().render("f", None, renderer=renderer)
    forms.RadioSelect(choices=[("a", "甲")]).render("r", "a", renderer=renderer)
    assert "django/forms/widgets/clearable_file_input.html" in used and "django/forms/widgets/radio.html" in used


def test_a_select_with_its_own_option_template_goes_through_the_templates(monkeypatch):
    class Starred(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    fast = Starred(choices=[("a", "甲")]).render("k", "a", renderer=FastSelectRenderer())
    slow = Starred(choices=[("a", "甲")]).render("k", "a", renderer=DjangoTemplates())
    assert fast == slow and "<option" not in fast


@pytest.mark.parametrize("path", ["/requirements/", "/requirements/new/", "/customers/", "/customers/new/"])
def test_pages_render_their_selects_with_the_fast_renderer(client, users, path, settings):
    """The pages' forms give the same markup with either renderer."""
    client.force_login(users["manager"])
    fast = client.get(path).content.decode()
    settings.FORM_RENDERER = "django.forms.renderers.DjangoTemplates"
    from django.forms import renderers

    renderers.get_default_renderer.cache_clear()
    try:
        slow = client.get(path).content.decode()
    finally:
        renderers.get_default_renderer.cache_clear()
    assert "<select" in fast
    import difflib

    diff = list(difflib.unified_diff(_without_tokens(slow).splitlines(), _without_tokens(fast).splitlines(), n=0))
    assert diff == [], "\n".join(diff[:20])


def _without_tokens(html: str) -> str:
    import re

    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "<token>", html)  # CSRF tokens differ per response
    return re.sub(r'nonce="[^"]+"', 'nonce=""', html)  # and so do script nonces

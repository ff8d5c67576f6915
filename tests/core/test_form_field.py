"""The ``form_field`` tag writes a form field exactly as the template it replaced wrote it (kept in
``reference/form_field.html``), for every kind of widget, bound or not, with errors, help texts and labels that
need escaping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.template import engines
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

REFERENCE = (Path(__file__).parent / "reference/form_field.html").read_text(encoding="utf-8")
TEXT = st.text(alphabet=st.sampled_from(list("ab 需求<>&\"'")), max_size=6)
LABEL = st.one_of(TEXT, TEXT.map(mark_safe), st.just(gettext_lazy("全部")))
CHOICES = st.lists(st.tuples(st.sampled_from(["a", "b", "c", "1", "<x>"]), LABEL), max_size=4, unique_by=lambda c: c[0])
KINDS = ["text", "textarea", "checkbox", "select", "radio", "checkboxes", "hidden", "date", "integer"]


def _field(kind: str, required: bool, label: Any, help_text: Any, choices: list[tuple[str, Any]]) -> forms.Field:
    common: dict[str, Any] = {"required": required, "label": label, "help_text": help_text}
    if kind == "text":
        return forms.CharField(max_length=3, **common)
    if kind == "textarea":
        return forms.CharField(widget=forms.Textarea, **common)
    if kind == "checkbox":
        return forms.BooleanField(**common)
    if kind == "select":
        return forms.ChoiceField(choices=choices, **common)
    if kind == "radio":
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == "checkboxes":
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)
    if kind == "hidden":
        return forms.CharField(widget=forms.HiddenInput, **common)
    if kind == "date":
        return forms.DateField(**common)
    return forms.IntegerField(min_value=0, **common)


FORM = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "required": st.booleans(),
        "label": LABEL,
        "help_text": st.one_of(st.just(""), LABEL),
        "choices": CHOICES,
        "data": st.one_of(st.none(), st.dictionaries(st.just("f"), st.one_of(TEXT, st.sampled_from(["a", "7", "-1"])))),
        "auto_id": st.sampled_from(["id_%s", False, "x-%s"]),
        "prefix": st.sampled_from([None, "p"]),
        "inline": st.sampled_from([True, False, ""]),
    }
)


@settings(max_examples=300, deadline=None)
@given(spec=FORM)
def test_a_field_is_written_as_the_template_wrote_it(spec):
    field = _field(spec["kind"], spec["required"], spec["label"], spec["help_text"], spec["choices"])
    form_class = type("F", (forms.Form,), {"f": field})
    form = form_class(spec["data"], auto_id=spec["auto_id"], prefix=spec["prefix"])
    bound = form["f"]
    engine = engines["django"]
    context = {"field": bound, "inline": spec["inline"]}
    expected = engine.from_string(REFERENCE).render(context)
    assert engine.get_template("includes/form_field.html").render(context) == expected


def test_the_pages_fields_come_from_the_tag(client, users):
    """The filter form of the list page: labels, widgets and the field wrappers the template wrote."""
    client.force_login(users["manager"])
    html = client.get("/requirements/?type=no-such-type").content.decode()
    assert '<div class="mb-3 form-field-q">' in html
    assert '<label class="form-label" for="id_q">' in html
    assert 'class="invalid-feedback d-block" id="id_type_error"' in html  # a filter it could not read

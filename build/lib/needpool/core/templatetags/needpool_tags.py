"""Template helpers shared by every page: querystring building, pagination, Tabler form widgets."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Page
from django.forms.boundfield import BoundField, BoundWidget
from django.http import HttpRequest
from django.template import Library
from django.utils.safestring import SafeString

register = Library()


@register.simple_tag
def url_replace(request: HttpRequest, field: str, value: object) -> str:
    """The current GET querystring (no leading "?") with ``field`` set to ``value``.

    Every other parameter (filters, search, sort) is kept; an empty or None value removes
    ``field``. Usage: ``href="?{% url_replace request 'page' 3 %}"``.
    """
    query = request.GET.copy()
    if value is None or value == "":
        query.pop(field, None)
    else:
        query[field] = str(value)
    return query.urlencode()


@register.simple_tag
def elided_pages(page_obj: Page[Any]) -> list[int | None]:
    """Page numbers around the current one; None stands for a gap ("…")."""
    ellipsis = page_obj.paginator.ELLIPSIS
    return [
        None if number == ellipsis else int(number)
        for number in page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1)
    ]


@register.filter
def widget_kind(field: BoundField) -> str:
    """How a field is laid out: hidden, checkbox, choices (radios/checkboxes), select, input."""
    widget = field.field.widget
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return "choices"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "select"
    return "input"


_KIND_CLASS = {
    "checkbox": "form-check-input",
    "choices": "form-check-input",
    "select": "form-select",
}


@register.filter
def tabler_widget(field: BoundField, extra_class: str = "") -> SafeString:
    """Render the field's widget with Tabler/Bootstrap classes (and is-invalid on errors)."""
    existing = str(field.field.widget.attrs.get("class", ""))
    classes = [existing, _KIND_CLASS.get(widget_kind(field), "form-control"), extra_class]
    if field.errors:
        classes.append("is-invalid")
    return field.as_widget(attrs={"class": " ".join(c for c in classes if c)})


@register.simple_tag
def choice_options(field: BoundField) -> list[BoundWidget]:
    """One rendered-able option per choice of a RadioSelect / CheckboxSelectMultiple field.

    Each option has ``tag`` (the bare input, classed form-check-input) and ``choice_label``.
    """
    widget = field.field.widget
    attrs: dict[str, str | bool] = {"class": "form-check-input"}
    auto_id = widget.attrs.get("id") or field.auto_id
    if auto_id:
        attrs["id"] = str(auto_id)
    attrs = field.build_widget_attrs(attrs)
    return [
        BoundWidget(widget, data, field.form.renderer)
        for data in widget.subwidgets(field.html_name, field.value(), attrs=attrs)
    ]

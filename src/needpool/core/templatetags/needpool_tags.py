"""Template helpers shared by every page: querystring building, pagination, Tabler form widgets and fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Page
from django.forms.boundfield import BoundField, BoundWidget
from django.http import HttpRequest
from django.template import Library
from django.utils.safestring import SafeString, mark_safe

from needpool.core.markup import shown as _shown

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


@register.simple_tag
def form_field(field: BoundField, inline: bool = False) -> SafeString:
    """One bound field, Tabler style (``includes/form_field.html``): label, widget, help text, errors.

    Written in Python, not as a template: a page's form renders a dozen fields or more, and the template took
    ~0.5 ms a field. The markup is the template's as it was, character for character (property-tested against
    it in ``tests/core/test_form_field.py``).
    """
    kind = widget_kind(field)
    if kind == "hidden":
        return mark_safe(f"\n\n{_shown(field)}\n")  # noqa: S308 - the widget's markup, escaped by its renderer
    required = " required" if field.field.required else ""
    auto_id = _shown(field.auto_id)
    if kind == "checkbox":
        body = (
            f'\n  <label class="form-check" for="{_shown(field.id_for_label)}">\n    {tabler_widget(field)}\n'
            f'    <span class="form-check-label{required}">{_shown(field.label)}</span>\n  </label>\n  '
        )
    elif kind == "choices":
        row = " form-check-inline" if inline else ""
        options = "".join(
            f'\n    <label class="form-check{row}">\n      {_shown(option.tag())}\n'
            f'      <span class="form-check-label">{_shown(option.choice_label)}</span>\n    </label>\n    '
            for option in choice_options(field)
        )
        body = (
            f'\n  <div class="form-label{required}" id="{auto_id}_label">{_shown(field.label)}</div>\n'
            f'  <div role="group" aria-labelledby="{auto_id}_label">\n    \n    {options}\n  </div>\n  '
        )
    else:
        body = (
            f'\n  <label class="form-label{required}" for="{_shown(field.id_for_label)}">{_shown(field.label)}</label>'
            f"\n  {tabler_widget(field)}\n  "
        )
    help_text = (
        f'<small class="form-hint" id="{auto_id}_helptext">{_shown(field.help_text)}</small>' if field.help_text else ""
    )
    errors = field.errors
    shown_errors = (
        f'\n  <div class="invalid-feedback d-block" id="{auto_id}_error">'
        + "".join(f"<div>{_shown(error)}</div>" for error in errors)
        + "</div>\n  "
        if errors
        else ""
    )
    html = (
        f'\n\n\n<div class="mb-3 form-field-{_shown(field.html_name)}">\n  {body}\n  {help_text}\n  {shown_errors}'
        "\n</div>\n\n"  # the include's file ends with the last line end
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped as the template escaped it

"""The form renderer: Django's own, with ``<select>``, ``<input>`` and ``<textarea>`` written in Python.

Django renders every ``<option>`` of a select through the template engine (an include and the attribute loop per
option), and every input through three templates (``text.html`` → ``input.html`` → ``attrs.html``). The
requirement list's filter form has a dozen selects with their options (statuses, owners, types …) and six
inputs: rendering its widgets took ~15 ms of each list page. ``FastSelectRenderer`` writes the same markup,
character for character, from the context Django builds (``Select.get_context``: names, values, labels,
``selected``; ``Input.get_context``: type, name, value, attributes); any other template, and a select whose
template or option template is not Django's, goes through the templates as before. Property-tested against the
templates (``tests/core/test_renderers.py``).
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

from needpool.core.markup import formatted as _formatted
from needpool.core.markup import shown as _shown

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
TEXTAREA = "django/forms/widgets/textarea.html"
#: Django's widget templates that are nothing but ``{% include "django/forms/widgets/input.html" %}``
INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "checkbox", "color", "date", "datetime", "email", "file", "hidden", "input", "number", "password",
        "search", "tel", "text", "time", "url",
    )
)  # fmt: skip


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: `` name`` for True, `` name="value"`` otherwise, nothing for False."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_shown(name)}" if value is True else f' {_shown(name)}="{_formatted(value)}"')
    return "".join(parts)


def render_select(widget: dict[str, Any]) -> SafeString:
    """The markup of ``select.html`` for a widget context whose options all use ``select_option.html``."""
    parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            parts.append(
                f'\n  <option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_shown(option['label'])}</option>\n"  # the option template's own last line end
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")  # the renderer strips the template's last line end
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped as the templates escape it


def render_input(widget: dict[str, Any]) -> SafeString:
    """The markup of ``input.html``: type, name, the value unless it is None, the attributes."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    html = f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    return mark_safe(html)  # noqa: S308 - every value above is escaped as the templates escape it


def render_textarea(widget: dict[str, Any]) -> SafeString:
    """The markup of ``textarea.html``: the value on the line after the opening tag, when it is not empty."""
    text = _shown(widget["value"]) if widget["value"] else ""
    html = f'<textarea name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}</textarea>'
    return mark_safe(html)  # noqa: S308 - escaped as above


def _plain_select(context: dict[str, Any]) -> bool:
    widget = context.get("widget")
    if not isinstance(widget, dict) or "optgroups" not in widget:
        return False
    return all(
        option.get("template_name") == OPTION for _name, choices, _index in widget["optgroups"] for option in choices
    )


class FastSelectRenderer(DjangoTemplates):
    """Django's template form renderer, except that plain selects, inputs and text areas are written in Python
    (see the module)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT and _plain_select(context):
            return render_select(context["widget"])
        if template_name in INPUTS and _widget_with(context, "type", "value"):
            return render_input(context["widget"])
        if template_name == TEXTAREA and _widget_with(context, "value"):
            return render_textarea(context["widget"])
        return super().render(template_name, context, request=request)


def _widget_with(context: dict[str, Any], *keys: str) -> bool:
    widget = context.get("widget")
    return isinstance(widget, dict) and all(key in widget for key in ("name", "attrs", *keys))

"""The form renderer: Django's own, with ``<select>`` written in Python.

Django renders every ``<option>`` of a select through the template engine (an include and the attribute loop per
option). The requirement list's filter form has a dozen selects with their options (statuses, owners, types …):
rendering its widgets took ~15 ms of each list page. ``FastSelectRenderer`` writes the same markup, character for
character, from the context Django builds (``Select.get_context``: names, values, labels, ``selected``); any
other template, and a select whose template or option template is not Django's, goes through the templates as
before. Property-tested against the templates (``tests/core/test_renderers.py``).
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData, SafeString, mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


def _formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: "%s" of the value, escaped unless it is marked safe already."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)


def _shown(value: Any) -> str:
    """``{{ value }}``: localized, then escaped unless safe."""
    return str(conditional_escape(localize(value)))


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


def _plain_select(context: dict[str, Any]) -> bool:
    widget = context.get("widget")
    if not isinstance(widget, dict) or "optgroups" not in widget:
        return False
    return all(
        option.get("template_name") == OPTION for _name, choices, _index in widget["optgroups"] for option in choices
    )


class FastSelectRenderer(DjangoTemplates):
    """Django's template form renderer, except that plain selects are written in Python (see the module)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == SELECT and _plain_select(context):
            return render_select(context["widget"])
        return super().render(template_name, context, request=request)

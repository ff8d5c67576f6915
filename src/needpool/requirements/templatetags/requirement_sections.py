"""``{% requirement_sections requirement "detail" as panels %}``: the panels other apps add (lifecycle.Section)."""

from __future__ import annotations

from typing import Any

from django.template import Library
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from needpool.requirements import lifecycle

register = Library()


@register.simple_tag(takes_context=True)
def requirement_sections(context: Any, requirement: Any, place: str) -> list[dict[str, Any]]:
    """Each registered section for ``place`` that has something to show: key, label and its rendered HTML."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    shown = []
    for section in lifecycle.sections(place):
        data = section.context(requirement, user)
        if data is None:
            continue
        html: SafeString = mark_safe(  # noqa: S308 - a template render, escaped by Django's autoescape
            render_to_string(section.template, {**data, "requirement": requirement, "place": place}, request=request)
        )
        shown.append({"key": section.key, "label": section.label(), "html": html})
    return shown

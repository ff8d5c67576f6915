"""``{% requirement_sections requirement "detail" as panels %}``: the panels other apps add (lifecycle.Section)."""

from __future__ import annotations

from typing import Any

from django.template import Library

from needpool.requirements.sections import render_sections

register = Library()


@register.simple_tag(takes_context=True)
def requirement_sections(context: Any, requirement: Any, place: str) -> list[dict[str, Any]]:
    """Each registered section for ``place`` that has something to show: key, label and its rendered HTML."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return render_sections(place, requirement, user=user, base=context.flatten())

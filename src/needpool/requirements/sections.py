"""Rendering the panels other apps add to a requirement's pages (``lifecycle.Section``).

Each section's template is rendered with the page's own context values (user, request, CSRF token, language)
plus what the section's ``context`` returned — without running the context processors again per section, so
a page's query count grows by what the sections themselves read, not by the page's frame once per section.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe

from needpool.requirements import lifecycle
from needpool.requirements.models import Requirement


def render_sections(
    place: str,
    requirement: Requirement,
    *,
    user: Any,
    request: HttpRequest | None = None,
    base: Mapping[str, Any] | None = None,
    template_place: str = "",
) -> list[dict[str, Any]]:
    """Each section registered for ``place`` that has something to show: its key, label and HTML.

    ``base`` is the page's context (a template tag passes ``context.flatten()``); a view passes ``request``
    instead. Section templates see ``place`` = ``template_place`` or ``place`` (e.g. ``print`` in a PDF).
    """
    values: dict[str, Any] = dict(base or {})
    if request is not None:
        values.setdefault("request", request)
        values.setdefault("csrf_token", SimpleLazyObject(lambda: get_token(request)))
    values.setdefault("user", user)
    shown = []
    sections = lifecycle.sections(place)
    recorded = _probe(requirement, [s for s in sections if s.probe is not None])
    for section in sections:
        if recorded.get(section.key, True):
            data = section.context(requirement, user)
        else:
            data = section.when_empty(requirement, user) if section.when_empty is not None else None
        if data is None:
            continue
        html: SafeString = mark_safe(  # noqa: S308 - a template render, escaped by Django's autoescape
            get_template(section.template).render(
                {**values, **data, "requirement": requirement, "place": template_place or place}
            )
        )
        shown.append({"key": section.key, "label": section.label(), "html": html})
    return shown


def _probe(requirement: Requirement, sections: list[lifecycle.Section]) -> dict[str, bool]:
    """Each probed section's key: whether it has anything recorded for ``requirement`` (one statement)."""
    if not sections:
        return {}
    row = (
        Requirement.all_objects.filter(pk=requirement.pk)
        .annotate(**{f"probe_{s.key}": s.probe() for s in sections if s.probe is not None})
        .values(*(f"probe_{s.key}" for s in sections))
        .first()
    )
    return {s.key: bool(row and row[f"probe_{s.key}"]) for s in sections}

"""Markup written in Python the way Django's templates write it (for the hot paths that skip a template).

``shown(value)`` is ``{{ value }}`` with autoescaping on: local time, localized, made a string, escaped unless
it is safe already (an object whose ``__str__`` gives a safe string stays unescaped, as in a template).
``formatted(value)`` is ``{{ value|stringformat:'s' }}``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData


def shown(value: Any) -> str:
    """``{{ value }}``: as ``django.template.base.render_value_in_context`` writes it."""
    value = localize(timezone.template_localtime(value))  # type: ignore[attr-defined]
    if not issubclass(type(value), str):
        value = str(value)
    return str(conditional_escape(value))


def formatted(value: Any) -> str:
    """``{{ value|stringformat:'s' }}``: "%s" of the value, escaped unless it is marked safe already."""
    text = "%s" % (str(value) if isinstance(value, tuple) else value)
    return text if isinstance(value, SafeData) else escape(text)

"""Template filters for the classification rule pages (the admin menu link)."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.requirements.services.classification import may_configure

register = template.Library()


@register.filter
def can_configure_classification(user: Any) -> bool:
    return may_configure(user)

"""Template filters of the reviews app, for pages of other apps that offer "加入评审"."""

from __future__ import annotations

from typing import Any

from django.template import Library

from needpool.reviews.permissions import can_review as _can_review

register = Library()


@register.filter
def can_review(user: Any) -> bool:
    """May ``user`` put requirements on a review meeting's agenda."""
    return _can_review(user)

"""``{% collapsed_statuses columns as collapsed %}``: the board columns shown narrow at first (a drop target that
expands on a click): the empty ones, and the ends of the flow (deferred, rejected, and the last done status)."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.requirements.choices import StatusCategory

register = template.Library()


@register.simple_tag
def collapsed_statuses(columns: list[dict[str, Any]]) -> set[str]:
    done = [c["status"].key for c in columns if c["status"].category == StatusCategory.DONE]
    last_done = done[-1:] if len(done) > 1 else []
    return {
        c["status"].key
        for c in columns
        if c["count"] == 0
        or c["status"].category in (StatusCategory.DEFERRED, StatusCategory.REJECTED)
        or c["status"].key in last_done
    }

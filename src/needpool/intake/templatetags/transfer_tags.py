"""Template helpers of the import / export pages (the navigation shows 导入 only to users who may import)."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.intake.transfer.permissions import can_import as _can_import

register = template.Library()


@register.filter
def can_import(user: Any) -> bool:
    return _can_import(user)


@register.simple_tag
def requirement_export_layouts() -> list[tuple[str, str]]:
    """(key, name) of the layouts a requirement list exports to."""
    from needpool.intake.transfer.exports import REQUIREMENT_LAYOUTS
    from needpool.intake.transfer.imports.layouts import LAYOUTS

    return [(key, str(LAYOUTS[key].name)) for key in REQUIREMENT_LAYOUTS]


@register.simple_tag
def update_policy_columns(job: Any) -> list[dict[str, Any]]:
    """The preview's columns that differ from existing records, with the update policy to choose for each."""
    from needpool.intake.transfer.policy_views import policy_columns

    return policy_columns(job)

"""``{% delete_button "requirement" obj %}``: the 删除 button with its confirm dialog, for those who may delete;
``user|can_open_recycle_bin`` for the navigation."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.core.permissions import is_admin
from needpool.customers.permissions import can_write_customer
from needpool.requirements.services.recycle import can_delete_feedback, can_delete_requirement

register = template.Library()


def may_delete(user: Any, kind: str, obj: Any) -> bool:
    if kind == "requirement":
        return can_delete_requirement(user, obj)
    if kind == "feedback":
        return can_delete_feedback(user, obj)
    if kind == "customer":
        return can_write_customer(user, obj)
    if kind == "contact":
        return can_write_customer(user, obj.customer)
    return False


@register.inclusion_tag("recyclebin/_delete_button.html", takes_context=True)
def delete_button(context: Any, kind: str, obj: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "allowed": obj is not None and may_delete(user, kind, obj),
        "kind": kind,
        "obj": obj,
        "version": getattr(obj, "version", ""),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def can_open_recycle_bin(user: Any) -> bool:
    return is_admin(user)

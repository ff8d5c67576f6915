"""``{% saved_views_menu "requirements" %}``: the list's saved-view dropdown (choose, save the current filters)."""

from __future__ import annotations

from typing import Any

from django import template

from needpool.savedviews.forms import SaveViewForm
from needpool.savedviews.middleware import remember_default, view_address
from needpool.savedviews.models import Visibility
from needpool.savedviews.queries import NOT_STORED, list_url
from needpool.savedviews.selectors import views_for_list

register = template.Library()


@register.inclusion_tag("savedviews/_menu.html", takes_context=True)
def saved_views_menu(context: Any, kind: str) -> dict[str, Any]:
    request = context["request"]
    views = views_for_list(request, kind)
    query = request.GET.copy()
    for key in NOT_STORED:
        query.pop(key, None)
    default = next((v for v in views if getattr(v, "is_default", False)), None)
    remember_default(request, kind, view_address(list_url(kind), default.query, default.pk) if default else "")
    chosen = request.GET.get("view", "")
    current = next((v for v in views if str(v.pk) == chosen), None)
    if current is not None and current.query != query.urlencode():
        current = None  # the filters were changed after the view was chosen
    return {
        "request": request,
        "kind": kind,
        "views": views,
        "current": current,
        "query": query.urlencode(),
        "form": SaveViewForm(initial={"kind": kind, "query": query.urlencode()}, user=request.user),
        "can_share": request.user.team_id is not None,
        "team": Visibility.TEAM,
    }

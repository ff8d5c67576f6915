"""Template tags that show suggestions (type, tags, sentiment) beside the object they are for."""

from typing import Any

from django import template

from needpool.customers.models import Interaction
from needpool.requirements.models import Feedback

register = template.Library()


@register.inclusion_tag("suggest/_panel.html", takes_context=True)
def suggestions_panel(context: Any, obj: Any, lazy: bool = False) -> dict[str, Any]:
    """Suggestions for a feedback item or an interaction, with accept / correct buttons.

    ``lazy=True`` renders a placeholder that htmx fills when it scrolls into view (no queries on the
    page itself: for lists such as a customer's interactions). The page has already read ``obj``
    through its permission-scoped selector.
    """
    from needpool.suggest.selectors import panel_for

    request = context.get("request")
    next_url = request.get_full_path() if request is not None else ""
    if not isinstance(obj, Feedback | Interaction):
        return {"panel": None}
    kind = "feedback" if isinstance(obj, Feedback) else "interaction"
    if lazy:
        return {"lazy": True, "kind": kind, "pk": obj.pk, "next_url": next_url}
    user = getattr(request, "user", None) or context.get("user")
    return {
        "panel": panel_for(user=user, target=obj),
        "next_url": next_url,
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }


@register.filter
def can_view_suggest_models(user: Any) -> bool:
    """Whether the navigation shows the suggestion models page (administrators and analysts)."""
    from needpool.suggest.permissions import can_view_models

    return can_view_models(user)

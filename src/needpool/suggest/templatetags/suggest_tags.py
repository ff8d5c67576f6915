"""Template tags that show suggestions (type, tags, sentiment) beside the object they are for."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("suggest/_panel.html", takes_context=True)
def suggestions_panel(context: Any, obj: Any) -> dict[str, Any]:
    """Suggestions for a feedback item or an interaction, with accept / correct buttons."""
    return {"obj": obj, "suggestions": [], "request": context.get("request")}

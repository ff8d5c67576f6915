"""``{% follow_up_panel customer %}``: the customer's cadence, senior visit and suggested segment (customer page)."""

from __future__ import annotations

from typing import Any

from django.template import Library

from needpool.customers.cadence import cadence_for, segment_suggestion, senior_visit_due
from needpool.customers.permissions import can_write_customer

register = Library()


@register.inclusion_tag("customers/_follow_up_panel.html", takes_context=True)
def follow_up_panel(context: Any, customer: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    suggestion = segment_suggestion(customer)
    return {
        "customer": customer,
        "cadence": cadence_for(customer.segment),
        "senior_visit_due": senior_visit_due(customer),
        "suggestion": suggestion,
        "differs": suggestion.segment != customer.segment,
        "may_apply": can_write_customer(user, customer),
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }

"""The pool's part of a customer's page: its feedback and requirements, and turning a key ask into feedback.

The customer page (``customers.views.customer_detail``) loads ``customer_pool`` with htmx, so the
customers app never reads the pool; it links here when scripts are off. ``ask_to_feedback`` answers
the "转为反馈" buttons of the page's interactions (and shows the similar panel of the new feedback right
there, with "关联到此需求" / "新建需求"); it keeps its address under ``/customers/`` (routed
in ``needpool.urls`` from ``requirements.customer_urls``).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import error_text, is_htmx
from needpool.customers.selectors import customer_get, interaction_get
from needpool.requirements.dedup.views import feedback_panel_context
from needpool.requirements.selectors import feedback_list, requirement_list
from needpool.requirements.services import feedback_from_interaction_ask

CUSTOMER_POOL_LIMIT = 50


@require_GET
def customer_pool(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """A customer's feedback and related requirements, as the user may see them: the customer page's
    cards (htmx), or a page of their own."""
    customer = customer_get(user=request.user, pk=customer_pk)
    context = {
        "customer": customer,
        "feedback_items": list(feedback_list(user=request.user).filter(customer=customer)[:CUSTOMER_POOL_LIMIT]),
        "requirements": list(
            requirement_list(user=request.user, filters={"customer": customer.pk})[:CUSTOMER_POOL_LIMIT]
        ),
        "limit": CUSTOMER_POOL_LIMIT,
    }
    template = "requirements/_customer_pool.html" if is_htmx(request) else "requirements/customer_pool.html"
    return render(request, template, context)


def _interaction_url(customer_pk: int, interaction_pk: int) -> str:
    return reverse("customers:detail", args=[customer_pk]) + f"#interaction-{interaction_pk}"


@require_POST
def ask_to_feedback(request: HttpRequest, interaction_pk: int, index: int) -> HttpResponse:
    """Turn one key ask line of an interaction into a feedback item (idempotent)."""
    interaction = interaction_get(user=request.user, pk=interaction_pk)
    back = _interaction_url(interaction.customer_id, interaction.pk)
    try:
        feedback = feedback_from_interaction_ask(actor=acting_user(request.user), interaction=interaction, index=index)
    except ValidationError as exc:
        if is_htmx(request):
            return render(request, "customers/_ask.html", {"interaction": interaction, "error": error_text(exc)})
        messages.error(request, error_text(exc))
        return redirect(back)
    if is_htmx(request):
        # The next step right there: the similar panel with "关联到此需求" / "新建需求".
        ask = {"index": index, "text": feedback.raw_text, "feedback": feedback}
        context = {"interaction": interaction, "ask": ask} | feedback_panel_context(request.user, feedback)
        return render(request, "requirements/_ask_converted.html", context)
    messages.success(request, _("诉求已转为反馈 #%(id)s。") % {"id": feedback.pk})
    return redirect(back)

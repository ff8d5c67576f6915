"""Pages where staff meet duplicates: the create form's live "similar requirements" panel, the
feedback inbox (feedback not yet linked to a requirement, each with its best match) and the triage
page of one feedback item (link it to a similar requirement, or create a new one from it).

Portal, channel API and imported feedback all land in the inbox: that is where "show the most
similar requirements on entry" happens for those channels.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from needpool.accounts.models import acting_user
from needpool.core.validation import parse_id
from needpool.core.views import error_text, is_htmx, paginate
from needpool.customers.selectors import customer_get
from needpool.requirements.choices import Channel
from needpool.requirements.dedup.index import MAX_TEXT, best_matches, similar_requirements
from needpool.requirements.dedup.selectors import attach_target
from needpool.requirements.dedup.services import can_attach_feedback, feedback_attach, feedback_vote_create
from needpool.requirements.models import Feedback
from needpool.requirements.permissions import can_create_requirement, can_edit_requirement, can_view_requirement
from needpool.requirements.selectors import feedback_get, requirement_get, unlinked_feedback
from needpool.requirements.services import feedback_link

PANEL_LIMIT = 5
TRIAGE_LIMIT = 5


# ---------------------------------------------------------------- the create form's live panel


@require_http_methods(["GET", "POST"])
def similar_panel(request: HttpRequest) -> HttpResponse:
    """The "similar requirements" panel (htmx partial) for the words typed on the create form.

    POST is the panels' way (long words do not fit in an address); GET stays for links and old pages.
    """
    params = request.POST if request.method == "POST" else request.GET
    parts = [params.get(name, "") for name in ("title", "description", "concrete_ask")]
    text = "\n".join(p.strip() for p in parts if p and p.strip())[:MAX_TEXT]
    exclude = [pk for v in params.getlist("exclude") if (pk := parse_id(v)) is not None]
    candidates = similar_requirements(
        user=request.user, text=text, limit=PANEL_LIMIT, exclude_ids=exclude, with_hidden=True
    )
    return render(request, "requirements/_similar.html", {"candidates": candidates, "typed": bool(text)})


def feedback_panel_context(user: Any, feedback: Feedback) -> dict[str, Any]:
    """The similar panel of one feedback item (after "转为反馈"): its matches, each with "关联到此需求"."""
    return {
        "feedback": feedback,
        "candidates": similar_requirements(user=user, text=feedback.raw_text, limit=PANEL_LIMIT, with_hidden=True),
        "typed": True,
        "can_create": can_create_requirement(user),
        "can_attach": can_attach_feedback(user, feedback),
    }


@require_POST
def similar_attach(request: HttpRequest, pk: int) -> HttpResponse:
    """Add feedback item ``pk`` to the chosen similar requirement (services.feedback_attach): the panel's
    "关联到此需求", also for a strong match outside the user's scope (a vote)."""
    feedback = feedback_get(user=request.user, pk=pk)
    requirement = attach_target(parse_id(request.POST.get("requirement", "")))
    error = ""
    # Whether it was theirs to open before the vote: the answer never becomes the way into a hidden requirement.
    in_scope = requirement is not None and can_view_requirement(request.user, requirement)
    if requirement is None:
        error = _("需求不存在或您无权访问。")
    else:
        try:
            feedback_attach(actor=acting_user(request.user), feedback=feedback, requirement=requirement)
        except (ValidationError, PermissionDenied) as exc:
            error = error_text(exc) if isinstance(exc, ValidationError) else str(exc)
    if is_htmx(request):
        if error:
            context = feedback_panel_context(request.user, feedback) | {"error": error}
            return render(request, "requirements/_similar_feedback.html", context)
        assert requirement is not None
        return render(
            request,
            "requirements/_similar_attached.html",
            {
                "feedback": feedback,
                "requirement": requirement,
                "can_view": in_scope,
            },
        )
    if error:
        messages.error(request, error)
        return redirect("requirements:feedback_triage", pk=feedback.pk)
    assert requirement is not None
    messages.success(
        request,
        _("反馈 #%(id)s 已关联到需求 %(code)s。") % {"id": feedback.pk, "code": requirement.code},
    )
    return redirect("requirements:feedback_inbox")


@require_POST
def similar_vote(request: HttpRequest) -> HttpResponse:
    """The create form panel's "记为客户反馈" on a strong match the user may not open: the typed words become
    the chosen customer's feedback on it (services.feedback_vote_create), instead of a duplicate."""
    parts = [request.POST.get(name, "") for name in ("title", "description", "concrete_ask")]
    text = "\n".join(p.strip() for p in parts if p and p.strip())[:MAX_TEXT]
    requirement = attach_target(parse_id(request.POST.get("requirement", "")))
    channel = request.POST.get("channel", "")
    customer = None
    if (customer_pk := parse_id(request.POST.get("customer", ""))) is not None:
        try:
            customer = customer_get(user=request.user, pk=customer_pk)
        except Http404:
            customer = None
    error, feedback = "", None
    if requirement is None:
        error = _("需求不存在或您无权访问。")
    else:
        try:
            feedback = feedback_vote_create(
                actor=acting_user(request.user),
                requirement=requirement,
                raw_text=text,
                channel=channel if channel in Channel.values else Channel.SALES,
                customer=customer,
            )
        except ValidationError as exc:
            error = error_text(exc)
        except PermissionDenied as exc:
            error = str(exc)
    context = {"error": error, "feedback": feedback, "requirement": requirement, "can_view": False}
    return render(request, "requirements/_similar_voted.html", context)  # the panel shows the error too


# ---------------------------------------------------------------- the feedback inbox


def feedback_inbox(request: HttpRequest) -> HttpResponse:
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    page = paginate(request, unlinked_feedback(user=request.user, channel=channel))
    items = list(page.object_list)
    matches = best_matches(user=request.user, texts=[item.raw_text for item in items])
    rows = [{"feedback": item, "match": match} for item, match in zip(items, matches, strict=True)]
    context = {
        "page_obj": page,
        "rows": rows,
        "channels": Channel.choices,
        "channel": channel,
        "can_create": can_create_requirement(request.user),
    }
    return render(request, "requirements/feedback_inbox.html", context)


# ---------------------------------------------------------------- triage of one feedback item


def feedback_triage(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = feedback_get(user=request.user, pk=pk)
    candidates = similar_requirements(user=request.user, text=feedback.raw_text, limit=TRIAGE_LIMIT, with_hidden=True)
    context = {
        "feedback": feedback,
        "candidates": candidates,
        "can_create": can_create_requirement(request.user),
        "create_url": reverse("requirements:create") + f"?feedback={feedback.pk}",
        # Linked as a vote to a requirement out of the user's scope: its code, no link to a page that refuses them.
        "requirement_visible": feedback.requirement is not None
        and can_view_requirement(request.user, feedback.requirement),
    }
    return render(request, "requirements/feedback_triage.html", context)


@require_POST
def feedback_triage_link(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the feedback item to the chosen requirement (services.feedback_link)."""
    feedback = feedback_get(user=request.user, pk=pk)
    back = reverse("requirements:feedback_triage", args=[feedback.pk])
    try:
        requirement = requirement_get(user=request.user, pk=request.POST.get("requirement"))
    except Http404:
        messages.error(request, _("需求不存在或您无权访问。"))
        return redirect(back)
    if feedback.requirement_id is not None:
        messages.error(request, _("该反馈已关联到其他需求。"))
        return redirect(back)
    if not can_edit_requirement(request.user, requirement):
        raise PermissionDenied(_("您没有编辑该需求的权限。"))
    try:
        feedback_link(actor=acting_user(request.user), feedback=feedback, requirement=requirement)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(
        request,
        _("反馈 #%(id)s 已关联到需求 %(code)s。") % {"id": feedback.pk, "code": requirement.code},
    )
    return redirect("requirements:feedback_inbox")


# ---------------------------------------------------------------- creating a requirement from feedback


def source_feedback(request: HttpRequest) -> Feedback | None:
    """The feedback item a new requirement is created from (``?feedback=<id>``), if any.

    404 when it is not visible; a message and None when it already belongs to a requirement.
    """
    raw = request.POST.get("feedback") or request.GET.get("feedback")
    if not raw:
        return None
    feedback = feedback_get(user=request.user, pk=raw)
    if feedback.requirement_id is not None:
        messages.warning(request, _("该反馈已关联到需求，将作为新反馈录入。"))
        return None
    return feedback


def initial_from_feedback(feedback: Feedback) -> dict[str, Any]:
    """The create form prefilled from a feedback item: its words, customer, channel, type and tags."""
    words = feedback.raw_text.strip()
    first_line = words.splitlines()[0] if words else ""
    return {
        "title": first_line[:60],
        "description": words,
        "customer": feedback.customer_id,
        "contact": feedback.contact_id,
        "channel": feedback.channel,
        "type": feedback.type_id,
        "tags": [tag.pk for tag in feedback.tags.all()],
    }

"""Suggestion pages: the models page (retrain now), a training job's progress, the panel and its buttons."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from needpool.core.jobs import job_state
from needpool.core.views import error_text, is_htmx
from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassOption, Feedback
from needpool.suggest import conf, permissions, selectors, services
from needpool.suggest.models import Outcome
from needpool.suggest.permissions import acting_user

ACTIONS = ("accept", "correct", "reject")
TEXT_LIMIT = 2000


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _target_url(target: services.Target) -> str:
    if isinstance(target, Feedback):
        return reverse("suggest:feedback", args=[target.pk])
    return reverse("customers:detail", args=[target.customer_id]) + f"#interaction-{target.pk}"


def _panel_response(
    request: HttpRequest, target: services.Target, *, error: str = "", decided: bool = False
) -> HttpResponse:
    context = {
        "panel": selectors.panel_for(user=acting_user(request.user), target=target),
        "error": error,
        "decided": decided,
        "next_url": _safe_next(request, _target_url(target)),
    }
    response = render(request, "suggest/_panel.html", context)
    if decided:
        # Pages that show the field elsewhere can listen for this event and refresh it.
        response["HX-Trigger"] = "suggestionApplied"
    return response


def _target(request: HttpRequest, kind: str, pk: int) -> services.Target:
    if kind == "feedback":
        return selectors.feedback_get(user=acting_user(request.user), pk=pk)
    if kind == "interaction":
        return selectors.interaction_get(user=acting_user(request.user), pk=pk)
    raise Http404


# ---------------------------------------------------------------- panel and decisions


@require_GET
def panel(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The panel of one feedback item / interaction (loaded by htmx when it scrolls into view)."""
    return _panel_response(request, _target(request, kind, pk))


@require_POST
def decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Accept, correct (``value``) or reject one suggestion; htmx gets the panel back, others a redirect."""
    if action not in ACTIONS:
        raise Http404
    suggestion = selectors.suggestion_get(user=acting_user(request.user), pk=pk)
    target = suggestion.target
    kind = "feedback" if suggestion.feedback_id else "interaction"
    if not permissions.can_decide(request.user, suggestion):
        raise PermissionDenied(_("您没有处理这条建议的权限。"))
    error = ""
    try:
        if action == "accept":
            decided = services.suggestion_accept(actor=acting_user(request.user), suggestion=suggestion)
        elif action == "correct":
            decided = services.suggestion_correct(
                actor=acting_user(request.user), suggestion=suggestion, value=request.POST.get("value", "")
            )
        else:
            decided = services.suggestion_reject(actor=acting_user(request.user), suggestion=suggestion)
    except ValidationError as exc:
        error = error_text(exc)
    fresh = _target(request, kind, target.pk)
    if is_htmx(request):
        return _panel_response(request, fresh, error=error, decided=not error)
    if error:
        messages.error(request, error)
    elif decided.outcome == Outcome.REJECTED:
        messages.info(request, _("已忽略这条建议。"))
    else:
        messages.success(request, _("已保存：%(field)s。") % {"field": decided.get_field_display()})
    return redirect(_safe_next(request, _target_url(fresh)))


def feedback_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One feedback item with its suggestions (the triage view of the suggestions)."""
    feedback = selectors.feedback_get(user=acting_user(request.user), pk=pk)
    # Type, tags and sentiment are shown (and kept current after each click) by the panel itself.
    return render(request, "suggest/feedback.html", {"feedback": feedback})


@require_http_methods(["GET", "POST"])
def text_hint(request: HttpRequest) -> HttpResponse:
    """Suggested type / tags for text being typed (the requirement form asks while the user types, by POST:
    long words do not fit in an address)."""
    params = request.POST if request.method == "POST" else request.GET
    parts = [params.get(name, "") for name in ("title", "description", "concrete_ask", "text")]
    text = "\n".join(p for p in parts if p)[:TEXT_LIMIT]
    found = selectors.text_suggestions(text) if text.strip() else {}
    options = (
        {
            (o.dimension, o.key): o
            for o in ClassOption.objects.filter(dimension__in=(Dimension.TYPE, Dimension.TAG), is_active=True)
        }
        if found
        else {}
    )
    hints = [
        {"field": field, "option": options[(dimension, p.value)], "percent": round(p.confidence * 100)}
        for field, dimension in (("type", Dimension.TYPE), ("tags", Dimension.TAG))
        for p in found.get("type" if field == "type" else "tag", [])
        if (dimension, p.value) in options
    ]
    return render(request, "suggest/_text_hint.html", {"hints": hints})


# ---------------------------------------------------------------- models page and training


def _require_models_access(request: HttpRequest) -> None:
    if not permissions.can_view_models(request.user):
        raise permissions.deny(_("只有管理员、经理或产品经理可以查看建议模型。"))


def index(request: HttpRequest) -> HttpResponse:
    """The current models, their held-out accuracy against the rules, outcome counts, "retrain now"."""
    _require_models_access(request)
    if request.method == "POST":
        try:
            job = services.training_start(actor=acting_user(request.user))
        except ValidationError as exc:
            messages.error(request, error_text(exc))
            return redirect("suggest:index")
        messages.info(request, _("已开始训练，完成后新模型会自动启用。"))
        return redirect("suggest:job", pk=job.pk)
    context = {
        "kinds": selectors.models_overview(),
        "outcomes": selectors.outcome_counts(),
        "jobs": list(selectors.training_jobs(user=acting_user(request.user))),
        "allowed": {"train": permissions.can_train(request.user)},
        "min_per_class": conf.min_per_class(),
        "retrain_after": conf.retrain_after(),
    }
    return render(request, "suggest/index.html", context)


def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(user=acting_user(request.user), pk=pk)
    return render(request, "suggest/job.html", job_state(job, request.user))


def job_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(user=acting_user(request.user), pk=pk)
    return render(request, "suggest/_job_progress.html", job_state(job, request.user))


def keywords_page(request: HttpRequest) -> HttpResponse:
    """The keyword lists of the type and tag options (the rules used while examples are few)."""
    _require_models_access(request)
    can_edit = permissions.can_edit_keywords(request.user)
    if request.method == "POST":
        if not can_edit:
            raise permissions.deny(_("只有管理员可以修改关键词。"))
        option = ClassOption.objects.filter(
            pk=request.POST.get("option") or 0, dimension__in=(Dimension.TYPE, Dimension.TAG)
        ).first()
        if option is None:
            messages.error(request, _("选项不存在。"))
            return redirect("suggest:keywords")
        try:
            services.option_keywords_set(
                actor=acting_user(request.user), option=option, keywords=request.POST.get("keywords", "")
            )
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("“%(option)s”的关键词已保存。") % {"option": option})
        return redirect(reverse("suggest:keywords") + f"#option-{option.pk}")
    options = list(
        ClassOption.objects.filter(dimension__in=(Dimension.TYPE, Dimension.TAG))
        .select_related("suggest_keywords")
        .order_by("dimension", "sort_order", "id")[:200]
    )
    rows = [
        {
            "option": o,
            "keywords": getattr(getattr(o, "suggest_keywords", None), "keywords", ""),
        }
        for o in options
    ]
    return render(request, "suggest/keywords.html", {"rows": rows, "allowed": {"edit_keywords": can_edit}})

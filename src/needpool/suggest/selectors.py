"""Permission-scoped reads of the suggestions: one suggestion, a panel's contents, the models page."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.core.models import BackgroundJob
from needpool.core.text import human_join
from needpool.customers.models import Interaction
from needpool.customers.permissions import visible_customers
from needpool.requirements.models import Feedback
from needpool.requirements.permissions import visible_feedback
from needpool.suggest import engine, permissions, services
from needpool.suggest.models import ModelKind, Outcome, Source, SuggestField, Suggestion, SuggestModel
from needpool.suggest.permissions import visible_suggestions


def suggestion_get(*, user: User, pk: Any, feedback_id: Any = None, interaction_id: Any = None) -> Suggestion:
    """One suggestion the user may see (of that feedback / interaction when given); Http404 otherwise."""
    qs = visible_suggestions(user).select_related("feedback", "interaction", "interaction__customer")
    if feedback_id is not None:
        qs = qs.filter(feedback_id=feedback_id)
    if interaction_id is not None:
        qs = qs.filter(interaction_id=interaction_id)
    try:
        return qs.get(pk=pk)
    except (Suggestion.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def interaction_get(*, user: User, pk: Any) -> Interaction:
    try:
        return Interaction.objects.filter(customer__in=visible_customers(user)).select_related("customer").get(pk=pk)
    except (Interaction.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def feedback_get(*, user: User, pk: Any) -> Feedback:
    try:
        return visible_feedback(user).select_related("customer", "contact", "type", "requirement").get(pk=pk)
    except (Feedback.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


# ---------------------------------------------------------------- panel


@dataclass
class Item:
    """One suggestion as the panel shows it."""

    suggestion: Suggestion
    label: str
    chosen_label: str
    percent: int
    source: str
    choices: list[tuple[str, str]]
    question: bool = False  # a mood / sentiment guess that contradicts the recorded one: asked, not stated

    @property
    def pending(self) -> bool:
        return self.suggestion.is_pending


@dataclass
class Row:
    """One field of the panel: what is set now, and the suggestions for it."""

    field: str
    title: str
    current: str
    items: list[Item] = dc_field(default_factory=list)


@dataclass
class Panel:
    kind: str
    pk: int
    rows: list[Row]
    can_decide: bool
    target: Any = None
    can_view_models: bool = False

    @property
    def dom_id(self) -> str:
        return f"suggest-panel-{self.kind}-{self.pk}"


def _source_label(s: Suggestion) -> str:
    return services._source_text(s)


def _current(target: services.Target, field: str, tags: list[Any]) -> str:
    if isinstance(target, Feedback):
        if field == SuggestField.TYPE:
            return str(target.type) if target.type_id else ""
        if field == SuggestField.TAG:
            return human_join([str(t) for t in tags])
        return target.get_sentiment_display() if target.sentiment else ""
    return target.get_mood_display()


def _recorded(target: services.Target, field: str) -> str:
    """The mood or sentiment recorded on ``target`` (a choice value; empty when none was recorded)."""
    if field == SuggestField.SENTIMENT and isinstance(target, Feedback):
        return str(target.sentiment or "")
    if field == SuggestField.MOOD and isinstance(target, Interaction):
        return str(target.mood or "")
    return ""


def contradicts(target: services.Target, suggestion: Suggestion) -> bool:
    """Whether a pending mood / sentiment suggestion says something else than what a person recorded."""
    if suggestion.field not in (SuggestField.SENTIMENT, SuggestField.MOOD) or not suggestion.is_pending:
        return False
    recorded = _recorded(target, suggestion.field)
    return bool(recorded and suggestion.value and suggestion.value != recorded)


def panel_for(*, user: User, target: services.Target, error: str = "") -> Panel:
    """The panel of ``target`` (which the caller has read through its own selector)."""
    suggestions = services.suggestions_ensure(target=target)
    kind = "feedback" if isinstance(target, Feedback) else "interaction"
    can_decide = permissions.can_decide_for(user, target)
    choices = {f: services.field_choices(f) for f in services.target_fields(target)}
    rows: list[Row] = []
    tags = list(target.tags.all()) if isinstance(target, Feedback) else []
    current_tags = {t.key for t in tags}
    for f in services.target_fields(target):
        labels = dict(choices[f])
        row = Row(field=f, title=str(SuggestField(f).label), current=_current(target, f, tags))
        for s in (s for s in suggestions if s.field == f):
            options = [(k, v) for k, v in choices[f] if k != s.value]
            if f == SuggestField.TAG:
                options = [(k, v) for k, v in options if k not in current_tags]
            row.items.append(
                Item(
                    suggestion=s,
                    label=labels.get(s.value, s.value),
                    chosen_label=labels.get(s.chosen, s.chosen),
                    percent=round(s.confidence * 100),
                    source=_source_label(s),
                    choices=options,
                    question=contradicts(target, s),
                )
            )
        rows.append(row)
    return Panel(
        kind=kind,
        pk=target.pk,
        rows=rows,
        can_decide=can_decide,
        target=target,
        can_view_models=permissions.can_view_models(user),
    )


def text_suggestions(text: str) -> dict[str, list[engine.Prediction]]:
    """Suggestions for free text (no object, nothing stored)."""
    return engine.predict_text((text or "").strip())


# ---------------------------------------------------------------- models page


@dataclass
class KindSummary:
    kind: str
    title: str
    current: SuggestModel | None
    history: list[SuggestModel]
    in_use: str


def models_overview() -> list[KindSummary]:
    """Per kind: the newest model, the last few versions, and what is in use (model or rules)."""
    rows = list(SuggestModel.objects.defer("blob").order_by("kind", "-version")[:60])
    out: list[KindSummary] = []
    for kind, title in ModelKind.choices:
        mine = [m for m in rows if m.kind == kind]
        active = next((m for m in mine if m.is_active), None)
        fallback = Source.LEXICON.label if kind == ModelKind.SENTIMENT else Source.RULES.label
        in_use = f"v{active.version}" if active else str(fallback)
        out.append(
            KindSummary(kind=kind, title=str(title), current=mine[0] if mine else None, history=mine[:5], in_use=in_use)
        )
    return out


def outcome_counts() -> list[dict[str, Any]]:
    """Per field: how many suggestions were accepted, corrected, rejected, or are still pending."""
    counts = {
        (row["field"], row["outcome"]): row["n"]
        for row in Suggestion.objects.exclude(value="", outcome=Outcome.PENDING)
        .values("field", "outcome")
        .annotate(n=Count("id"))
    }
    out = []
    for value, label in SuggestField.choices:
        row: dict[str, Any] = {"field": value, "title": str(label)}
        for outcome in Outcome.values:
            row[outcome] = counts.get((value, outcome), 0)
        decided = row[Outcome.ACCEPTED] + row[Outcome.CORRECTED]
        row["rate"] = round(100 * row[Outcome.ACCEPTED] / decided) if decided else None
        out.append(row)
    return out


def training_jobs(*, user: User, limit: int = 10) -> QuerySet[BackgroundJob]:
    qs = (
        BackgroundJob.objects.filter(kind=services.JOB_KIND).select_related("created_by").order_by("-created_at", "-id")
    )
    return qs[:limit] if permissions.can_view_models(user) else qs.none()


def job_get(*, user: User, pk: Any) -> BackgroundJob:
    """A training job: visible to those who may train (and to its creator); Http404 otherwise."""
    qs = BackgroundJob.objects.filter(kind=services.JOB_KIND).select_related("created_by")
    if not permissions.can_view_models(user):
        qs = qs.filter(created_by=user.pk)
    try:
        return qs.get(pk=pk)
    except (BackgroundJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc

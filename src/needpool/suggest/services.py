"""Write use-cases of the suggestions: keep them beside their object, accept / correct / reject, train.

A suggestion never changes its object by itself: only ``suggestion_accept`` / ``suggestion_correct``,
called for a person, set feedback.type / feedback.tags / feedback.sentiment / interaction.mood, each
with an audit row on the changed object. ``suggestions_ensure`` only fills the cache table.
"""

from __future__ import annotations

import pickle
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.codes import next_number
from needpool.core.models import AuditEntry, BackgroundJob
from needpool.customers.choices import Mood
from needpool.customers.models import Interaction
from needpool.requirements.choices import Dimension, Sentiment
from needpool.requirements.models import ClassOption, Feedback
from needpool.suggest import conf, engine, permissions, rules, training
from needpool.suggest.models import ModelKind, OptionKeywords, Outcome, SuggestField, Suggestion, SuggestModel

JOB_KIND = "suggest_train"
FEEDBACK_FIELDS = (SuggestField.TYPE, SuggestField.TAG, SuggestField.SENTIMENT)
INTERACTION_FIELDS = (SuggestField.MOOD,)
Target = Feedback | Interaction


def target_text(target: Target) -> str:
    if isinstance(target, Feedback):
        return target.raw_text or ""
    return training.interaction_text(target.key_content, target.key_asks)


def target_fields(target: Target) -> tuple[str, ...]:
    return tuple(str(f) for f in (FEEDBACK_FIELDS if isinstance(target, Feedback) else INTERACTION_FIELDS))


def _target_filter(target: Target) -> dict[str, Any]:
    return {"feedback": target} if isinstance(target, Feedback) else {"interaction": target}


# ---------------------------------------------------------------- computing (the cache)


def suggestions_ensure(*, target: Target, predictor: engine.Predictor | None = None) -> list[Suggestion]:
    """The suggestions for ``target``'s current text, computed now if missing or stale; never applied.

    A field is recomputed when its text changed or a newer model is in use, unless a person already
    decided a suggestion for the current text. "Nothing to suggest" is stored too (empty value), so a
    page shown again does not compute again.
    """
    predictor = predictor or engine.Predictor()
    text = target_text(target)
    digest = engine.text_hash(text)
    rows = list(Suggestion.objects.filter(**_target_filter(target)).order_by("id"))
    stale: list[int] = []
    missing: list[str] = []
    for field in target_fields(target):
        current = [r for r in rows if r.field == field and r.text_hash == digest]
        if any(not r.is_pending for r in current):
            stale.extend(r.pk for r in rows if r.field == field and r.is_pending and r.text_hash != digest)
            continue
        version = predictor.version(field)
        if current and all(r.model_version == version for r in current):
            stale.extend(r.pk for r in rows if r.field == field and r.is_pending and r.text_hash != digest)
            continue
        stale.extend(r.pk for r in rows if r.field == field and r.is_pending)
        missing.append(field)
    if not missing and not stale:
        return [r for r in rows if r.text_hash == digest]
    new: list[Suggestion] = []
    for field in missing:
        predictions = predictor.field(field, text) if text.strip() else []
        if not predictions:
            predictions = [engine.Prediction(field, "", 0.0, _empty_source(field), predictor.version(field))]
        for p in predictions:
            new.append(
                Suggestion(
                    field=field,
                    value=p.value,
                    confidence=p.confidence,
                    source=p.source,
                    model_version=p.model_version,
                    text_hash=digest,
                    **_target_filter(target),
                )
            )
    with transaction.atomic():
        if stale:
            Suggestion.objects.filter(pk__in=stale, outcome=Outcome.PENDING).delete()
        # Two pages shown at once compute the same rows: the unique constraint keeps one of each.
        Suggestion.objects.bulk_create(new, ignore_conflicts=True)
    return list(Suggestion.objects.filter(**_target_filter(target), text_hash=digest).order_by("id"))


def _empty_source(field: str) -> str:
    from needpool.suggest.models import Source

    return Source.RULES if field in (SuggestField.TYPE, SuggestField.TAG) else Source.LEXICON


# ---------------------------------------------------------------- deciding


def field_choices(field: str) -> list[tuple[str, str]]:
    """Values a person may pick for ``field`` (option keys for type and tags)."""
    if field in (SuggestField.TYPE, SuggestField.TAG):
        dimension = Dimension.TYPE if field == SuggestField.TYPE else Dimension.TAG
        return [(o.key, str(o)) for o in ClassOption.objects.filter(dimension=dimension, is_active=True)]
    if field == SuggestField.SENTIMENT:
        return [(str(v), str(label)) for v, label in Sentiment.choices]
    return [(str(v), str(label)) for v, label in Mood.choices]


def _option(field: str, key: str) -> ClassOption:
    dimension = Dimension.TYPE if field == SuggestField.TYPE else Dimension.TAG
    option = ClassOption.objects.filter(dimension=dimension, key=key, is_active=True).first()
    if option is None:
        raise ValidationError({"value": _("选项“%(value)s”不存在或已停用。") % {"value": key}})
    return option


def _apply(*, actor: User, suggestion: Suggestion, value: str, outcome: str) -> None:
    """Set the field of the suggestion's object to ``value`` and write the audit row."""
    note = _("%(outcome)s智能建议（%(source)s，置信度 %(confidence)s%%）") % {
        "outcome": Outcome(outcome).label,
        "source": _source_text(suggestion),
        "confidence": round(suggestion.confidence * 100),
    }
    field = suggestion.field
    if suggestion.feedback_id:
        feedback = Feedback.objects.select_for_update().get(pk=suggestion.feedback_id or 0)
        if field == SuggestField.TYPE:
            option = _option(field, value)
            before = str(feedback.type) if feedback.type_id else ""
            feedback.type = option
            feedback.save(update_fields=["type", "updated_at"])
            changes: dict[str, Any] = {"type": (before, str(option))}
        elif field == SuggestField.TAG:
            option = _option(field, value)
            before_tags = [str(t) for t in feedback.tags.all()]
            feedback.tags.add(option)
            after = before_tags if str(option) in before_tags else [*before_tags, str(option)]
            changes = {"tags": (before_tags, after)}
        else:
            if value not in Sentiment.values:
                raise ValidationError({"value": _("无效的情绪。")})
            before = feedback.get_sentiment_display() if feedback.sentiment else ""
            feedback.sentiment = value
            feedback.save(update_fields=["sentiment", "updated_at"])
            changes = {"sentiment": (before, feedback.get_sentiment_display())}
        changes["suggestion"] = note
        audit_record(actor=actor, obj=feedback, action=AuditEntry.Action.UPDATE, changes=changes)
        return
    interaction = (
        Interaction.objects.select_for_update().select_related("customer").get(pk=suggestion.interaction_id or 0)
    )
    if value not in Mood.values:
        raise ValidationError({"value": _("无效的客户情绪。")})
    before = interaction.get_mood_display()
    interaction.mood = value
    interaction.save(update_fields=["mood", "updated_at"])
    audit_record(
        actor=actor,
        obj=interaction,
        action=AuditEntry.Action.UPDATE,
        changes={"mood": (before, interaction.get_mood_display()), "suggestion": note},
    )


def _source_text(suggestion: Suggestion) -> str:
    from needpool.suggest.models import Source

    if suggestion.source == Source.MODEL:
        return _("模型 v%(version)s") % {"version": suggestion.model_version}
    return str(Source(suggestion.source).label)


def _decide(*, actor: User, suggestion: Suggestion, outcome: str, value: str) -> Suggestion:
    if not permissions.can_decide(actor, suggestion):
        raise permissions.deny()
    locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    if not locked.is_pending:
        raise ValidationError(_("这条建议已经处理过了（%(outcome)s）。") % {"outcome": locked.get_outcome_display()})
    if outcome != Outcome.REJECTED:
        _apply(actor=actor, suggestion=locked, value=value, outcome=outcome)
    locked.outcome = outcome
    locked.chosen = value
    locked.decided_by = actor if getattr(actor, "pk", None) else None
    locked.decided_at = timezone.now()
    locked.save(update_fields=["outcome", "chosen", "decided_by", "decided_at"])
    if outcome != Outcome.REJECTED:
        transaction.on_commit(_queue_retrain_check)
    return locked


def _queue_retrain_check() -> None:
    from needpool.suggest.tasks import retrain_if_due

    retrain_if_due()


@transaction.atomic
def suggestion_accept(*, actor: User, suggestion: Suggestion) -> Suggestion:
    """Set the suggested value (one click) and record that it was right."""
    if not suggestion.value:
        raise ValidationError(_("没有可采纳的建议，请从列表中选择。"))
    return _decide(actor=actor, suggestion=suggestion, outcome=Outcome.ACCEPTED, value=suggestion.value)


@transaction.atomic
def suggestion_correct(*, actor: User, suggestion: Suggestion, value: str) -> Suggestion:
    """Set another value than the suggested one and record the correction (training data)."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": _("请选择正确的值。")})
    if value not in {key for key, _label in field_choices(suggestion.field)}:
        raise ValidationError({"value": _("选项“%(value)s”不存在或已停用。") % {"value": value}})
    outcome = Outcome.ACCEPTED if value == suggestion.value else Outcome.CORRECTED
    return _decide(actor=actor, suggestion=suggestion, outcome=outcome, value=value)


@transaction.atomic
def suggestion_reject(*, actor: User, suggestion: Suggestion) -> Suggestion:
    """Dismiss a suggestion without setting anything (e.g. a tag that does not fit)."""
    return _decide(actor=actor, suggestion=suggestion, outcome=Outcome.REJECTED, value="")


# ---------------------------------------------------------------- keyword rules


@transaction.atomic
def option_keywords_set(*, actor: User, option: ClassOption, keywords: str) -> OptionKeywords:
    """Replace the keyword list of a type / tag option (the rules used while there are few examples)."""
    if not permissions.can_edit_keywords(actor, option):
        raise permissions.deny()
    if option.dimension not in (Dimension.TYPE, Dimension.TAG):
        raise ValidationError({"option": _("只有需求类型和标签可以设置关键词。")})
    words = rules.parse_keywords(keywords)
    if any(len(w) > 40 for w in words):
        raise ValidationError({"keywords": _("每个关键词最多 40 个字符。")})
    if len(words) > 300:
        raise ValidationError({"keywords": _("关键词最多 300 个。")})
    row, _created = OptionKeywords.objects.select_for_update().get_or_create(option=option)
    before = rules.parse_keywords(row.keywords)
    row.keywords = " ".join(words)
    row.updated_by = actor if getattr(actor, "pk", None) else None
    row.save()
    audit_record(
        actor=actor,
        obj=option,
        action=AuditEntry.Action.UPDATE,
        changes={"keywords": (" ".join(before), " ".join(words))},
    )
    return row


# ---------------------------------------------------------------- training


@transaction.atomic
def training_start(*, actor: User, force: bool = True) -> BackgroundJob:
    """Queue a training run ("retrain now"); its progress is a BackgroundJob."""
    if not permissions.can_train(actor):
        raise permissions.deny(_("只有管理员、经理或产品经理可以训练模型。"))
    job = BackgroundJob.objects.create(
        kind=JOB_KIND,
        total=len(ModelKind.values),
        params={"force": force},
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(actor=actor, obj=job, action=AuditEntry.Action.CREATE, changes={"kind": JOB_KIND})
    transaction.on_commit(lambda: _queue_training(job.pk))
    return job


def _queue_training(job_id: int) -> None:
    from needpool.suggest.tasks import train_models

    train_models(job_id)


def _store(*, kind: str, trained: training.Trained, actor: User | None, job: BackgroundJob | None) -> SuggestModel:
    version = next_number(f"suggest-model:{kind}")
    blob = pickle.dumps(trained.learned, protocol=pickle.HIGHEST_PROTOCOL)
    active = trained.accuracy >= trained.baseline
    with transaction.atomic():
        SuggestModel.objects.filter(kind=kind, is_active=True).update(is_active=False)
        model = SuggestModel.objects.create(
            kind=kind,
            version=version,
            blob=blob,
            samples=trained.samples,
            test_samples=trained.test_samples,
            labels=trained.labels,
            accuracy=trained.accuracy,
            baseline_accuracy=trained.baseline,
            metrics={**trained.metrics, "signature": trained.signature, "bytes": len(blob)},
            is_active=active,
            trained_by=actor if getattr(actor, "pk", None) else None,
            job=job,
        )
        keep = list(
            SuggestModel.objects.filter(kind=kind).order_by("-version").values_list("pk", flat=True)[: conf.KEEP_BLOBS]
        )
        SuggestModel.objects.filter(kind=kind).exclude(pk__in=keep).exclude(blob=b"").update(blob=b"")
        audit_record(
            actor=actor,
            obj=model,
            action=AuditEntry.Action.CREATE,
            changes={
                "samples": trained.samples,
                "accuracy": trained.accuracy,
                "baseline": trained.baseline,
                "active": active,
            },
        )
    return model


def _latest_signature(kind: str) -> str:
    latest = SuggestModel.objects.filter(kind=kind).order_by("-version").values_list("metrics", flat=True).first()
    return str((latest or {}).get("signature", ""))


def models_train(
    *,
    actor: User | None = None,
    job: BackgroundJob | None = None,
    kinds: tuple[str, ...] | None = None,
    force: bool = False,
) -> dict[str, SuggestModel | str]:
    """Train each kind from the current labelled data; store the model and its held-out score.

    Returns ``{kind: model}`` or ``{kind: reason}`` ("too_few" examples, "unchanged" data). Called by
    the job, the nightly run and ``needpool suggest_train``; the caller's permission is checked at
    ``training_start`` (the command runs as the operator).
    """
    kinds = kinds or tuple(ModelKind.values)
    unknown = [k for k in kinds if k not in ModelKind.values]
    if unknown:
        raise ValidationError({"kinds": _("未知的模型类型：%(kinds)s") % {"kinds": ", ".join(unknown)}})
    limit = conf.max_samples()
    minimum = conf.min_per_class()
    tables = engine.keyword_tables()
    features = engine.feature_table(tables)
    results: dict[str, SuggestModel | str] = {}
    for kind in kinds:
        outcome: training.Trained | str
        if kind == ModelKind.TYPE:
            texts, labels = training.type_examples(limit)
            outcome = _if_changed(kind, texts, labels, force) or training.train_single_kind(
                texts,
                labels,
                min_per_class=minimum,
                baseline=training.rules_type(tables[Dimension.TYPE]),
                keyword_table=features,
            )
        elif kind == ModelKind.TAG:
            texts, labelsets = training.tag_examples(limit)
            outcome = _if_changed(kind, texts, labelsets, force) or training.train_tags(
                texts, labelsets, min_per_class=minimum, tag_table=tables[Dimension.TAG], keyword_table=features
            )
        else:
            texts, labels = training.sentiment_examples(limit)
            outcome = _if_changed(kind, texts, labels, force) or training.train_single_kind(
                texts, labels, min_per_class=minimum, baseline=training.lexicon_sentiment, with_lexicon=True
            )
        results[kind] = (
            outcome if isinstance(outcome, str) else _store(kind=kind, trained=outcome, actor=actor, job=job)
        )
        if job is not None:
            from django.db.models import F

            BackgroundJob.objects.filter(pk=job.pk).update(done=F("done") + 1, status=BackgroundJob.Status.RUNNING)
    engine.forget_models()
    return results


def _if_changed(kind: str, texts: list[str], labels: list[Any], force: bool) -> str:
    """ "unchanged" when the labelled data is what the newest model was trained on (nothing to learn)."""
    if force or not texts:
        return ""
    return "unchanged" if training.signature(texts, labels) == _latest_signature(kind) else ""


def retrain_due() -> bool:
    """True when enough suggestions were accepted or corrected since the last training run started.

    Counted from the last run, not the last model: a run that found too few examples also resets the count.
    """
    last = (
        BackgroundJob.objects.filter(kind=JOB_KIND).order_by("-created_at").values_list("created_at", flat=True).first()
    )
    decided = Suggestion.objects.filter(outcome__in=(Outcome.ACCEPTED, Outcome.CORRECTED))
    if last is not None:
        decided = decided.filter(decided_at__gt=last)
    if decided.count() < conf.retrain_after():
        return False
    running = (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING)
    return not BackgroundJob.objects.filter(kind=JOB_KIND, status__in=running).exists()


def training_job_create(*, reason: str) -> BackgroundJob:
    """A training job started by the system (after N decisions, nightly); no person to check."""
    return BackgroundJob.objects.create(kind=JOB_KIND, total=len(ModelKind.values), params={"reason": reason})

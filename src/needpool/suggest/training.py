"""Labelled examples from the pool, and training with a held-out evaluation against the rules.

Labelled data: classified requirements (title + description + concrete ask → type, tags), classified
feedback (raw text → type, tags, sentiment: set by hand or by accepting / correcting a suggestion), and
interactions whose mood a person confirmed through a suggestion. No database writes here (see
services.models_train).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from needpool.customers.models import Interaction
from needpool.requirements.models import Feedback, Requirement
from needpool.suggest import conf, learn, lexicon, rules
from needpool.suggest.models import Outcome, SuggestField, Suggestion


def requirement_text(title: str, description: str, concrete_ask: str) -> str:
    return "\n".join(part for part in (title, description, concrete_ask) if part)


def interaction_text(key_content: str, key_asks: str) -> str:
    return "\n".join(part for part in (key_content, key_asks) if part)


# ---------------------------------------------------------------- labelled examples


def type_examples(limit: int) -> tuple[list[str], list[str]]:
    texts: list[str] = []
    labels: list[str] = []
    requirements = (
        Requirement.objects.filter(type__isnull=False, merged_into__isnull=True)
        .order_by("-id")
        .values_list("title", "description", "concrete_ask", "type__key")[:limit]
    )
    for title, description, ask, key in requirements:
        texts.append(requirement_text(title, description, ask))
        labels.append(key)
    feedback = Feedback.objects.filter(type__isnull=False).order_by("-id").values_list("raw_text", "type__key")[:limit]
    for text, key in feedback:
        texts.append(text)
        labels.append(key)
    return texts[:limit], labels[:limit]


def tag_examples(limit: int) -> tuple[list[str], list[list[str]]]:
    """Tagged items, and classified items without tags (a type was set, no tag: none of the tags apply)."""
    texts: list[str] = []
    labelsets: list[list[str]] = []
    req_tags: dict[int, list[str]] = {}
    through = Requirement.tags.through.objects.filter(requirement__merged_into__isnull=True)
    req_ids = list(through.order_by("-requirement_id").values_list("requirement_id", flat=True).distinct()[:limit])
    for req_id, key in through.filter(requirement_id__in=req_ids).values_list("requirement_id", "classoption__key"):
        req_tags.setdefault(req_id, []).append(key)
    for pk, title, description, ask in Requirement.objects.filter(pk__in=req_ids).values_list(
        "pk", "title", "description", "concrete_ask"
    ):
        texts.append(requirement_text(title, description, ask))
        labelsets.append(sorted(req_tags.get(pk, [])))
    fb_through = Feedback.tags.through.objects.all()
    fb_ids = list(fb_through.order_by("-feedback_id").values_list("feedback_id", flat=True).distinct()[:limit])
    fb_tags: dict[int, list[str]] = {}
    for fb_id, key in fb_through.filter(feedback_id__in=fb_ids).values_list("feedback_id", "classoption__key"):
        fb_tags.setdefault(fb_id, []).append(key)
    for pk, text in Feedback.objects.filter(pk__in=fb_ids).values_list("pk", "raw_text"):
        texts.append(text)
        labelsets.append(sorted(fb_tags.get(pk, [])))
    room = max(0, limit - len(texts))
    untagged = (
        Requirement.objects.filter(type__isnull=False, merged_into__isnull=True, tags__isnull=True)
        .order_by("-id")
        .values_list("title", "description", "concrete_ask")[:room]
    )
    for title, description, ask in untagged:
        texts.append(requirement_text(title, description, ask))
        labelsets.append([])
    room = max(0, limit - len(texts))
    for (text,) in (
        Feedback.objects.filter(type__isnull=False, tags__isnull=True).order_by("-id").values_list("raw_text")[:room]
    ):
        texts.append(text)
        labelsets.append([])
    return texts[:limit], labelsets[:limit]


def sentiment_examples(limit: int) -> tuple[list[str], list[str]]:
    from needpool.suggest.engine import MOOD_TO_SENTIMENT

    texts: list[str] = []
    labels: list[str] = []
    for text, label in (
        Feedback.objects.exclude(sentiment="").order_by("-id").values_list("raw_text", "sentiment")[:limit]
    ):
        texts.append(text)
        labels.append(label)
    confirmed = (
        Suggestion.objects.filter(field=SuggestField.MOOD, interaction__isnull=False)
        .filter(Q(outcome=Outcome.ACCEPTED) | Q(outcome=Outcome.CORRECTED))
        .order_by("-decided_at")
        .values_list("interaction_id", "chosen")[:limit]
    )
    moods = dict(confirmed)
    for pk, content, asks in Interaction.objects.filter(pk__in=list(moods)).values_list(
        "pk", "key_content", "key_asks"
    ):
        sentiment = MOOD_TO_SENTIMENT.get(moods[pk])
        if sentiment:
            texts.append(interaction_text(content, asks))
            labels.append(str(sentiment))
    return texts[:limit], labels[:limit]


# ---------------------------------------------------------------- evaluation


@dataclass
class Trained:
    """A model trained on most of the examples, with the scores it got on the held-out rest.

    The stored model is the one that was scored: what the models page shows is what suggests.
    """

    learned: learn.Learned
    samples: int
    test_samples: int
    labels: list[str]
    accuracy: float
    baseline: float
    signature: str
    metrics: dict[str, Any] = field(default_factory=dict)


def signature(texts: Sequence[str], labels: Sequence[Any]) -> str:
    digest = hashlib.blake2b(digest_size=10)
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode("utf-8"))
        digest.update(b"\x1f")
        digest.update(repr(label).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()[:20]


def split(
    labels: Sequence[Any], *, seed: int = 20240301, share: float = conf.TEST_SHARE
) -> tuple[list[int], list[int]]:
    """Train / test indices: ``share`` of each label held out (at least one), the rest trained on."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(repr(label), []).append(index)
    train: list[int] = []
    test: list[int] = []
    for indices in by_label.values():
        rng.shuffle(indices)
        held = max(1, round(len(indices) * share)) if len(indices) > 1 else 0
        test.extend(indices[:held])
        train.extend(indices[held:])
    return sorted(train), sorted(test)


def micro_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> float:
    tp = fp = fn = 0
    for g, p in zip(gold, predicted, strict=True):
        gs, ps = set(g), set(p)
        tp += len(gs & ps)
        fp += len(ps - gs)
        fn += len(gs - ps)
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold) if gold else 0.0


def learnable(labels: Sequence[str], min_per_class: int) -> list[str]:
    counts = Counter(labels)
    return sorted(label for label, n in counts.items() if n >= min_per_class)


def train_single_kind(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    min_per_class: int,
    baseline: Callable[[str], str],
    with_lexicon: bool = False,
    keyword_table: dict[str, list[str]] | None = None,
) -> Trained | str:
    """Train type or sentiment; a string says why not (too few examples)."""
    keep = set(learnable(labels, min_per_class))
    if len(keep) < 2:
        return "too_few"
    pairs = [(t, label) for t, label in zip(texts, labels, strict=True) if label in keep]
    texts = [t for t, _label in pairs]
    labels = [label for _t, label in pairs]
    started = time.perf_counter()
    train, test = split(labels)
    model = learn.train_single(
        [texts[i] for i in train], [labels[i] for i in train], with_lexicon=with_lexicon, keyword_table=keyword_table
    )
    gold = [labels[i] for i in test]
    predicted = [label for label, _p in model.predict_single([texts[i] for i in test])]
    score = accuracy(gold, predicted)
    rule_score = accuracy(gold, [baseline(texts[i]) for i in test])
    return Trained(
        learned=model,
        samples=len(texts),
        test_samples=len(test),
        labels=sorted(keep),
        accuracy=round(score, 4),
        baseline=round(rule_score, 4),
        signature=signature(texts, labels),
        metrics={"counts": dict(Counter(labels)), "seconds": round(time.perf_counter() - started, 2)},
    )


def train_tags(
    texts: Sequence[str],
    labelsets: Sequence[Sequence[str]],
    *,
    min_per_class: int,
    tag_table: dict[str, list[str]],
    keyword_table: dict[str, list[str]] | None = None,
) -> Trained | str:
    counts = Counter(tag for tags in labelsets for tag in tags)
    keep = {tag for tag, n in counts.items() if n >= min_per_class}
    if len(keep) < 2:
        return "too_few"
    started = time.perf_counter()
    # Hold out by each item's most frequent tag, so every tag is in both parts.
    strata = [max(tags, key=lambda t: counts[t]) if tags else "" for tags in labelsets]
    train, test = split(strata)
    trimmed = [[t for t in tags if t in keep] for tags in labelsets]
    model = learn.train_multi([texts[i] for i in train], [trimmed[i] for i in train], keyword_table=keyword_table)
    predicted = [
        [k for k, _p in found] for found in model.predict_multi([texts[i] for i in test], limit=conf.TAG_LIMIT)
    ]
    gold = [list(labelsets[i]) for i in test]
    score = micro_f1(gold, predicted)
    rule_score = micro_f1(
        gold, [[h.key for h in rules.suggest_multi(texts[i], tag_table, limit=conf.TAG_LIMIT)] for i in test]
    )
    return Trained(
        learned=model,
        samples=len(texts),
        test_samples=len(test),
        labels=sorted(keep),
        accuracy=round(score, 4),
        baseline=round(rule_score, 4),
        signature=signature(texts, labelsets),
        metrics={"counts": {k: counts[k] for k in sorted(counts)}, "seconds": round(time.perf_counter() - started, 2)},
    )


def rules_type(table: dict[str, list[str]]) -> Callable[[str], str]:
    def predict(text: str) -> str:
        hit = rules.suggest_single(text, table)
        return hit.key if hit else ""

    return predict


def lexicon_sentiment(text: str) -> str:
    return lexicon.score(text).label

"""From text to suggested values: the active trained model of each kind, else keyword rules / the lexicon.

Reads only (keyword tables, active models); nothing here writes. A trained model is loaded from the
database once per process and version, so every web and worker process uses the same version.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass

from needpool.customers.choices import Mood
from needpool.requirements.choices import Dimension, Sentiment
from needpool.requirements.models import ClassOption
from needpool.suggest import conf, lexicon, rules
from needpool.suggest.learn import Learned
from needpool.suggest.models import ModelKind, Source, SuggestField, SuggestModel

logger = logging.getLogger(__name__)

SENTIMENT_TO_MOOD = {
    Sentiment.POSITIVE: Mood.SATISFIED,
    Sentiment.NEUTRAL: Mood.NEUTRAL,
    Sentiment.NEGATIVE: Mood.DISSATISFIED,
}
MOOD_TO_SENTIMENT: dict[str, str] = {str(mood): str(sentiment) for sentiment, mood in SENTIMENT_TO_MOOD.items()}
FIELD_KIND = {
    SuggestField.TYPE: ModelKind.TYPE,
    SuggestField.TAG: ModelKind.TAG,
    SuggestField.SENTIMENT: ModelKind.SENTIMENT,
    SuggestField.MOOD: ModelKind.SENTIMENT,
}


@dataclass(frozen=True)
class Prediction:
    """One suggested value: an option key (type, tag) or a choice value (sentiment, mood)."""

    field: str
    value: str
    confidence: float
    source: str
    model_version: int = 0


def text_hash(text: str) -> str:
    return hashlib.blake2b((text or "").strip().encode("utf-8"), digest_size=8).hexdigest()


# ---------------------------------------------------------------- keyword tables


def keyword_tables() -> dict[str, dict[str, list[str]]]:
    """``{"type": {key: keywords}, "tag": {key: keywords}}`` of the active options (one query)."""
    tables: dict[str, dict[str, list[str]]] = {Dimension.TYPE: {}, Dimension.TAG: {}}
    options = (
        ClassOption.objects.filter(dimension__in=(Dimension.TYPE, Dimension.TAG), is_active=True)
        .select_related("suggest_keywords")
        .order_by("dimension", "sort_order", "id")
    )
    for option in options:
        stored = getattr(option, "suggest_keywords", None)
        own = rules.parse_keywords(stored.keywords) if stored is not None else []
        tables[option.dimension][option.key] = rules.option_keywords(option.label, option.description, own)
    return tables


def feature_table(tables: dict[str, dict[str, list[str]]]) -> dict[str, list[str]]:
    """Both keyword tables as one ``{"type:key" / "tag:key": keywords}`` map (the rule features of a model)."""
    return {f"{dimension}:{key}": words for dimension, table in tables.items() for key, words in table.items()}


# ---------------------------------------------------------------- trained models


_CACHE: OrderedDict[tuple[str, int], Learned] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 6


def active_models() -> dict[str, tuple[int, int]]:
    """``{kind: (model id, version)}`` of the models in use (one query)."""
    rows = SuggestModel.objects.filter(is_active=True).order_by("kind", "-version").values_list("kind", "pk", "version")
    out: dict[str, tuple[int, int]] = {}
    for kind, pk, version in rows:
        out.setdefault(kind, (pk, version))
    return out


def load_model(kind: str, pk: int, version: int) -> Learned | None:
    """The unpickled model (cached per process); None when it cannot be read (the caller falls back)."""
    key = (kind, version)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    blob = SuggestModel.objects.filter(pk=pk).values_list("blob", flat=True).first()
    if not blob:
        return None
    try:
        learned = pickle.loads(bytes(blob))  # noqa: S301 - written by models_train only, never user input
    except Exception:  # a model pickled by an incompatible library version: use the rules until retrained
        logger.warning("suggest model %s v%s could not be loaded", kind, version, exc_info=True)
        return None
    if not isinstance(learned, Learned):
        return None
    with _CACHE_LOCK:
        _CACHE[key] = learned
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return learned


def forget_models() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


# ---------------------------------------------------------------- predicting


class Predictor:
    """Predicts for one or more texts with the models and keyword tables read once."""

    def __init__(self) -> None:
        self._tables: dict[str, dict[str, list[str]]] | None = None
        self._active: dict[str, tuple[int, int]] | None = None

    @property
    def tables(self) -> dict[str, dict[str, list[str]]]:
        if self._tables is None:
            self._tables = keyword_tables()
        return self._tables

    @property
    def active(self) -> dict[str, tuple[int, int]]:
        if self._active is None:
            self._active = active_models()
        return self._active

    def version(self, field: str) -> int:
        found = self.active.get(FIELD_KIND[SuggestField(field)])
        return found[1] if found else 0

    def _model(self, kind: str) -> tuple[Learned, int] | None:
        found = self.active.get(kind)
        if found is None:
            return None
        learned = load_model(kind, found[0], found[1])
        return (learned, found[1]) if learned is not None else None

    def type(self, text: str) -> list[Prediction]:
        options = self.tables[Dimension.TYPE]
        model = self._model(ModelKind.TYPE)
        if model is not None:
            learned, version = model
            ranked = sorted(zip(learned.labels, learned.proba([text])[0], strict=True), key=lambda p: -p[1])
            for key, probability in ranked:
                if key in options:
                    return [Prediction(SuggestField.TYPE, key, round(float(probability), 3), Source.MODEL, version)]
            return []
        hit = rules.suggest_single(text, options)
        return [Prediction(SuggestField.TYPE, hit.key, hit.confidence, Source.RULES)] if hit else []

    def tags(self, text: str) -> list[Prediction]:
        options = self.tables[Dimension.TAG]
        model = self._model(ModelKind.TAG)
        if model is not None:
            learned, version = model
            return [
                Prediction(SuggestField.TAG, key, round(probability, 3), Source.MODEL, version)
                for key, probability in learned.predict_multi([text], limit=conf.TAG_LIMIT)[0]
                if key in options
            ]
        return [
            Prediction(SuggestField.TAG, hit.key, hit.confidence, Source.RULES)
            for hit in rules.suggest_multi(text, options, limit=conf.TAG_LIMIT)
        ]

    def sentiment(self, text: str) -> Prediction:
        model = self._model(ModelKind.SENTIMENT)
        if model is not None:
            learned, version = model
            label, probability = learned.predict_single([text])[0]
            return Prediction(SuggestField.SENTIMENT, label, round(probability, 3), Source.MODEL, version)
        label, confidence = lexicon.sentiment(text)
        return Prediction(SuggestField.SENTIMENT, label, confidence, Source.LEXICON)

    def mood(self, text: str) -> Prediction:
        found = self.sentiment(text)
        return Prediction(
            SuggestField.MOOD,
            str(SENTIMENT_TO_MOOD[Sentiment(found.value)]),
            found.confidence,
            found.source,
            found.model_version,
        )

    def field(self, field: str, text: str) -> list[Prediction]:
        if field == SuggestField.TYPE:
            return self.type(text)
        if field == SuggestField.TAG:
            return self.tags(text)
        if field == SuggestField.SENTIMENT:
            return [self.sentiment(text)]
        return [self.mood(text)]


def predict_text(text: str, fields: tuple[str, ...] = ("type", "tag", "sentiment")) -> dict[str, list[Prediction]]:
    """Suggestions for free text (a requirement being typed, the API's text endpoint)."""
    predictor = Predictor()
    return {field: predictor.field(field, text) for field in fields}

"""Learned classifiers: jieba words + character n-grams (TF-IDF) + keyword rules, logistic regression.

Pure scikit-learn, no database: ``train_single`` / ``train_multi`` take texts and labels and return a
``Learned`` object that pickles (its tokenizer is a module-level function) and predicts probabilities.
The classifier is logistic regression fitted by stochastic gradient descent (log loss): about a second
for 10,000 texts, where liblinear / lbfgs take ten. Training stays single-threaded (n_jobs=1): the
machine's cores belong to the web and the job workers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jieba
import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import MultiLabelBinarizer

from needpool.suggest import lexicon, rules

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")
MAX_CHAR_FEATURES = 60_000
MAX_WORD_FEATURES = 30_000


def jieba_words(text: str) -> list[str]:
    """Words of ``text`` (jieba, precise mode), lower-cased, punctuation dropped."""
    return list(_cached_words(text or ""))


@lru_cache(maxsize=50_000)
def _cached_words(text: str) -> tuple[str, ...]:
    # Training fits and evaluates on the same texts, and segmentation is the slowest step.
    return tuple(w for w in (t.strip().lower() for t in jieba.lcut(text)) if w and _WORD.fullmatch(w))


class LexiconFeatures(BaseEstimator, TransformerMixin):
    """The sentiment lexicon's reading as four extra columns (score, positive, negative, negations)."""

    def fit(self, texts: Sequence[str], y: Any = None) -> LexiconFeatures:
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        rows = []
        for text in texts:
            s = lexicon.score(text)
            rows.append([s.value / 2.0, min(s.positive_hits, 3) / 3.0, min(s.negative_hits, 3) / 3.0, s.negations])
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64))


class RuleFeatures(BaseEstimator, TransformerMixin):
    """How strongly each option's keywords match, one column per option (the keyword rules as evidence).

    With few examples, the words alone say little; the keyword table an admin keeps carries what the
    examples do not, and the classifier learns how far to trust each list.
    """

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table

    def fit(self, texts: Sequence[str], y: Any = None) -> RuleFeatures:
        self.keys_ = sorted(self.table or {})
        return self

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        table = self.table or {}
        rows = [
            [
                min(sum(rules.keyword_weight(w) for w in rules.matched_keywords(text, table[key])), 4.0) / 4.0
                for key in self.keys_
            ]
            for text in texts
        ]
        return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(self.keys_)))


def _features(*, with_lexicon: bool, keyword_table: dict[str, list[str]] | None = None) -> FeatureUnion:
    parts: list[tuple[str, Any]] = [
        (
            "words",
            TfidfVectorizer(
                tokenizer=jieba_words,
                token_pattern=None,
                lowercase=False,
                ngram_range=(1, 2),
                sublinear_tf=True,
                max_features=MAX_WORD_FEATURES,
            ),
        ),
        (
            "chars",
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(1, 3),
                sublinear_tf=True,
                min_df=1,
                max_features=MAX_CHAR_FEATURES,
            ),
        ),
    ]
    weights = {"words": 1.0, "chars": 1.0}
    if with_lexicon:
        parts.append(("lexicon", LexiconFeatures()))
        weights["lexicon"] = 2.0
    if keyword_table:
        parts.append(("rules", RuleFeatures(keyword_table)))
        weights["rules"] = 1.0
    return FeatureUnion(parts, transformer_weights=weights, n_jobs=1)


@dataclass
class Learned:
    """A trained classifier and what it knows: its labels and, for tags, the decision threshold."""

    pipeline: Any
    labels: list[str]
    multilabel: bool = False
    threshold: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, one column per label (``labels`` order)."""
        result: np.ndarray = self.pipeline.predict_proba(list(texts))
        return result

    def predict_single(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """The best label of each text with its probability."""
        probs = self.proba(texts)
        best = probs.argmax(axis=1)
        return [(self.labels[int(i)], float(probs[row, int(i)])) for row, i in enumerate(best)]

    def predict_multi(self, texts: Sequence[str], *, limit: int = 3) -> list[list[tuple[str, float]]]:
        """Each text's labels whose probability reaches ``threshold``, best first, at most ``limit``."""
        probs = self.proba(texts)
        out: list[list[tuple[str, float]]] = []
        for row in probs:
            order = np.argsort(-row)
            out.append(
                [(self.labels[int(i)], float(row[int(i)])) for i in order[:limit] if row[int(i)] >= self.threshold]
            )
        return out


def _classifier(alpha: float) -> SGDClassifier:
    return SGDClassifier(loss="log_loss", alpha=alpha, class_weight="balanced", max_iter=50, tol=1e-3, random_state=0)


def train_single(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    with_lexicon: bool = False,
    keyword_table: dict[str, list[str]] | None = None,
    alpha: float = 3e-4,
) -> Learned:
    """One label per text (type, sentiment): logistic regression over words, character n-grams and
    the keyword rules (``keyword_table``: ``{column name: keywords}``) or the sentiment lexicon."""
    pipeline = Pipeline(
        [
            ("features", _features(with_lexicon=with_lexicon, keyword_table=keyword_table)),
            ("classifier", _classifier(alpha)),
        ]
    )
    pipeline.fit(list(texts), list(labels))
    return Learned(pipeline=pipeline, labels=[str(label) for label in pipeline.classes_])


def train_multi(
    texts: Sequence[str],
    labelsets: Sequence[Sequence[str]],
    *,
    keyword_table: dict[str, list[str]] | None = None,
    alpha: float = 3e-4,
    threshold: float = 0.5,
) -> Learned:
    """Several labels per text (tags): one classifier per tag; suggested when its probability ≥ ``threshold``."""
    binarizer = MultiLabelBinarizer()
    y = binarizer.fit_transform([list(s) for s in labelsets])
    pipeline = Pipeline(
        [
            ("features", _features(with_lexicon=False, keyword_table=keyword_table)),
            ("classifier", OneVsRestClassifier(_classifier(alpha), n_jobs=1)),
        ]
    )
    pipeline.fit(list(texts), y)
    return Learned(
        pipeline=pipeline, labels=[str(label) for label in binarizer.classes_], multilabel=True, threshold=threshold
    )

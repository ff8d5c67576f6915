"""Knobs of the suggestions: Django settings win, then NEEDPOOL_SUGGEST_* environment variables, then defaults."""

from __future__ import annotations

import os

from django.conf import settings


def _int(name: str, default: int) -> int:
    value = getattr(settings, name, None)
    if value is None:
        return int(os.environ.get(name, default))
    return int(value)


def min_per_class() -> int:
    """Labelled examples a type / tag / sentiment needs before the model learns it (fewer: keyword rules)."""
    return max(2, _int("NEEDPOOL_SUGGEST_MIN_PER_CLASS", 20))


def retrain_after() -> int:
    """Decided suggestions (accepted or corrected) since the last training that start a new training run."""
    return max(1, _int("NEEDPOOL_SUGGEST_RETRAIN_AFTER", 50))


def max_samples() -> int:
    """Newest labelled examples used per training run (keeps a run to seconds)."""
    return max(100, _int("NEEDPOOL_SUGGEST_MAX_SAMPLES", 20000))


def nightly_hour() -> int:
    return _int("NEEDPOOL_SUGGEST_TRAIN_HOUR", 3) % 24


TEST_SHARE = 0.2
TAG_LIMIT = 3
KEEP_BLOBS = 3

"""Warm a process before it takes traffic: models, dictionaries and indexes load at start, not on a request.

Without it the first requirement create after a start took 4.9 s, the first feedback inbox 3.7 s and the first
similar lookup 0.62 s (the tokenizer's dictionary, the sentence encoder, the duplicate index and the suggestion
models all loaded on first use). Apps register what to load in their ``AppConfig.ready()``; the web process
calls ``warm_up()`` when its WSGI application is created (gunicorn loads it in each worker before the worker
accepts a connection) and the job worker calls it on start. ``NEEDPOOL_WARMUP=0`` turns it off (tests,
one-off commands never call it).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

log = logging.getLogger("needpool.core.warmup")

_steps: dict[str, Callable[[], object]] = {}


def register_warmup(name: str, step: Callable[[], object]) -> None:
    """``step()`` loads something a first request would otherwise wait for; it must be safe to call twice."""
    _steps[name] = step


def warmup_enabled() -> bool:
    return os.environ.get("NEEDPOOL_WARMUP", "1").strip().lower() not in ("0", "false", "no", "off")


def warm_up() -> dict[str, float]:
    """Run every registered step (each failure logged, never raised); returns the seconds each took."""
    from django.db import close_old_connections

    from needpool.core.dbstats import planner_statistics_missing, planner_statistics_refresh

    timings: dict[str, float] = {}
    steps: list[tuple[str, Callable[[], object]]] = [
        ("planner statistics", lambda: planner_statistics_missing() and planner_statistics_refresh()),
        *_steps.items(),
    ]
    for name, step in steps:
        started = time.monotonic()
        try:
            step()
        except Exception as exc:  # a step that cannot load leaves the first request to load it, as before
            log.warning("warm-up step %s failed: %s", name, exc)
        timings[name] = time.monotonic() - started
    close_old_connections()
    log.info("warmed up: %s", ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()))
    return timings

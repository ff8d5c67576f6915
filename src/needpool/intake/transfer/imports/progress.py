"""Progress of a running import, reported outside the import's own transaction.

An import writes every row inside one transaction (all or nothing). Progress written to the
BackgroundJob row from inside it would stay invisible to the page that polls until the very end
(and on SQLite the transaction holds the database's write lock, so another connection could not
write it either). So the running job reports ``done``/``total`` through a side channel:

* the shared cache when it is a server every process reaches (Redis, Memcached);
* otherwise a small JSON file in ``DATA_DIR/jobs/`` (the database cache would write through the
  database — the same lock and the same invisibility).

The job row itself is written before the transaction opens (running, total) and after it closes
(done or failed, with the results); the page reads the side channel while the job runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

_TTL = 24 * 3600


def _uses_cache() -> bool:
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", "")).lower()
    return "redis" in backend or "memcache" in backend


def _path(job_id: int) -> Path:
    return Path(settings.DATA_DIR) / "jobs" / f"import-{job_id}.json"


def _key(job_id: int) -> str:
    return f"needpool:import-progress:{job_id}"


def report(job_id: int, *, done: int, total: int, phase: str = "") -> None:
    data = {"done": done, "total": total, "phase": phase}
    if _uses_cache():
        cache.set(_key(job_id), data, _TTL)
        return
    path = _path(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written to a temporary file and renamed, so a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".import-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(data, stream)
    os.replace(temporary, path)


def read(job_id: int) -> dict[str, Any] | None:
    if _uses_cache():
        found = cache.get(_key(job_id))
        return found if isinstance(found, dict) else None
    try:
        loaded = json.loads(_path(job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def clear(job_id: int) -> None:
    if _uses_cache():
        cache.delete(_key(job_id))
        return
    _path(job_id).unlink(missing_ok=True)

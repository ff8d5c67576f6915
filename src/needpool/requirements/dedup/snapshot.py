"""The main segment of a large index kept on disk, so that a starting process maps it instead of building it.

Building the main segment reads every requirement and sorts every n-gram of every text: at 1,000,000
requirements more than a minute and several GB in each web process and worker before it can take traffic. A
process that builds a main segment of at least ``min_rows()`` rows (``NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS``,
100,000 by default; 0 turns snapshots off) writes its arrays to ``DATA_DIR/cache/dedup/`` — one ``.npy`` file
each in a new directory, then a small pointer file replaced in one rename — and the next process to build
maps them read-only (``np.load(mmap_mode="r")``: the pages are shared by every process of the machine through
the page cache) and catches up with the rows changed since, as a refresh does. Only one process of the machine
builds at a time (an ``flock`` on ``build.lock``): the others wait and then map what it wrote.

A snapshot is used only for the database it was built from (engine, name, host and port in its file name)
and only if a sample of its rows still has the texts the database holds (a database restored from a backup
under the same name fails that test and is built afresh; ``needpool restore`` also empties ``DATA_DIR/cache``).
Embeddings are not part of it: they are stored in the database (``RequirementEmbedding``) and loaded from there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection

log = logging.getLogger("needpool.requirements.dedup")

FORMAT = 1
DEFAULT_MIN_ROWS = 100_000
#: Rows whose stored text is compared with the database's when a snapshot is loaded.
SAMPLE_ROWS = 200
KEEP = 2  # snapshot directories kept (a process may still be mapping the one before the newest)
ARRAYS = ("ids", "stamps", "hashes", "embed_hashes", "vocab", "df", "indptr", "rows", "weights", "idf_values")


@dataclass
class Snapshot:
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]

    @property
    def max_id(self) -> int:
        return int(self.meta["max_id"])

    @property
    def watermark(self) -> float:
        return float(self.meta["watermark"])


def min_rows() -> int:
    value = getattr(settings, "NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS", None)
    if value is None:
        value = os.environ.get("NEEDPOOL_DEDUP_SNAPSHOT_MIN_ROWS", DEFAULT_MIN_ROWS)
    try:
        return max(0, int(str(value)))
    except (TypeError, ValueError):
        return DEFAULT_MIN_ROWS


def enabled_for(rows: int) -> bool:
    threshold = min_rows()
    return threshold > 0 and rows >= threshold


def directory() -> Path:
    return Path(settings.DATA_DIR) / "cache" / "dedup"


def database_key() -> str:
    """Which database a snapshot belongs to (its rows' ids mean nothing in another)."""
    db = connection.settings_dict
    identity = "\x00".join(str(db.get(k) or "") for k in ("ENGINE", "NAME", "HOST", "PORT"))
    return hashlib.blake2b(f"{FORMAT}\x00{identity}".encode(), digest_size=8).hexdigest()


def _pointer() -> Path:
    return directory() / f"{database_key()}.current"


@contextlib.contextmanager
def build_lock() -> Iterator[None]:
    """One builder per machine and database at a time (the others wait, then load what it wrote)."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{database_key()}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def save(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> Path | None:
    """Write a snapshot and make it the current one; its directory, or None when it could not be written."""
    folder = directory()
    key = database_key()
    name = f"{key}-{int(time.time())}-{uuid.uuid4().hex[:8]}"
    partial = folder / f"{name}.partial"
    try:
        partial.mkdir(parents=True)
        for array_name in ARRAYS:
            np.save(partial / f"{array_name}.npy", np.ascontiguousarray(arrays[array_name]), allow_pickle=False)
        (partial / "meta.json").write_text(json.dumps({**meta, "format": FORMAT}), encoding="utf-8")
        final = folder / name
        partial.rename(final)
        pointer = folder / f"{key}.current.{uuid.uuid4().hex[:8]}"
        pointer.write_text(name, encoding="utf-8")
        os.replace(pointer, folder / f"{key}.current")
    except OSError as exc:  # a full disk or a read-only data directory: the process keeps its own index
        log.warning("dedup: snapshot not written: %s", exc)
        shutil.rmtree(partial, ignore_errors=True)
        return None
    _prune(folder, key, keep=name)
    return final


def _prune(folder: Path, key: str, keep: str) -> None:
    older = sorted(
        (p for p in folder.glob(f"{key}-*") if p.is_dir() and p.name != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in older[KEEP - 1 :]:
        shutil.rmtree(stale, ignore_errors=True)


def load() -> Snapshot | None:
    """The current snapshot of this database, mapped read-only, or None (none, unreadable, another format)."""
    try:
        name = _pointer().read_text(encoding="utf-8").strip()
        folder = directory() / name
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        arrays = {a: np.load(folder / f"{a}.npy", mmap_mode="r", allow_pickle=False) for a in ARRAYS}
    except (OSError, ValueError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("dedup: snapshot not loaded: %s", exc)
        return None
    n = len(arrays["ids"])
    if (
        any(len(arrays[a]) != n for a in ("stamps", "hashes", "embed_hashes"))
        or len(arrays["indptr"]) != len(arrays["vocab"]) + 1
    ):
        log.warning("dedup: snapshot %s is inconsistent, not used", name)
        return None
    return Snapshot(arrays, meta)


def sample_rows(snapshot: Snapshot) -> np.ndarray:
    """Positions of the rows checked against the database: the newest ones and an even spread of the rest."""
    n = len(snapshot.arrays["ids"])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    spread = np.linspace(0, n - 1, num=min(n, SAMPLE_ROWS // 2), dtype=np.int64)
    newest = np.arange(max(0, n - SAMPLE_ROWS // 2), n, dtype=np.int64)
    return np.unique(np.concatenate([spread, newest]))


def forget() -> None:
    """Remove every snapshot (tests; ``needpool restore`` empties the whole cache directory itself)."""
    shutil.rmtree(directory(), ignore_errors=True)

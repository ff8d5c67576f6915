"""Two people confirming a mapping for the same value at once: one remembered choice, no error; two clicks on
"confirm" of one preview make one new preview."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from needpool.accounts.models import User
from needpool.intake.transfer.imports.mapping import Choice
from needpool.intake.transfer.models import ImportValueMapping
from needpool.intake.transfer.services import mappings_remember
from tests.races import at_once

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _user(name: str) -> Any:
    return User.objects.create_user(username=name, password="x-9-long-enough", role="admin")


def test_two_confirmations_of_one_value_at_once_keep_one_choice() -> None:
    first, second = _user("race-a"), _user("race-b")

    def remember(user: Any, action: str) -> Any:
        return lambda: mappings_remember(
            actor=user,
            layout="intake",
            mapping={"tags": {"新标签": Choice(action)}},
            texts={"tags": {"新标签": "新标签"}},
        )

    _done, errors = at_once([remember(first, "create"), remember(second, "ignore")])
    assert not errors, errors
    (row,) = ImportValueMapping.objects.filter(layout="intake", column="tags", value_key="新标签")
    assert row.action in ("create", "ignore")


def test_two_revisions_of_one_preview_at_once_make_one_new_preview(tmp_path: Any) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from needpool.core.models import BackgroundJob
    from needpool.intake.transfer.services import import_revise

    user = _user("race-c")
    stored = default_storage.save("imports/race.csv", ContentFile(b"x"))
    preview = BackgroundJob.objects.create(kind="import_preview", created_by=user, params={"file": stored})
    made, errors = at_once(
        [lambda: import_revise(actor=user, preview=preview, changes={"ask_mapping": True}) for _ in range(2)]
    )
    assert not errors, errors
    assert len({job.pk for job in made}) == 1
    assert BackgroundJob.objects.filter(params__revises=preview.pk).count() == 1

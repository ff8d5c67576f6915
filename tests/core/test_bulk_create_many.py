"""``core.bulk.create_many``: every new row gets the primary key the database gave it, and is told saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models.signals import post_save
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.bulk import create_many
from needpool.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _entries(texts: list[str]) -> list[AuditEntry]:
    kind = ContentType.objects.get_for_model(AuditEntry)
    return [AuditEntry(content_type=kind, object_id=i, object_repr=t, action="create") for i, t in enumerate(texts)]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.integers(0, 5),
    deleted=st.integers(0, 5),
    texts=st.lists(
        st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=8),
        min_size=1,
        max_size=30,
    ),
)
def test_each_row_gets_its_own_key(before: int, deleted: int, texts: list[str]) -> None:
    """Whatever rows came and went before (the highest ones deleted too), each object's key is the row holding
    its values."""
    with transaction.atomic():
        earlier = create_many(AuditEntry, _entries(["x"] * before))
        AuditEntry.objects.filter(pk__in=[e.pk for e in earlier[len(earlier) - deleted :]]).delete()
        made = create_many(AuditEntry, _entries(texts))
        stored = dict(AuditEntry.objects.filter(pk__in=[m.pk for m in made]).values_list("pk", "object_repr"))
        assert {m.pk: m.object_repr for m in made} == stored
        assert len(stored) == len(texts)
        assert all(not m._state.adding for m in made)
        transaction.set_rollback(True)


def test_each_row_is_told_saved_inside_and_outside_a_transaction() -> None:
    seen: list[Any] = []

    def note(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        seen.append((instance.pk, created))

    post_save.connect(note, sender=AuditEntry, dispatch_uid="test-create-many")
    try:
        with transaction.atomic():
            inside = create_many(AuditEntry, _entries(["a", "b"]))
        outside = create_many(AuditEntry, _entries(["c"]))  # autocommit: bulk_create
    finally:
        post_save.disconnect(dispatch_uid="test-create-many", sender=AuditEntry)
    assert seen == [(inside[0].pk, True), (inside[1].pk, True), (outside[0].pk, True)]
    assert AuditEntry.objects.get(pk=outside[0].pk).object_repr == "c"

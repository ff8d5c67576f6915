"""Fixtures and hooks for the core tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Tests that overwrite the whole database (backup / restore) run outside a wrapping transaction with
# serialized rollback: Django then empties every table afterwards without recreating the content types
# (the next serialized test reloads them). A plain transactional test that follows in the same worker would
# find an empty database and a stale content-type cache, so after these tests the seeded rows come back at once.
RELOAD_AFTER = ("test_backup.py",)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Iterator[None]:
    yield
    if not str(item.fspath).endswith(RELOAD_AFTER):
        return
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    contents = getattr(connection, "_test_serialized_contents", None)
    with item.config.stash[blocking_manager_key].unblock():
        if contents:
            connection.creation.deserialize_db_from_string(contents)
        ContentType.objects.clear_cache()

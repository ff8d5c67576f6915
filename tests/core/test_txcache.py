"""Values kept for one transaction (core.txcache): read once, dropped at its end, on a savepoint rollback and
when their rows change."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from needpool.core.models import SiteConfig
from needpool.core.txcache import forget, forget_on_change, transaction_cached


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_read_once_in_a_transaction(db: Any) -> None:
    load = Loader()
    with transaction.atomic():
        assert [transaction_cached("test.value", load) for _ in range(5)] == [1] * 5
    assert load.calls == 1


def test_a_released_savepoint_keeps_the_value(db: Any) -> None:
    load = Loader()
    with transaction.atomic():
        transaction_cached("test.value", load)
        with transaction.atomic():
            assert transaction_cached("test.value", load) == 1
        assert transaction_cached("test.value", load) == 1
    assert load.calls == 1


def test_a_rolled_back_savepoint_drops_the_value(db: Any) -> None:
    load = Loader()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            assert transaction_cached("test.value", load) == 1
            raise RuntimeError
        assert transaction_cached("test.value", load) == 2
        transaction_cached("test.value", load)
        with pytest.raises(RuntimeError), transaction.atomic():
            raise RuntimeError  # whatever the savepoint held, what was read before it may have changed in it
        assert transaction_cached("test.value", load) == 3


def test_forget_and_a_saved_row_drop_the_value(db: Any) -> None:
    forget_on_change(SiteConfig, "test.config")
    load = Loader()
    with transaction.atomic():
        transaction_cached("test.config", load)
        forget("test.config")
        assert transaction_cached("test.config", load) == 2
        SiteConfig.objects.get_or_create(pk=1)[0].save()
        assert transaction_cached("test.config", load) == 3
        assert transaction_cached("test.config", load) == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_nothing_is_kept_outside_a_transaction_nor_after_it() -> None:
    load = Loader()
    assert [transaction_cached("test.value", load) for _ in range(2)] == [1, 2]
    with transaction.atomic():
        assert transaction_cached("test.value", load) == 3
        assert transaction_cached("test.value", load) == 3
    with transaction.atomic():
        assert transaction_cached("test.value", load) == 4
    with pytest.raises(RuntimeError), transaction.atomic():
        assert transaction_cached("test.value", load) == 5
        raise RuntimeError
    with transaction.atomic():
        assert transaction_cached("test.value", load) == 6

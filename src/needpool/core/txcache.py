"""Values read once per database transaction: the site configuration, the initial status, the rule version.

A service that writes many rows in one transaction (an import of a sheet, a bulk action) would otherwise read
the same configuration rows again for each of them. ``transaction_cached`` keeps a value for the rest of the
current transaction on that connection:

* outside a transaction (autocommit) nothing is kept: every call loads;
* the values are dropped when the transaction commits or rolls back, and when any savepoint in it is rolled
  back (a rolled-back savepoint may have changed the rows they came from);
* ``forget_on_change(Model, key)`` drops a value whenever a row of ``Model`` is saved or deleted on that
  connection (model signals); a service that changes such rows with ``QuerySet.update`` calls ``forget`` itself.

Other transactions' commits made meanwhile are not seen until the next transaction (as if the first read
were repeatable); on SQLite the writing transaction holds the write lock, so there are none.

How the end of a transaction or a savepoint rollback is noticed without registering anything: Django gives
the connection a new list of on-commit hooks (``run_on_commit``) exactly then (commit, rollback, savepoint
rollback, close), and never otherwise; the values are kept with the list that was current when they were read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

_ATTRIBUTE = "_needpool_transaction_cache"


class _Cache:
    """The values read in one transaction, valid while the connection keeps the same on-commit list."""

    __slots__ = ("hooks", "values")

    def __init__(self, hooks: list[Any]) -> None:
        self.hooks = hooks
        self.values: dict[str, Any] = {}


def transaction_cached(key: str, load: Callable[[], T], *, using: str = DEFAULT_DB_ALIAS) -> T:
    """``load()``, or the value it returned earlier in the current transaction."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return load()
    cache: _Cache | None = getattr(connection, _ATTRIBUTE, None)
    if cache is None or cache.hooks is not connection.run_on_commit:
        cache = _Cache(connection.run_on_commit)
        setattr(connection, _ATTRIBUTE, cache)
    elif key in cache.values:
        return cache.values[key]
    value = load()
    if cache.hooks is connection.run_on_commit:  # load() itself may have rolled a savepoint back
        cache.values[key] = value
    return value


def forget(*keys: str, using: str = DEFAULT_DB_ALIAS) -> None:
    """Drop ``keys`` from the current transaction's values (their rows changed)."""
    cache: _Cache | None = getattr(connections[using], _ATTRIBUTE, None)
    if cache is not None:
        for key in keys:
            cache.values.pop(key, None)


def forget_on_change(model: type[models.Model], *keys: str) -> None:
    """Drop ``keys`` whenever a ``model`` row is saved or deleted."""

    def receiver(sender: type[models.Model], using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
        forget(*keys, using=using)

    uid = f"needpool.txcache.{model._meta.label}.{'.'.join(keys)}"
    post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.save")
    post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}.delete")

"""The recycle bin's periodic job: purge what is past restoring (safe to run twice)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from needpool.recyclebin.services import bin_purge


@db_periodic_task(crontab(hour="3", minute="41"))
def recycle_bin_purge() -> dict[str, int]:
    """Each night: rows deleted more than 30 days ago are deleted for good (the audit log keeps the trail)."""
    return bin_purge()

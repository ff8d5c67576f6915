"""Background work of the dashboard snapshots: the build a page or API request started, and the refresh every
ten minutes (site time) of the snapshots opened in the last week. Imported by ``ReportsConfig.ready`` (the
worker discovers only modules named ``tasks``)."""

from __future__ import annotations

import datetime as dt
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from needpool.reports.services import dashboard_snapshot_build_run, dashboard_snapshots_refresh

log = logging.getLogger("needpool.reports")


@db_task()
def dashboard_snapshot_build_job(snapshot_id: int, user_id: int, token: str) -> bool:
    """Build one snapshot as the reader who asked (``token``: the mark of the build that request started)."""
    return dashboard_snapshot_build_run(
        snapshot_id=snapshot_id, user_id=user_id, token=dt.datetime.fromisoformat(token)
    )


@db_periodic_task(crontab(minute="*/10"))
def dashboard_snapshots_refresh_job() -> dict[str, int]:
    """Keep the snapshots people open fresh (oldest first, bounded per run) and drop those nobody opens."""
    counts = dashboard_snapshots_refresh()
    log.info("dashboard snapshots: %s", counts)
    return counts

"""Periodic jobs run at the site's hours: "08:23" in a crontab is 08:23 in TIME_ZONE, not in UTC."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

from django.conf import settings
from huey.contrib.djhuey import HUEY


def test_the_job_queue_reads_crontabs_in_the_sites_time() -> None:
    assert HUEY.utc is False  # the consumer matches crontabs against local time …
    # … and Django made the site's zone the process's zone, so local time is the site's time.
    now = dt.datetime.now(dt.UTC)
    offset = now.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE)).utcoffset()
    assert offset is not None
    assert time.localtime(now.timestamp()).tm_gmtoff == int(offset.total_seconds())

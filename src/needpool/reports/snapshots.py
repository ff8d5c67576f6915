"""Dashboard snapshots: the keys, the policy's settings and the words a served snapshot carries.

A large pool's dashboard cannot be aggregated on the fly in under a second (bench/README.md, "Reports"), so above
``NEEDPOOL_REPORTS_LIVE_MAX`` live requirements the page serves a kept document (``models.DashboardSnapshot``),
computed in the background and always labelled with its time. The writes are in ``services``
(``dashboard_snapshot_get_or_build`` and the builds); this module only reads.

Keys:

* scope: ``"all"`` for a reader who sees the whole pool (``customer_scope`` is None: 查看全部 or superuser), else
  ``"user:<id>"`` — a sales rep's numbers are theirs alone, so their snapshot is never served to anyone else;
* filters: the filters' query (``ReportFilters.as_query``) with the period as absolute dates, sorted, plus the
  language the document is written in. A period given relative to today ("the last 90 days", no start and no
  end in the request) resolves to today's dates, so it maps to one key all day and to a new one after midnight
  (local time); such snapshots are marked ``relative`` and the periodic refresh builds the new day's key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.customers.models import Customer
from needpool.customers.permissions import customer_scope
from needpool.delivery.models import Task
from needpool.evaluation.models import Evaluation
from needpool.loop.models import SurveyInvitation
from needpool.reports.filters import ReportFilters
from needpool.requirements.models import Feedback, Requirement, StatusChange

ALL = "all"
LANGUAGE_PARAM = "lang"
REFRESH_EVERY = dt.timedelta(minutes=10)  # the periodic refresh (snapshot_tasks)
REQUESTED_WITHIN = dt.timedelta(days=7)  # snapshots the refresh keeps fresh
DROP_AFTER = dt.timedelta(days=30)  # snapshots nobody opened for this long are deleted
REQUESTED_AT_STEP = dt.timedelta(minutes=1)  # requested_at is written at most once a minute per snapshot


def live_max() -> int:
    """Up to this many live requirements in the pool, the dashboard is computed when asked."""
    return int(getattr(settings, "NEEDPOOL_REPORTS_LIVE_MAX", 50_000))


def max_age() -> dt.timedelta:
    """A snapshot younger than this is served as it is; an older one is served and rebuilt."""
    return dt.timedelta(seconds=float(getattr(settings, "NEEDPOOL_REPORTS_SNAPSHOT_MAX_AGE", 15 * 60)))


def build_timeout() -> dt.timedelta:
    """A build still marked after this long is taken to have died; the next request starts another."""
    return dt.timedelta(seconds=float(getattr(settings, "NEEDPOOL_REPORTS_SNAPSHOT_BUILD_TIMEOUT", 15 * 60)))


def refresh_limit() -> int:
    """Builds one periodic refresh makes at most (each can take a minute on a million requirements)."""
    return int(getattr(settings, "NEEDPOOL_REPORTS_SNAPSHOT_REFRESH_MAX", 20))


def scope_key(user: User) -> str:
    """``"all"`` for a reader of the whole pool, else ``"user:<id>"`` (as ``reports.selectors`` scopes them)."""
    return ALL if customer_scope(user) is None else f"user:{user.pk}"


def user_id_of(key: str) -> int | None:
    return int(key.split(":", 1)[1]) if key.startswith("user:") else None


def filters_key(filters: ReportFilters, language: str) -> str:
    """The canonical key of ``filters`` written in ``language``."""
    return urlencode(sorted([*filters.as_query().items(), (LANGUAGE_PARAM, language)]))


def key_query(key: str) -> tuple[dict[str, str], str]:
    """The filter query and the language of a key (what the dashboard form parses again to rebuild it)."""
    query = dict(parse_qsl(key, keep_blank_values=True))
    language = query.pop(LANGUAGE_PARAM, settings.LANGUAGE_CODE)
    return query, language


def is_relative(query: Mapping[str, Any]) -> bool:
    """A request without start and end asks for the last 90 days from today."""
    return not query.get("start") and not query.get("end")


def key_for_today(key: str, today: dt.date) -> str:
    """A relative snapshot's key moved to ``today``'s period (the same slice and grain)."""
    query, language = key_query(key)
    default = ReportFilters.default(today=today)
    query["start"], query["end"] = default.start.isoformat(), default.end.isoformat()
    return urlencode(sorted([*query.items(), (LANGUAGE_PARAM, language)]))


def live_pool_size(cap: int) -> int:
    """How many live requirements the pool holds, counted no further than ``cap`` + 1: one range over the index
    of live requirements (``req_live_submitted_idx``) stopped after cap + 1 rows — milliseconds at any size. The
    reader's slice is never larger, so it is the estimate the policy compares with ``live_max``."""
    live = Requirement.objects.filter(merged_into__isnull=True, deleted_at__isnull=True)
    return live.values("pk")[: cap + 1].count()


def use_live(cap: int | None = None) -> bool:
    cap = live_max() if cap is None else cap
    return live_pool_size(cap) <= cap


def _moment(value: dt.datetime, now: dt.datetime) -> str:
    local, today = timezone.localtime(value), timezone.localdate(now)
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


def stale_note(*, computed_at: dt.datetime, now: dt.datetime, max_age: dt.timedelta, building: bool) -> str:
    """What a served snapshot says about its age: its time and how often it is renewed, or how old it is."""
    minutes = max(1, round(max_age.total_seconds() / 60))
    at = _moment(computed_at, now)
    if now - computed_at <= max_age:
        note = _("数据截至 %(at)s（每 %(minutes)s 分钟更新）") % {"at": at, "minutes": minutes}
        return note + _("，正在更新") if building else note
    return _("数据截至 %(at)s，已是 %(age)s 前的数据，正在更新") % {"at": at, "age": timesince(computed_at, now)}


def comparable(document: Mapping[str, Any]) -> dict[str, Any]:
    """A document without what describes its serving (the stale note): what the check compares."""
    return {k: v for k, v in document.items() if k != "stale_note"}


def data_changed_since(moment: dt.datetime) -> bool:
    """Whether anything a dashboard counts was written after ``moment`` (requirements, moves, feedback,
    customers, answers, evaluations, delivery tasks) — a snapshot older than such a write may differ from a
    recomputation by its age alone. A user's move between teams is not seen here."""
    return any(
        qs.exists()
        for qs in (
            Requirement.all_objects.filter(updated_at__gt=moment),
            StatusChange.objects.filter(at__gt=moment),
            Feedback.all_objects.filter(updated_at__gt=moment),
            Customer.all_objects.filter(updated_at__gt=moment),
            SurveyInvitation.objects.filter(answered_at__gt=moment),
            Evaluation.objects.filter(updated_at__gt=moment),
            Task.objects.filter(updated_at__gt=moment),
        )
    )

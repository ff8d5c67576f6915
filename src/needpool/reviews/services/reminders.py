"""Deferred requirements come back: on their revisit date the chair and the owner are reminded (once)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import StatusCategory
from needpool.requirements.events import subject_of, teams_of
from needpool.reviews.models import AgendaItem, Decision


def revisit_remind(*, now: dt.datetime | None = None) -> int:
    """Remind the meeting's chair and the requirement's owner of each deferred item whose revisit date has
    come, while the requirement is still deferred; each item once per revisit date. Returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = (
        AgendaItem.objects.filter(
            decision=Decision.DEFERRED,
            revisit_date__lte=today,
            revisit_reminded_at__isnull=True,
            requirement__merged_into__isnull=True,
            requirement__status__category=StatusCategory.DEFERRED,
        )
        .order_by("revisit_date", "id")
        .values_list("pk", flat=True)[:500]
    )
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            item = (
                AgendaItem.objects.select_for_update(of=("self",))
                .filter(pk=pk, revisit_reminded_at__isnull=True)
                .select_related("meeting__chair", "requirement__owner")
                .first()
            )
            if item is None or item.revisit_date is None:
                continue
            requirement = item.requirement
            owner = requirement.owner
            emit(
                kind=EventKind.REVIEW,
                key=f"review:revisit:{item.pk}:{item.revisit_date.isoformat()}",
                message=gettext_noop("需求 %(code)s 已到重新评审日期（%(date)s），请安排评审。暂缓说明：%(note)s"),
                params={
                    "code": requirement.code,
                    "title": requirement.title,
                    "date": item.revisit_date.isoformat(),
                    "note": item.decision_note or "—",
                },
                url=reverse("reviews:agenda_choose") + f"?ids={requirement.pk}",
                recipients=[item.meeting.chair, owner],
                teams=teams_of(owner),
                subject=subject_of(requirement),
                data={"event": "revisit", "revisit_date": item.revisit_date.isoformat(), "meeting": item.meeting_id},
            )
            item.revisit_reminded_at = now
            item.save(update_fields=["revisit_reminded_at"])
            sent += 1
    return sent

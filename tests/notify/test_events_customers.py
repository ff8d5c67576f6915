"""Customers, the loop and imports tell people through typed events: a follow-up due (FOLLOW_UP) to the account
owner, a low survey score (CSAT ≤ 2, NPS ≤ 6) to the account owner (LOW_SCORE), an import finished or failed
(IMPORT / IMPORT_FAILED) to the importer; each reminder run twice tells once."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from needpool.accounts.models import User
from needpool.core.models import BackgroundJob, Notification
from needpool.customers.cadence import follow_up_reminders_send
from needpool.customers.models import Customer
from needpool.intake.transfer.services import IMPORT_RUN, import_execute
from needpool.loop.models import NpsCampaign, SurveyInvitation
from needpool.loop.services.surveys import survey_answer, token_hash
from needpool.notify.kinds import EventKind
from needpool.notify.models import Event
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS, write_xlsx

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- follow-ups


@pytest.mark.parametrize("days_late", [0, 3])
def test_a_follow_up_due_tells_the_account_owner_once_a_day(
    customer: Customer, users: dict[str, User], days_late: int
) -> None:
    today = timezone.localdate()
    Customer.objects.filter(pk=customer.pk).update(next_follow_up=today - dt.timedelta(days=days_late))
    assert follow_up_reminders_send() == 1
    assert follow_up_reminders_send() == 0  # the same reminder run twice: one event
    (event,) = Event.objects.filter(kind=EventKind.FOLLOW_UP)
    assert event.key == f"follow-up:{customer.pk}:{today.isoformat()}" and event.recipients == [users["sales"].pk]
    assert event.subject == {"type": "customer", "id": customer.pk, "code": "", "title": customer.name}
    assert event.teams == [users["sales"].team_id] and event.data["overdue_days"] == days_late
    text = Notification.objects.get(recipient=users["sales"], kind=EventKind.FOLLOW_UP).text
    assert customer.name in text and (("逾期 3 天" in text) if days_late else ("今天需要跟进" in text))


# ---------------------------------------------------------------- low survey scores


def _invitation(kind: str, customer: Customer, requirement: Requirement | None) -> SurveyInvitation:
    campaign = NpsCampaign.objects.create(name="2026 年度 NPS") if kind == SurveyInvitation.Kind.NPS else None
    now = timezone.now()
    return SurveyInvitation.objects.create(
        kind=kind,
        requirement=requirement if kind == SurveyInvitation.Kind.CSAT else None,
        campaign=campaign,
        customer=customer,
        contact=customer.contacts.first(),
        email="wang@a-tech.com.cn",
        token_hash=token_hash(secrets.token_urlsafe(32)),
        created_at=now,
        expires_at=now + dt.timedelta(days=7),
    )


@pytest.mark.parametrize(
    ("kind", "score", "told"),
    [("csat", 1, True), ("csat", 2, True), ("csat", 3, False), ("nps", 0, True), ("nps", 6, True), ("nps", 7, False)],
)
def test_a_low_score_tells_the_account_owner(
    customer: Customer, requirement: Requirement, users: dict[str, User], kind: str, score: int, told: bool
) -> None:
    invitation = _invitation(kind, customer, requirement)
    survey_answer(invitation=invitation, score=score)
    events = list(Event.objects.filter(kind=EventKind.LOW_SCORE))
    if not told:
        assert events == [] and not Notification.objects.filter(kind=EventKind.LOW_SCORE).exists()
        return
    (event,) = events
    assert event.key == f"loop:low:{invitation.pk}" and event.recipients == [users["sales"].pk]
    assert event.data["score"] == score and event.data["survey"] == kind
    text = Notification.objects.get(recipient=users["sales"], kind=EventKind.LOW_SCORE).text
    assert customer.name in text and f"{score} 分" in text
    assert (requirement.code in text) if kind == "csat" else ("2026 年度 NPS" in text)


def test_a_low_score_answer_rolled_back_tells_nobody(customer: Customer, requirement: Requirement) -> None:
    invitation = _invitation("csat", customer, requirement)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        survey_answer(invitation=invitation, score=1)
        raise Abort
    assert not Event.objects.filter(kind=EventKind.LOW_SCORE).exists()


# ---------------------------------------------------------------- imports


def _run_job(user: User, settings: Any, tmp_path: Path, rows: list[list[Any]] | None) -> BackgroundJob:
    stored = Path(settings.MEDIA_ROOT) / "imports" / "n.xlsx"
    stored.parent.mkdir(parents=True, exist_ok=True)
    if rows is not None:
        write_xlsx(stored, rows)
    return BackgroundJob.objects.create(
        kind=IMPORT_RUN,
        created_by=user,
        total=len(rows or []),
        params={"file": "imports/n.xlsx", "filename": "需求.xlsx", "layout": "intake", "options": {}},
    )


def test_a_finished_import_tells_the_importer(users: dict[str, User], settings: Any, tmp_path: Path) -> None:
    rows = [INTAKE_HEADERS, *[[f"NTF{i:03d}", "", "", "销售沟通", "功能", f"通知导入 {i}", "", "", ""] for i in (1, 2)]]
    job = _run_job(users["sales"], settings, tmp_path, rows)
    done = import_execute(job_id=job.pk)
    assert done is not None
    assert done.status == BackgroundJob.Status.DONE, done.message
    import_execute(job_id=job.pk)  # run twice: a finished job is left alone, nobody told again
    (event,) = Event.objects.filter(kind__in=[EventKind.IMPORT, EventKind.IMPORT_FAILED])
    assert event.kind == EventKind.IMPORT and event.recipients == [users["sales"].pk]
    assert event.key == f"import:{job.pk}" and event.data["counts"]["create"] == 2
    assert event.url == f"/intake/import/jobs/{job.pk}/" and event.subject["title"] == "需求.xlsx"
    text = Notification.objects.get(recipient=users["sales"], kind=EventKind.IMPORT).text
    assert text.startswith("导入“需求.xlsx”已完成。") and "新建 2" in text


def test_a_failed_import_tells_the_importer(users: dict[str, User], settings: Any, tmp_path: Path) -> None:
    job = _run_job(users["sales"], settings, tmp_path, None)  # the stored sheet is gone
    failed = import_execute(job_id=job.pk)
    assert failed is not None and failed.status == BackgroundJob.Status.FAILED
    (event,) = Event.objects.filter(kind__in=[EventKind.IMPORT, EventKind.IMPORT_FAILED])
    assert event.kind == EventKind.IMPORT_FAILED and event.recipients == [users["sales"].pk]
    text = Notification.objects.get(recipient=users["sales"], kind=EventKind.IMPORT_FAILED).text
    assert text.startswith("导入“需求.xlsx”失败：") and failed.message in text

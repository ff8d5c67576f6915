"""Review services: meetings, agenda, material, decisions and the workflow moves, gate, notices and mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail as django_mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.concurrency import StaleVersion
from needpool.core.models import AuditEntry, Notification, OutboundMail
from needpool.delivery.models import IterationItem
from needpool.delivery.services import iteration_create
from needpool.notify.models import Delivery
from needpool.requirements.models import Requirement, StatusChange, WorkflowStatus
from needpool.requirements.services import requirement_transition
from needpool.reviews import selectors, services
from needpool.reviews.models import AgendaItem, Decision, ReviewMeeting

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 1)


def _item(meeting: ReviewMeeting, req: Requirement, actor: Any) -> AgendaItem:
    return services.agenda_add(actor=actor, meeting=meeting, requirement_ids=[req.pk])[0]


# ---------------------------------------------------------------- meetings


@pytest.mark.parametrize("role", ["sales", "service", "engineer", "compliance", "viewer"])
def test_only_reviewers_create_meetings(users, pm, role):
    now = timezone.now()
    with pytest.raises(PermissionDenied):
        services.meeting_create(actor=users[role], title="评审", starts_at=now, ends_at=now, chair=pm)
    assert not ReviewMeeting.objects.exists()


def test_meeting_fields_are_checked(users, pm):
    now = timezone.now()
    with pytest.raises(ValidationError) as err:
        services.meeting_create(
            actor=pm,
            title=" ",
            starts_at=now,
            ends_at=now - dt.timedelta(hours=1),
            chair=users["sales"],
            link="ftp://x",
        )
    assert set(err.value.message_dict) == {"title", "ends_at", "chair", "link"}
    assert "结束时间不能早于开始时间" in err.value.message_dict["ends_at"][0]
    assert not ReviewMeeting.objects.exists()


def test_invitation_is_mailed_once_per_version_with_ics(meeting, users, pm):
    users["engineer"].email = "eng@example.com"
    users["engineer"].save()
    services.meeting_send_invitation(meeting)  # the engineer now has an address: gets version 1
    mails = OutboundMail.objects.filter(key__startswith=f"review:invite:{meeting.pk}:")
    assert mails.count() == 2  # chair and engineer (sales has no address)
    assert services.meeting_send_invitation(meeting) == 0  # sent once
    mail = mails.get(to=["eng@example.com"])
    attachment = mail.attachments[0]
    assert attachment["mimetype"] == "text/calendar" and attachment["filename"].endswith(".ics")
    ics = attachment["content"]
    assert "BEGIN:VEVENT" in ics and f"UID:review-meeting-{meeting.pk}@needpool" in ics
    assert "SEQUENCE:1" in ics and "METHOD:REQUEST" in ics and "mailto:eng@example.com" in ics
    assert "五月需求评审会" in ics
    later = meeting.starts_at + dt.timedelta(days=1)
    services.meeting_update(actor=pm, meeting=meeting, starts_at=later, ends_at=later + dt.timedelta(hours=1))
    update = OutboundMail.objects.get(key=f"review:invite:{meeting.pk}:v2:{users['engineer'].pk}")
    content = update.attachments[0]["content"]
    assert "SEQUENCE:2" in content and f"UID:review-meeting-{meeting.pk}@needpool" in content
    assert "更新" in update.subject


def test_minutes_text_does_not_resend_the_invitation(meeting, pm):
    before = OutboundMail.objects.count()
    services.minutes_update(actor=pm, meeting=meeting, solution="分两期实现", summary="会议结论")
    assert OutboundMail.objects.count() == before
    meeting.refresh_from_db()
    assert meeting.version == 2 and meeting.solution == "分两期实现"


def test_meeting_update_refuses_a_stale_version(meeting, pm):
    services.meeting_update(actor=pm, meeting=meeting, expected_version=1, title="改名")
    with pytest.raises(StaleVersion):
        services.meeting_update(actor=pm, meeting=meeting, expected_version=1, title="再改名")
    meeting.refresh_from_db()
    assert meeting.title == "改名"


def test_attendees_set_replaces_and_checks_roles(meeting, pm, users):
    services.attendees_set(actor=pm, meeting=meeting, attendees=[(users["manager"], "product")])
    assert [(a.user, a.role) for a in meeting.attendees.all()] == [(users["manager"], "product")]
    with pytest.raises(ValidationError):
        services.attendees_set(actor=pm, meeting=meeting, attendees=[(users["manager"], "boss")])
    with pytest.raises(PermissionDenied):
        services.attendees_set(actor=users["sales"], meeting=meeting, attendees=[])


# ---------------------------------------------------------------- who sees what


def test_meeting_visibility(meeting, users, outsider, pm, make_requirement, customer_b):
    mine = make_requirement("销售的客户需求")
    foreign = make_requirement("别的客户的需求", customer=customer_b, owner=None, actor=pm)
    services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[mine.pk, foreign.pk])
    # Sales attends: sees the meeting but only the item of a requirement they may see.
    seen = selectors.meeting_get(user=users["sales"], pk=meeting.pk)
    assert [i.requirement_id for i in seen.visible_items] == [mine.pk]
    assert len(selectors.meeting_get(user=users["engineer"], pk=meeting.pk).visible_items) == 2  # SEE_ALL
    with pytest.raises(Http404):
        selectors.meeting_get(user=outsider, pk=meeting.pk)
    assert not selectors.meeting_list(user=outsider).exists()
    assert selectors.meeting_list(user=users["viewer"]).count() == 1


# ---------------------------------------------------------------- agenda


def test_agenda_add_refuses_merged_unknown_and_keeps_one_per_meeting(meeting, pm, make_requirement, users):
    a, b, c = make_requirement("甲"), make_requirement("乙"), make_requirement("丙")
    Requirement.objects.filter(pk=c.pk).update(merged_into=a)
    with pytest.raises(ValidationError) as err:
        services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[a.pk, c.pk])
    assert "已合并" in str(err.value)
    with pytest.raises(ValidationError) as err:
        services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[a.pk, 999999])
    assert "不存在或您无权查看" in str(err.value)
    assert not meeting.items.exists()
    assert len(services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[a.pk, b.pk, "bad"][:2])) == 2
    assert services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[b.pk, a.pk]) == []
    assert meeting.items.count() == 2
    with pytest.raises(ValidationError):
        services.agenda_add(actor=pm, meeting=meeting, requirement_ids=["abc"])
    with pytest.raises(PermissionDenied):
        services.agenda_add(actor=users["sales"], meeting=meeting, requirement_ids=[a.pk])


def test_a_sales_reviewer_cannot_add_requirements_they_do_not_see(meeting, pm, make_requirement, outsider):
    req = make_requirement()
    outsider.role = "manager"  # reviewers see the whole pool; a sales user is refused before looking
    with pytest.raises(ValidationError):
        services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[req.pk + 1000])


def test_closed_meeting_takes_no_items(meeting, pm, make_requirement):
    services.meeting_update(actor=pm, meeting=meeting, status="closed")
    with pytest.raises(ValidationError):
        services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[make_requirement().pk])


def test_remove_and_reorder(meeting, pm, make_requirement):
    a, b = make_requirement("甲"), make_requirement("乙")
    first, second = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[a.pk, b.pk])
    services.agenda_reorder(actor=pm, meeting=meeting, item_ids=[second.pk, first.pk])
    assert list(meeting.items.order_by("position").values_list("pk", flat=True)) == [second.pk, first.pk]
    with pytest.raises(ValidationError):
        services.agenda_reorder(actor=pm, meeting=meeting, item_ids=[123456])
    services.decide(actor=pm, item=first, decision="accepted")
    with pytest.raises(ValidationError):
        services.agenda_remove(actor=pm, item=first)
    services.agenda_remove(actor=pm, item=second)
    assert list(meeting.items.values_list("pk", flat=True)) == [first.pk]


# ---------------------------------------------------------------- material


def test_material_needs_link_or_file_within_limits(meeting, pm, settings):
    with pytest.raises(ValidationError):
        services.material_add(actor=pm, meeting=meeting, title="方案")
    with pytest.raises(ValidationError):
        services.material_add(actor=pm, meeting=meeting, title="方案", link="javascript:alert(1)")
    with pytest.raises(ValidationError) as err:
        services.material_add(
            actor=pm,
            meeting=meeting,
            title="方案",
            upload=SimpleUploadedFile("x.exe", b"MZ", "application/octet-stream"),
        )
    assert "不支持的文件类型" in str(err.value)
    settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError) as err:
        services.material_add(
            actor=pm, meeting=meeting, title="方案", upload=SimpleUploadedFile("a.pdf", b"%PDF" * 10, "application/pdf")
        )
    assert "文件过大" in str(err.value)
    settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 10_000
    material = services.material_add(
        actor=pm, meeting=meeting, title="方案", upload=SimpleUploadedFile("a.pdf", b"%PDF-1", "application/pdf")
    )
    assert material.name == "a.pdf" and material.size == 6 and material.file


def test_material_sent_late_is_flagged(meeting, pm):
    on_time = services.material_add(
        actor=pm, meeting=meeting, title="早", link="https://e.com/a", sent_at=meeting.starts_at - dt.timedelta(days=4)
    )
    assert selectors.late_materials(meeting) == []
    late = services.material_add(
        actor=pm, meeting=meeting, title="晚", link="https://e.com/b", sent_at=meeting.starts_at - dt.timedelta(days=2)
    )
    assert selectors.late_materials(meeting) == [late]
    assert on_time not in selectors.late_materials(meeting)


# ---------------------------------------------------------------- decisions: rules


@pytest.mark.parametrize(
    ("decision", "fields", "field"),
    [
        ("rejected", {}, "note"),
        ("changes", {}, "note"),
        ("deferred", {}, "revisit_date"),
        ("deferred", {"revisit_date": TODAY - dt.timedelta(days=1)}, "revisit_date"),
        ("pending", {}, "decision"),
        ("maybe", {}, "decision"),
        ("accepted", {"note": "x" * 501}, "note"),
    ],
)
def test_decision_needs_its_reason_or_date(meeting, pm, requirement, decision, fields, field):
    item = _item(meeting, requirement, pm)
    with pytest.raises(ValidationError) as err:
        services.decide(actor=pm, item=item, decision=decision, today=TODAY, **fields)
    assert field in err.value.message_dict
    item.refresh_from_db()
    assert item.decision == Decision.PENDING and requirement.status_changes.count() == 1


ROLES = ["admin", "manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]
REVIEWERS = {"admin", "manager", "product_manager"}


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    role=st.sampled_from(ROLES),
    decision=st.sampled_from([d.value for d in Decision]),
    note=st.sampled_from(["", "  ", "理由充分"]),
    revisit=st.sampled_from([None, -1, 0, 30]),
)
def test_decide_property(meeting, pm, users, make_requirement, role, decision, note, revisit):
    """Saved exactly when the decider may review and the decision has what it needs; else nothing changes."""
    with transaction.atomic():
        req = make_requirement("性质测试")
        item = _item(meeting, req, pm)
        revisit_date = None if revisit is None else TODAY + dt.timedelta(days=revisit)
        allowed = role in REVIEWERS
        valid = decision in ("accepted", "changes", "deferred", "rejected")
        if decision in ("rejected", "changes"):
            valid = valid and bool(note.strip())
        if decision == "deferred":
            valid = valid and revisit_date is not None and revisit_date >= TODAY
        try:
            services.decide(
                actor=users[role], item=item, decision=decision, note=note, revisit_date=revisit_date, today=TODAY
            )
        except PermissionDenied:
            assert not allowed
        except ValidationError:
            assert allowed and not valid
        else:
            assert allowed and valid
        item.refresh_from_db()
        assert (item.decision != Decision.PENDING) == (allowed and valid)
        moves = req.status_changes.count() - 1
        assert moves == (1 if allowed and valid and decision != "changes" else 0)
        transaction.set_rollback(True)


# ---------------------------------------------------------------- decisions: workflow moves


@pytest.mark.parametrize(
    ("decision", "extra", "status"),
    [
        ("accepted", {}, "in_progress"),
        ("deferred", {"revisit_date": TODAY}, "deferred"),
        ("rejected", {"note": "不符合产品方向"}, "rejected"),
        ("changes", {"note": "补充批量规则"}, "new"),
    ],
)
def test_standard_flow_moves(meeting, pm, requirement, decision, extra, status):
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision=decision, today=TODAY, **extra)
    requirement.refresh_from_db()
    assert requirement.status.key == status
    if status != "new":
        change = requirement.status_changes.order_by("-at", "-id").first()
        assert change.actor == pm and change.target.key == status
        if "note" in extra:
            assert extra["note"] in change.note


@pytest.mark.parametrize(
    ("decision", "extra", "status"),
    [
        ("accepted", {}, "developing"),
        ("deferred", {"revisit_date": TODAY}, "deferred"),
        ("rejected", {"note": "不做"}, "rejected"),
        ("changes", {"note": "补充"}, "to_analyse"),
    ],
)
def test_reviewed_flow_moves(meeting, pm, in_review, decision, extra, status):
    item = _item(meeting, in_review, pm)
    services.decide(actor=pm, item=item, decision=decision, today=TODAY, **extra)
    in_review.refresh_from_db()
    assert in_review.status.key == status
    assert selectors.latest_decision(in_review) == decision


def test_needs_changes_stays_when_the_flow_has_no_way_back(meeting, pm, requirement):
    requirement_transition(actor=pm, requirement=requirement, to="in_progress")
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision="changes", note="改一下")
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    assert AgendaItem.objects.get(pk=item.pk).decision == "changes"


def test_a_refused_move_leaves_the_decision_unsaved(meeting, pm, reviewed_flow, make_requirement):
    req = make_requirement("信息不全", background="")  # the standardisation gate keeps it in 待分析
    item = _item(meeting, req, pm)
    with pytest.raises(ValidationError) as err:
        services.decide(actor=pm, item=item, decision="accepted")
    assert "需求信息未标准化" in str(err.value)
    item.refresh_from_db()
    assert item.decision == Decision.PENDING and item.decided_at is None
    assert not Notification.objects.filter(kind=Notification.Kind.REVIEW_DECISION).exists()


def test_accepted_with_an_iteration_plans_it(meeting, pm, requirement):
    iteration = iteration_create(
        actor=pm, name="2026.05", start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 31)
    )
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision="accepted", iteration=iteration)
    assert IterationItem.objects.get(requirement=requirement).iteration == iteration
    item.refresh_from_db()
    assert item.iteration == iteration


def test_a_done_iteration_is_refused(meeting, pm, requirement):
    iteration = iteration_create(
        actor=pm, name="旧迭代", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 1, 31), status="done"
    )
    item = _item(meeting, requirement, pm)
    with pytest.raises(ValidationError):
        services.decide(actor=pm, item=item, decision="accepted", iteration=iteration)
    requirement.refresh_from_db()
    assert requirement.status.key == "new"


# ---------------------------------------------------------------- gate


def test_review_gate_refuses_entry_without_acceptance(meeting, pm, in_review, reviewed_flow):
    developing = WorkflowStatus.objects.get(workflow=reviewed_flow, key="developing")
    developing.entry_gates = ["review_accepted"]
    developing.save()
    with pytest.raises(ValidationError) as err:
        requirement_transition(actor=pm, requirement=in_review, to="developing")
    assert "需经评审通过" in str(err.value) and "尚未评审" in str(err.value)
    item = _item(meeting, in_review, pm)
    services.decide(actor=pm, item=item, decision="accepted")
    in_review.refresh_from_db()
    assert in_review.status.key == "developing"
    # Back in review and deferred by a later meeting: the latest decision is no longer 通过.
    requirement_transition(actor=pm, requirement=in_review, to="deferred")
    requirement_transition(actor=pm, requirement=in_review, to="in_review")
    AgendaItem.objects.filter(pk=item.pk).update(decision="deferred", revisit_date=TODAY)
    with pytest.raises(ValidationError) as err:
        requirement_transition(actor=pm, requirement=in_review, to="developing")
    assert "暂缓" in str(err.value)


def test_gate_is_registered_with_a_label():
    from needpool.requirements import lifecycle

    gate = lifecycle.registered_gates()["review_accepted"]
    assert "评审通过" in gate.label()


# ---------------------------------------------------------------- notices, mail, changing a decision


def test_requester_owner_and_participants_are_told_once(
    meeting, pm, users, requirement, django_capture_on_commit_callbacks
):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    requirement.owner = users["service"]
    requirement.save()
    users["service"].email = "service@example.com"
    users["service"].save()
    item = _item(meeting, requirement, pm)
    participants = sorted(seat.user.username for seat in meeting.attendees.select_related("user"))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            item = services.decide(
                actor=pm, item=AgendaItem.objects.get(pk=item.pk), decision="rejected", note="超出范围"
            )
    notices = Notification.objects.filter(kind=Notification.Kind.REVIEW_DECISION)
    expected = sorted({"sales", "service", *participants} - {pm.username})
    assert sorted(n.recipient.username for n in notices) == expected
    assert all("超出范围" in n.text and "拒绝" in n.text for n in notices)
    mails = Delivery.objects.filter(event__key=f"review:decision:{item.pk}:rejected", target__startswith="mail:")
    assert set(mails.values_list("target", flat=True)) >= {f"mail:{users['sales'].pk}", f"mail:{users['service'].pk}"}
    assert all(
        "超出范围" in m.body for m in django_mail.outbox if m.to[0] in ("sales@example.com", "service@example.com")
    )
    assert requirement.status_changes.count() == 2  # created + one rejection


def test_changing_a_decision_is_audited_and_reserved_to_reviewers(meeting, pm, users, requirement):
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision="deferred", revisit_date=TODAY, today=TODAY)
    with pytest.raises(PermissionDenied):
        services.decide(actor=users["engineer"], item=item, decision="rejected", note="不做")
    services.decide(actor=users["manager"], item=item, decision="rejected", note="不做")
    entries = AuditEntry.objects.filter(object_id=requirement.pk, changes__has_key="review_decision").order_by("id")
    assert [e.changes["review_decision"] for e in entries] == [["待决策", "暂缓"], ["暂缓", "拒绝"]]
    assert entries.last().actor == users["manager"]
    requirement.refresh_from_db()
    assert requirement.status.key == "rejected"


def test_a_stale_decision_is_refused_with_a_conflict(meeting, pm, users, requirement):
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision="accepted", expected_version=1)
    with pytest.raises(StaleVersion) as err:
        services.decide(actor=users["manager"], item=item, decision="rejected", note="不做", expected_version=1)
    assert "已被他人处理" in str(err.value)
    assert StatusChange.objects.filter(requirement=requirement).count() == 2


def test_merged_requirement_cannot_be_decided(meeting, pm, requirement, make_requirement):
    item = _item(meeting, requirement, pm)
    Requirement.objects.filter(pk=requirement.pk).update(merged_into=make_requirement("幸存"))
    with pytest.raises(ValidationError):
        services.decide(actor=pm, item=item, decision="accepted")


def test_section_lists_items_for_who_may_see(meeting, pm, requirement, outsider):
    from needpool.reviews.lifecycle import review_section_context

    assert review_section_context(requirement, pm) == {"review_items": [], "may_add": True}  # a reviewer may add it
    item = _item(meeting, requirement, pm)
    services.decide(actor=pm, item=item, decision="accepted")
    assert review_section_context(requirement, pm)["review_items"] == [item]
    assert review_section_context(requirement, outsider) is None


def _unused(_: Callable[..., Any]) -> None:  # keep the Callable import meaningful for type checkers
    return None

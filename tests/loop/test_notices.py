"""Telling the customer: the status listener, who is told, once, and the mail templates."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.core.models import Notification, OutboundMail
from needpool.loop import services
from needpool.loop.models import CustomerNotice, NoticeEvent, NoticeTemplate, ReleaseNote
from needpool.loop.services.config import VARIABLES, template_check, template_render
from needpool.loop.tasks import close_loop_after_move, loop_sweep

pytestmark = pytest.mark.django_db


def test_launch_tells_every_asker_once_and_no_other_customer(
    asked: Any, make_asked: Any, other_customer: Any, move: Any, mailoutbox: Any, users: Any
) -> None:
    other = make_asked(other_customer, other_customer.contacts.get(), title="别人的需求")
    asked.watchers.add(users["manager"])
    move(asked, "in_progress", "testing", "launched")

    notices = CustomerNotice.objects.filter(requirement=asked, event=NoticeEvent.LAUNCHED)
    assert {n.recipient for n in notices.filter(channel="mail")} == {"wang@a-tech.com.cn"}
    assert notices.filter(channel="in_app", user=users["manager"]).exists()
    assert not CustomerNotice.objects.filter(requirement=other).exists()
    sent = [m for m in mailoutbox if "wang@a-tech.com.cn" in m.to]
    assert len(sent) == 1 and asked.code in sent[0].body and "已上线" in sent[0].body
    assert not [m for m in mailoutbox if "li@b-make.com.cn" in m.to]
    assert Notification.objects.filter(recipient=users["manager"], kind=Notification.Kind.CLOSE_LOOP).count() == 1

    # The job run again (a retry) and the periodic sweep send nothing more.
    close_loop_after_move(asked.pk, "launched", "", None)
    loop_sweep()
    assert len([m for m in mailoutbox if "wang@a-tech.com.cn" in m.to]) == 1
    assert CustomerNotice.objects.filter(requirement=asked).count() == 2
    assert Notification.objects.filter(recipient=users["manager"], kind=Notification.Kind.CLOSE_LOOP).count() == 1
    # the notice carries the mail's outcome
    assert CustomerNotice.objects.get(requirement=asked, channel="mail").status == CustomerNotice.Status.SENT


def test_launch_drafts_a_release_note_without_customer_names(asked: Any, move: Any) -> None:
    move(asked, "in_progress", "testing", "launched")
    note = ReleaseNote.objects.get(requirement=asked)
    assert note.published_at is None
    assert "A科技公司" not in note.body and "客户" in note.body


def test_rejection_tells_with_the_reason(asked: Any, move: Any, mailoutbox: Any) -> None:
    move(asked, "rejected", note="与产品方向不符")
    assert CustomerNotice.objects.filter(requirement=asked, event="rejected").count() == 1
    assert "与产品方向不符" in mailoutbox[-1].body
    # closing the rejected requirement tells nobody again and asks for no rating
    move(asked, "closed")
    assert not CustomerNotice.objects.filter(requirement=asked, event="closed").exists()
    assert not asked.survey_invitations.exists()


def test_in_progress_tells_nobody(asked: Any, move: Any, mailoutbox: Any) -> None:
    move(asked, "in_progress")
    assert not CustomerNotice.objects.exists()
    assert not mailoutbox


def test_portal_submitter_is_told(asked: Any) -> None:
    from needpool.intake.models import IntakeChannel, Submission

    channel = IntakeChannel.objects.first()
    assert channel is not None
    feedback = asked.feedback_items.get()
    Submission.objects.create(channel=channel, via="portal", feedback=feedback, contact_email="Buyer@Example.cn")
    askers = {a.email for a in services.requirement_askers(asked.pk)}
    assert askers == {"wang@a-tech.com.cn", "buyer@example.cn"}


def test_switched_off_sends_no_mail(asked: Any, move: Any, mailoutbox: Any, users: Any) -> None:
    services.loop_settings_update(actor=users["admin"], notify_customers=False)
    move(asked, "rejected", note="不做")
    assert not mailoutbox


def test_admin_template_is_used_with_plain_substitution(asked: Any, move: Any, mailoutbox: Any, users: Any) -> None:
    services.notice_template_update(
        actor=users["admin"], event="rejected", subject="{code} 结果", body="需求 {title}：{status}，{note}。{link}"
    )
    move(asked, "rejected", note="值 {code} 不再替换")
    mail = mailoutbox[-1]
    assert mail.subject == f"{asked.code} 结果"
    assert f"需求 {asked.title}：已拒绝，值 {{code}} 不再替换。" in mail.body
    assert "/portal/loop/changelog/" in mail.body


@pytest.mark.parametrize(
    "body",
    [
        "{{ title }}",
        "{% load static %}",
        "{# x #}",
        "您好 {name}",
        "{title",
        "{ code }",
        "{requirement.owner.password}",
    ],
)
def test_template_refuses_syntax_and_unknown_variables(users: Any, body: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.notice_template_update(actor=users["admin"], event="launched", subject="已上线", body=body)
    assert "body" in caught.value.message_dict
    assert not NoticeTemplate.objects.exists()


def test_only_admins_edit_templates(users: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.notice_template_update(actor=users["product_manager"], event="launched", subject="x", body="y")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([*"ab{}%#", "{code}", "{title}", "{x}", "{note}"]), max_size=12).map("".join))
def test_template_check_accepts_exactly_known_placeholders(text: str) -> None:
    import re

    known = re.sub(r"\{(code|title|status|note|link)\}", "", text)
    ok = "{" not in known and "}" not in known
    try:
        template_check(text)
    except ValidationError:
        assert not ok
    else:
        assert ok
        rendered = template_render(text, {k: "V" for k in VARIABLES})
        assert "{" not in rendered


def test_catch_up_sends_for_a_lost_job(asked: Any, users: Any, mailoutbox: Any) -> None:
    from needpool.requirements.services import requirement_transition

    requirement_transition(actor=users["product_manager"], requirement=asked, to="rejected", note="不做")  # no commit
    assert not CustomerNotice.objects.exists()
    result = loop_sweep()
    assert result["notices"]["mail"] == 1
    assert loop_sweep()["notices"]["mail"] == 0
    assert OutboundMail.objects.filter(key__startswith=f"loop:notice:{asked.pk}:").count() == 1


def test_status_in_the_mail_is_the_events_even_when_the_requirement_moved_on(
    asked: Any, move: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    move(asked, "in_progress", "testing", "launched", "closed")
    CustomerNotice.objects.filter(event="launched").delete()
    mailoutbox.clear()
    from needpool.core.models import OutboundMail as Mail

    Mail.objects.filter(key__startswith=f"loop:notice:{asked.pk}:launched:").delete()
    with django_capture_on_commit_callbacks(execute=True):
        close_loop_after_move(asked.pk, "launched", "", None)
    launched = next(m for m in mailoutbox if "已上线" in m.subject)
    assert "当前状态：已上线" in launched.body


def test_sweep_drafts_the_release_note_of_a_launch_whose_job_was_lost(asked: Any, users: Any) -> None:
    from needpool.requirements.services import requirement_transition

    for target in ("in_progress", "testing", "launched"):
        requirement_transition(actor=users["product_manager"], requirement=asked, to=target)  # listeners never ran
    assert loop_sweep()["release_notes"] == 1
    assert loop_sweep()["release_notes"] == 0
    assert ReleaseNote.objects.filter(requirement=asked).count() == 1

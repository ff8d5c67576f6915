"""CSAT after close and NPS campaigns: tokens, one answer, expiry, low scores, the NPS formula."""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.core.models import Notification
from needpool.loop import selectors, services
from needpool.loop.models import NpsCampaign, SurveyInvitation
from needpool.loop.selectors import nps_score
from needpool.loop.services.surveys import token_hash
from needpool.loop.tasks import loop_sweep

LINK = re.compile(r"/portal/loop/s/([A-Za-z0-9_-]+)/")


def token_from(mail: Any) -> str:
    found = LINK.search(mail.body)
    assert found, mail.body
    return found.group(1)


@pytest.fixture
def closed(asked: Any, move: Any) -> Any:
    return move(asked, "in_progress", "testing", "launched", "closed")


@pytest.mark.django_db
def test_close_invites_each_contact_once(closed: Any, mailoutbox: Any) -> None:
    invitation = SurveyInvitation.objects.get(requirement=closed)
    assert invitation.email == "wang@a-tech.com.cn" and invitation.kind == "csat"
    mails = [m for m in mailoutbox if "打分" in m.subject]
    assert len(mails) == 1
    token = token_from(mails[0])
    assert len(token) >= 43  # 32 bytes of randomness
    assert invitation.token_hash == token_hash(token) and token not in invitation.token_hash
    assert (invitation.expires_at - invitation.created_at).days == 30
    loop_sweep()
    services.csat_invite(requirement_id=closed.pk)
    assert SurveyInvitation.objects.filter(requirement=closed).count() == 1
    assert len([m for m in mailoutbox if "打分" in m.subject]) == 1


@pytest.mark.django_db
def test_periodic_job_invites_when_the_listener_job_was_lost(asked: Any, users: Any) -> None:
    from needpool.requirements.services import requirement_transition

    for target in ("in_progress", "testing", "launched", "closed"):
        requirement_transition(actor=users["product_manager"], requirement=asked, to=target)  # listeners never ran
    assert loop_sweep()["csat"] == {"requirements": 1, "invited": 1}
    assert loop_sweep()["csat"]["invited"] == 0


@pytest.mark.django_db
def test_answer_page_needs_the_token_and_takes_one_answer(closed: Any, mailoutbox: Any, client: Any) -> None:
    token = token_from(next(m for m in mailoutbox if "打分" in m.subject))
    assert client.get("/portal/loop/s/" + "x" * 43 + "/").status_code == 404
    assert client.get("/portal/loop/s/short/").status_code == 404
    page = client.get(f"/portal/loop/s/{token}/")
    assert page.status_code == 200 and closed.title in page.content.decode()
    assert "A科技公司" not in page.content.decode() and "wang@" not in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    bad = client.post(f"/portal/loop/s/{token}/", {"score": "9"})
    assert bad.status_code == 400
    done = client.post(f"/portal/loop/s/{token}/", {"score": "5", "comment": "很好用"})
    assert "感谢您的反馈" in done.content.decode()
    again = client.post(f"/portal/loop/s/{token}/", {"score": "1"})
    assert "已经提交过了" in again.content.decode()
    invitation = SurveyInvitation.objects.get(requirement=closed)
    assert (invitation.score, invitation.comment) == (5, "很好用")
    summary = selectors.csat_summary(closed.pk)
    assert (summary.satisfied_percent, summary.average, summary.response_percent) == (100, 5.0, 100)


@pytest.mark.django_db
def test_expired_invitation_has_its_page_and_refuses(closed: Any, mailoutbox: Any, client: Any) -> None:
    token = token_from(next(m for m in mailoutbox if "打分" in m.subject))
    invitation = SurveyInvitation.objects.get(requirement=closed)
    later = invitation.expires_at + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as caught:
        services.survey_answer(invitation=invitation, score=4, now=later)
    assert caught.value.code == "expired"
    assert (
        services.survey_answer(
            invitation=invitation, score=4, now=invitation.expires_at - dt.timedelta(seconds=1)
        ).score
        == 4
    )
    other = SurveyInvitation.objects.get(pk=invitation.pk)
    SurveyInvitation.objects.filter(pk=other.pk).update(score=None, answered_at=None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        page = client.get(f"/portal/loop/s/{token}/")
    assert page.status_code == 410 and "已过期" in page.content.decode()


@pytest.mark.django_db
def test_expiry_follows_the_setting(asked: Any, move: Any, users: Any) -> None:
    services.loop_settings_update(actor=users["admin"], csat_expiry_days=7)
    move(asked, "in_progress", "testing", "launched", "closed")
    invitation = SurveyInvitation.objects.get(requirement=asked)
    assert (invitation.expires_at - invitation.created_at).days == 7


@pytest.mark.django_db
def test_low_score_tells_the_account_owner(closed: Any, users: Any, django_capture_on_commit_callbacks: Any) -> None:
    invitation = SurveyInvitation.objects.get(requirement=closed)
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(invitation=invitation, score=2, comment="太慢")
    told = Notification.objects.filter(recipient=users["sales"], kind=Notification.Kind.LOW_SCORE)
    assert told.count() == 1 and closed.code in told.get().text


@pytest.mark.django_db
def test_good_score_tells_nobody(closed: Any, users: Any, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_answer(invitation=SurveyInvitation.objects.get(requirement=closed), score=3)
    assert not Notification.objects.filter(recipient=users["sales"], kind=Notification.Kind.LOW_SCORE).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_submits_at_once_store_one_answer(closed: Any) -> None:
    invitation = SurveyInvitation.objects.get(requirement=closed)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        try:
            fresh = SurveyInvitation.objects.get(pk=invitation.pk)
            barrier.wait(timeout=10)
            services.survey_answer(invitation=fresh, score=score)
            outcomes.append("stored")
        except ValidationError as exc:
            outcomes.append(str(exc.code))
        except Exception as exc:  # database busy on SQLite counts as refused, never as two answers
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(s,)) for s in (1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("stored") == 1, outcomes
    stored = SurveyInvitation.objects.get(pk=invitation.pk)
    assert stored.score in (1, 5) and stored.answered_at is not None


# ---------------------------------------------------------------- NPS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10), max_size=60))
def test_nps_formula(scores: list[int]) -> None:
    result = nps_score(scores)
    if not scores:
        assert result.nps is None
        return
    n = len(scores)
    expected = 100 * len([s for s in scores if s in (9, 10)]) / n - 100 * len([s for s in scores if s <= 6]) / n
    assert result.nps == pytest.approx(expected)
    assert result.promoters + result.passives + result.detractors == n
    assert result.passives == len([s for s in scores if s in (7, 8)])
    assert -100 <= result.nps <= 100


@pytest.fixture
def segmented(customer: Any, other_customer: Any) -> Any:
    customer.segment = "high_value"
    customer.save(update_fields=["segment"])
    return customer


@pytest.mark.django_db
def test_campaign_reaches_only_its_segment_once(
    segmented: Any, other_customer: Any, users: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = services.nps_campaign_create(actor=users["manager"], name="2024 Q2 NPS", segments=["high_value"])
    with django_capture_on_commit_callbacks(execute=True):
        services.nps_campaign_start(actor=users["manager"], campaign=campaign)
    invitations = SurveyInvitation.objects.filter(campaign=campaign)
    assert [i.email for i in invitations] == ["wang@a-tech.com.cn"]
    assert not [m for m in mailoutbox if "li@b-make.com.cn" in m.to]
    assert NpsCampaign.objects.get(pk=campaign.pk).status == "sent"
    assert services.nps_campaign_send(campaign_id=campaign.pk) == {"invited": 0, "remaining": 0}
    loop_sweep()
    assert invitations.count() == 1
    with pytest.raises(ValidationError):
        services.nps_campaign_start(actor=users["manager"], campaign=campaign)
    services.survey_answer(invitation=invitations.get(), score=10, comment="推荐")
    result = selectors.nps_for_campaign(campaign)
    assert (result.promoters, result.detractors, result.nps) == (1, 0, 100.0)


@pytest.mark.django_db
def test_campaign_input_is_checked(users: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.nps_campaign_create(actor=users["manager"], name=" ", segments=["vip"])
    assert set(caught.value.message_dict) == {"name", "segments"}
    assert not NpsCampaign.objects.exists()


@pytest.mark.django_db
def test_nps_score_range(segmented: Any, users: Any, django_capture_on_commit_callbacks: Any) -> None:
    campaign = services.nps_campaign_create(actor=users["manager"], name="NPS")
    with django_capture_on_commit_callbacks(execute=True):
        services.nps_campaign_start(actor=users["manager"], campaign=campaign)
    invitation = SurveyInvitation.objects.filter(campaign=campaign).first()
    assert invitation is not None
    for bad in (-1, 11, "7.5", "x"):
        with pytest.raises(ValidationError):
            services.survey_answer(invitation=invitation, score=bad)
    assert services.survey_answer(invitation=invitation, score=0).score == 0


@pytest.mark.django_db
def test_one_customer_never_reads_another_customers_name(
    make_asked: Any, customer: Any, contact: Any, other_customer: Any, move: Any, mailoutbox: Any, client: Any
) -> None:
    from needpool.requirements.models import Feedback

    shared = make_asked(customer, contact, title="B制造企业和A科技公司都要的批量折扣")
    Feedback.objects.create(
        customer=other_customer,
        contact=other_customer.contacts.get(),
        channel="sales",
        raw_text="我们也要批量折扣",
        received_at=timezone.now(),
        requirement=shared,
    )
    move(shared, "in_progress", "testing", "launched", "closed", note="B制造企业已确认验收")
    to_a = [m for m in mailoutbox if "wang@a-tech.com.cn" in m.to]
    to_b = [m for m in mailoutbox if "li@b-make.com.cn" in m.to]
    assert len(to_a) == 3 and len(to_b) == 3  # launched, closed, CSAT
    assert not any("B制造企业" in m.subject + m.body for m in to_a)
    assert not any("A科技公司" in m.subject + m.body for m in to_b)
    assert any("A科技公司" in m.body for m in to_a)  # its own name stays
    token = token_from(next(m for m in to_a if "打分" in m.subject))
    page = client.get(f"/portal/loop/s/{token}/").content.decode()
    assert "B制造企业" not in page and "li@" not in page and "李经理" not in page


@pytest.mark.django_db
def test_erasing_a_contact_removes_them_from_notices_and_surveys(closed: Any, contact: Any, users: Any) -> None:
    from needpool.customers.selectors import contact_personal_data
    from needpool.customers.services import contact_erase
    from needpool.loop.models import CustomerNotice

    SurveyInvitation.objects.filter(requirement=closed).update(comment="王总觉得不错")
    copy = contact_personal_data(user=users["admin"], pk=contact.pk)
    assert "wang@a-tech.com.cn" in str(copy)
    contact_erase(actor=users["admin"], contact=contact, reason="客户要求删除")
    assert not CustomerNotice.objects.filter(recipient__icontains="wang@").exists()
    invitation = SurveyInvitation.objects.get(requirement=closed)
    assert invitation.email == "" and "王总" not in invitation.comment
    assert invitation.expires_at <= timezone.now()
    assert services.csat_invite(requirement_id=closed.pk) == 0
    from needpool.core.models import OutboundMail

    mails = [m for m in OutboundMail.objects.all() if m.key.startswith("loop:") or m.key.startswith("erased:")]
    assert mails and all("wang@" not in m.key and "wang@" not in str(m.to) for m in mails)

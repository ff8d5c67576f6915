"""Intake services: channels and their secrets, portal submissions, messages, channel feedback, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from needpool.core.models import AuditEntry
from needpool.intake.channels.services import (
    ExternalIdTaken,
    IdempotencyKeyReused,
    access_code_issue,
    access_code_revoke,
    channel_create,
    channel_feedback_submit,
    channel_token_revoke,
    channel_token_rotate,
    channel_update,
    idempotent_call,
)
from needpool.intake.channels.tokens import digest, normalize_access_code
from needpool.intake.models import (
    ChannelAccessCode,
    IdempotencyRecord,
    IntakeChannel,
    PortalMessage,
    Submission,
    TrackingLink,
)
from needpool.intake.portal.selectors import submission_status, tracked_submissions, tracking_link
from needpool.intake.portal.services import portal_message_send, portal_submit
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_link, requirement_transition
from tests.conftest import option

SITE = "https://needpool.example.com/"
NON_ADMINS = ["manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"]


def submit(channel, **overrides):
    data = {
        "channel": channel,
        "customer_text": "A科技公司",
        "contact_name": "王经理",
        "contact_phone": "010-62345678",
        "contact_email": "",
        "type": option("type", "function"),
        "description": "希望订单列表支持按客户等级批量设置折扣。",
        "site_url": SITE,
    }
    data.update(overrides)
    return portal_submit(**data)


def nothing_written() -> bool:
    return not Feedback.objects.exists() and not Submission.objects.exists() and not TrackingLink.objects.exists()


# ---------------------------------------------------------------- channels


def test_admin_creates_a_channel_with_the_kinds_feedback_channel_and_an_audit_row(users):
    channel = channel_create(actor=users["admin"], name="App 反馈", slug="App-Feedback", kind="app_feedback")
    assert channel.slug == "app-feedback"
    assert channel.feedback_channel == "app_feedback"
    assert not channel.has_token
    assert AuditEntry.objects.filter(object_id=channel.pk, action="create").exists()


@pytest.mark.parametrize("role", NON_ADMINS)
def test_only_admins_manage_channels(users, portal, role):
    with pytest.raises(PermissionDenied):
        channel_create(actor=users[role], name="x", slug="x")
    with pytest.raises(PermissionDenied):
        channel_update(actor=users[role], channel=portal, name="y")
    with pytest.raises(PermissionDenied):
        channel_token_rotate(actor=users[role], channel=portal)
    assert IntakeChannel.objects.filter(slug="x").count() == 0
    portal.refresh_from_db()
    assert portal.name == "官网需求反馈表" and not portal.token_hash


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "a", "slug": "track"}, "slug"),
        ({"name": "a", "slug": "site"}, "slug"),
        ({"name": "", "slug": "ok"}, "name"),
        ({"name": "a", "slug": "有中文"}, "slug"),
        ({"name": "a", "slug": "ok", "portal_rate_limit": 0}, "portal_rate_limit"),
        ({"name": "a", "slug": "ok", "colour": "red"}, "colour"),
    ],
)
def test_bad_channel_input_is_refused_per_field(users, portal, data, field):
    with pytest.raises(ValidationError) as exc:
        channel_create(actor=users["admin"], **data)
    assert field in exc.value.message_dict
    assert IntakeChannel.objects.count() == 2  # the seeded one and the fixture


def test_token_is_shown_once_stored_hashed_and_rotation_replaces_it(users, portal):
    channel, token = channel_token_rotate(actor=users["admin"], channel=portal)
    assert token.startswith("npc_") and len(token) > 40
    assert channel.token_hash == digest(token) and token not in channel.token_hash
    assert channel.token_prefix == token[:12]
    _channel, second = channel_token_rotate(actor=users["admin"], channel=channel)
    assert second != token
    assert not IntakeChannel.objects.filter(token_hash=digest(token)).exists()
    assert IntakeChannel.objects.filter(token_hash=digest(second)).exists()
    audit = AuditEntry.objects.filter(object_id=portal.pk, action="update").first()
    assert token not in str(audit.changes) and second not in str(audit.changes)
    channel_token_revoke(actor=users["admin"], channel=channel)
    channel.refresh_from_db()
    assert channel.token_hash == "" and not channel.has_token
    with pytest.raises(ValidationError):
        channel_token_revoke(actor=users["admin"], channel=channel)


def test_access_code_is_issued_per_customer_hashed_and_revocable(users, code_portal, customer):
    record, code = access_code_issue(actor=users["admin"], channel=code_portal, customer=customer)
    assert len(normalize_access_code(code)) == 8 and record.hint == code[-4:]
    assert code not in record.code_hash
    again, second = access_code_issue(actor=users["admin"], channel=code_portal, customer=customer)
    assert again.pk == record.pk and second != code  # reissuing replaces the old code
    access_code_revoke(actor=users["admin"], access_code=again)
    assert not ChannelAccessCode.objects.get(pk=record.pk).is_active
    with pytest.raises(PermissionDenied):
        access_code_issue(actor=users["sales"], channel=code_portal, customer=customer)


# ---------------------------------------------------------------- portal submissions


def test_a_submission_becomes_unlinked_feedback_matched_to_the_customer_by_name(portal, customer):
    receipt = submit(portal, contact_email="wang@a-tech.com.cn")
    feedback = receipt.submission.feedback
    assert feedback.requirement is None
    assert feedback.channel == "website_form"
    assert feedback.customer == customer
    assert feedback.contact == customer.contacts.get()  # same work e-mail as the known contact
    assert feedback.type == option("type", "function")
    assert feedback.created_by is None
    assert receipt.submission.via == "portal"
    assert tracking_link(receipt.tracking_token).submission == receipt.submission
    assert AuditEntry.objects.filter(object_id=receipt.submission.pk, action="create").exists()


def test_customer_is_matched_by_code_and_unknown_names_are_kept_not_created(portal, customer):
    by_code = submit(portal, customer_text=customer.code.lower())
    assert by_code.submission.feedback.customer == customer
    unknown = submit(portal, customer_text="不存在的公司")
    assert unknown.submission.feedback.customer is None
    assert unknown.submission.customer_text == "不存在的公司"
    assert unknown.submission.feedback.contact is None


def test_the_channel_can_record_under_another_feedback_channel(users, make_channel):
    app = make_channel(name="App 内嵌表单", slug="app-form", feedback_channel="app_feedback")
    assert submit(app).submission.feedback.channel == "app_feedback"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"contact_phone": "138 0013 8000"}, "contact_phone", "个人手机号"),
        ({"contact_phone": "", "contact_email": "wang@qq.com"}, "contact_email", "个人邮箱"),
        ({"contact_phone": "", "contact_email": "not-an-email"}, "contact_email", "邮箱"),
        ({"contact_phone": "", "contact_email": ""}, "contact_phone", "至少填写"),
        ({"contact_name": " "}, "contact_name", "联系人"),
        ({"description": ""}, "description", "需求描述"),
        ({"description": "长" * 5001}, "description", "5000"),
        ({"customer_text": ""}, "customer", "客户"),
        ({"type": None, "expected_date": dt.date(2000, 1, 1)}, "expected_date", "早于今天"),
    ],
)
def test_bad_portal_input_is_refused_with_a_reason_and_nothing_written(portal, overrides, field, words):
    with pytest.raises(ValidationError) as exc:
        submit(portal, **overrides)
    assert words in " ".join(exc.value.message_dict[field])
    assert nothing_written()


def test_the_privacy_message_is_the_contact_forms_message(portal):
    from needpool.customers.privacy import check_contact_privacy

    with pytest.raises(ValidationError) as contact_form:
        check_contact_privacy(phone="13800138000", email="", personal_domains=set())
    with pytest.raises(ValidationError) as portal_form:
        submit(portal, contact_phone="13800138000")
    assert portal_form.value.message_dict["contact_phone"] == contact_form.value.message_dict["phone"]


def _file(name: str, size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"x" * size, content_type="application/octet-stream")


def test_attachments_are_stored_within_the_limits(portal, settings):
    receipt = submit(portal, uploads=[_file("截图.png", 100), _file("说明.pdf", 200)])
    files = list(receipt.submission.attachments.all())
    assert [f.name for f in files] == ["截图.png", "说明.pdf"]
    assert files[0].file.read() == b"x" * 100


@pytest.mark.parametrize(
    ("uploads", "words"),
    [
        ([_file("a.png", 10)] * 4, "最多上传 3 个"),
        ([_file("run.exe", 10)], "不支持的文件类型"),
        ([_file("empty.png", 0)], "空的"),
        ([_file("big.png", 1024 * 1024 + 1)], "过大"),
    ],
)
def test_attachment_limits_refuse_and_write_nothing(users, portal, uploads, words):
    channel_update(actor=users["admin"], channel=portal, max_attachment_mb=1)
    portal.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        submit(portal, uploads=uploads)
    assert words in " ".join(exc.value.message_dict["attachments"])
    assert nothing_written()


def test_the_site_wide_limit_caps_the_channels_limit(portal, settings):
    settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 500
    with pytest.raises(ValidationError):
        submit(portal, uploads=[_file("a.png", 501)])
    assert nothing_written()


def test_access_code_mode_needs_a_valid_code_and_links_its_customer(users, code_portal, customer):
    _record, code = access_code_issue(actor=users["admin"], channel=code_portal, customer=customer)
    for bad, words in (("", "请填写访问码"), ("ZZZZ-ZZZZ", "无效")):
        with pytest.raises(ValidationError) as exc:
            submit(code_portal, customer_text="", access_code=bad)
        assert words in exc.value.message_dict["access_code"][0]
        assert nothing_written()
    receipt = submit(code_portal, customer_text="", access_code=code.lower().replace("-", ""))
    assert receipt.submission.feedback.customer == customer
    assert ChannelAccessCode.objects.get(channel=code_portal).last_used_at is not None


def test_a_revoked_or_other_channels_code_is_refused(users, code_portal, customer, make_channel):
    other = make_channel(name="另一入口", slug="other", access_mode="code")
    _r, other_code = access_code_issue(actor=users["admin"], channel=other, customer=customer)
    record, code = access_code_issue(actor=users["admin"], channel=code_portal, customer=customer)
    access_code_revoke(actor=users["admin"], access_code=record)
    for attempt in (code, other_code):
        with pytest.raises(ValidationError):
            submit(code_portal, access_code=attempt)
    assert nothing_written()


def test_an_inactive_or_api_only_channel_takes_no_portal_submission(users, portal, ticket_channel):
    channel_update(actor=users["admin"], channel=portal, is_active=False)
    portal.refresh_from_db()
    for channel in (portal, ticket_channel[0]):
        with pytest.raises(ValidationError):
            submit(channel)
    assert nothing_written()


def test_the_tracking_link_is_mailed_after_commit_and_lists_every_submission_of_the_address(
    portal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = submit(portal, contact_email="Li@Example-Corp.cn")
    assert mail.outbox == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li@example-corp.cn"]
    assert "官网需求反馈表" in message.subject
    link = [line for line in message.body.splitlines() if line.startswith(SITE.rstrip("/") + "/portal/track/")]
    assert len(link) == 1
    token = link[0].rstrip("/").rsplit("/", 1)[-1]
    assert token != first.tracking_token
    with django_capture_on_commit_callbacks(execute=True):
        second = submit(portal, contact_email="li@example-corp.cn", description="第二条需求")
        submit(portal, contact_email="someone@else-corp.cn", description="别人的需求")
    mailed = tracking_link(token)
    assert mailed.email == "li@example-corp.cn"
    assert list(tracked_submissions(mailed)) == [second.submission, first.submission]
    assert list(tracked_submissions(tracking_link(first.tracking_token))) == [first.submission]


def test_without_an_email_no_mail_is_sent(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = submit(portal, contact_email="")
    assert receipt.emailed_to == "" and mail.outbox == []
    assert TrackingLink.objects.count() == 1


def test_status_follows_the_requirement_and_its_merges(users, portal, requirement):
    receipt = submit(portal)
    submission = receipt.submission
    assert submission_status(submission).label == "已收到，待评估"
    feedback_link(actor=users["product_manager"], feedback=submission.feedback, requirement=requirement)
    submission = Submission.objects.get(pk=submission.pk)
    assert submission_status(submission).label == "待处理"
    requirement_transition(actor=users["product_manager"], requirement=requirement, to="in_progress")
    submission = Submission.objects.get(pk=submission.pk)
    assert submission_status(submission).label == "处理中"
    assert submission_status(submission).category == "active"


# ---------------------------------------------------------------- messages to submitters


def test_staff_send_a_message_that_is_mailed_in_the_submitters_language(
    users, portal, django_capture_on_commit_callbacks
):
    receipt = submit(portal, contact_email="wang@a-tech.com.cn", language="zh-hans")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = portal_message_send(
            actor=users["service"], submission=receipt.submission, body="功能已排期，预计下月上线。", site_url=SITE
        )
    assert message.emailed and message.author == users["service"]
    assert len(mail.outbox) == 1 and "功能已排期" in mail.outbox[0].body
    assert "/portal/track/" in mail.outbox[0].body
    assert AuditEntry.objects.filter(object_id=receipt.submission.pk, action="comment").exists()


@pytest.mark.parametrize("role", ["engineer", "compliance", "viewer"])
def test_roles_without_feedback_write_cannot_message(users, portal, role):
    receipt = submit(portal)
    with pytest.raises(PermissionDenied):
        portal_message_send(actor=users[role], submission=receipt.submission, body="你好")
    assert not PortalMessage.objects.exists()


def test_a_message_must_have_words_and_reach_someone(users, make_channel):
    quiet = make_channel(name="只看状态", slug="quiet", portal_shows="status")
    receipt = submit(quiet, contact_email="")
    for body, words in (("  ", "留言内容"), ("x" * 2001, "2000"), ("你好", "无法送达")):
        with pytest.raises(ValidationError) as exc:
            portal_message_send(actor=users["service"], submission=receipt.submission, body=body)
        assert words in " ".join(exc.value.messages)
    assert not PortalMessage.objects.exists()


# ---------------------------------------------------------------- channel API feedback


def test_channel_feedback_matches_customer_and_keeps_external_id(ticket_channel, customer):
    channel, _token = ticket_channel
    submission = channel_feedback_submit(
        channel=channel,
        raw_text="工单 #88：导出报表超时",
        customer_code=customer.code,
        contact_email="wang@a-tech.com.cn",
        external_id="T-88",
        sentiment="negative",
    )
    feedback = submission.feedback
    assert feedback.channel == "ticket" and feedback.customer == customer and feedback.requirement is None
    assert feedback.sentiment == "negative" and submission.via == "api" and submission.external_id == "T-88"
    with pytest.raises(ExternalIdTaken) as exc:
        channel_feedback_submit(channel=channel, raw_text="重复", external_id="T-88")
    assert exc.value.feedback_id == feedback.pk
    assert Feedback.objects.count() == 1


def test_channel_feedback_applies_the_privacy_rule(ticket_channel):
    with pytest.raises(ValidationError) as exc:
        channel_feedback_submit(channel=ticket_channel[0], raw_text="x", contact_phone="+86 139 1234 5678")
    assert "个人手机号" in exc.value.message_dict["contact_phone"][0]
    assert not Feedback.objects.exists()


# ---------------------------------------------------------------- idempotency


def test_idempotent_call_runs_once_and_replays(db):
    calls = []

    def run():
        calls.append(1)
        return 201, {"id": len(calls)}

    first = idempotent_call(scope="channel:1", key="k1", request_hash="h", run=run)
    again = idempotent_call(scope="channel:1", key="k1", request_hash="h", run=run)
    other_scope = idempotent_call(scope="user:1", key="k1", request_hash="h", run=run)
    assert (first.replayed, again.replayed, other_scope.replayed) == (False, True, False)
    assert again.body == {"id": 1} and again.status_code == 201
    assert len(calls) == 2
    with pytest.raises(IdempotencyKeyReused):
        idempotent_call(scope="channel:1", key="k1", request_hash="other", run=run)


def test_a_failed_call_leaves_the_key_unused(db):
    def fail():
        raise ValidationError("no")

    with pytest.raises(ValidationError):
        idempotent_call(scope="channel:1", key="k", request_hash="h", run=fail)
    assert not IdempotencyRecord.objects.exists()
    assert not idempotent_call(scope="channel:1", key="k", request_hash="h2", run=lambda: (201, {})).replayed


def test_an_expired_key_can_be_used_again(db):
    idempotent_call(scope="channel:1", key="k", request_hash="h", run=lambda: (201, {"id": 1}))
    IdempotencyRecord.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    result = idempotent_call(scope="channel:1", key="k", request_hash="new", run=lambda: (201, {"id": 2}))
    assert not result.replayed and result.body == {"id": 2}
    assert IdempotencyRecord.objects.count() == 1

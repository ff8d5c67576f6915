"""Portal pages (public form, tracking) and the staff pages behind them."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from needpool.intake.channels.services import access_code_issue, channel_update
from needpool.intake.models import IntakeChannel, PortalMessage, Submission, TrackingLink
from needpool.intake.portal.services import portal_message_send
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_link
from tests.conftest import PASSWORD
from tests.intake.portal.conftest import portal_data


def signed_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def nothing_written() -> bool:
    return not Feedback.objects.exists() and not Submission.objects.exists() and not TrackingLink.objects.exists()


def form_url(channel: IntakeChannel) -> str:
    return reverse("portal:form", args=[channel.slug])


def post(client: Client, channel: IntakeChannel, **overrides):
    return client.post(form_url(channel), portal_data(**overrides))


def track_token(response) -> str:
    match = re.search(r"/portal/track/([\w-]+)/", response["Location"])
    assert match, response["Location"]
    return match.group(1)


# ---------------------------------------------------------------- front page


def test_portal_front_page_goes_straight_to_the_only_channel(db):
    response = Client().get("/portal/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/web/"  # the channel seeded by the migration


def test_portal_front_page_lists_active_portal_channels_only(portal, ticket_channel, make_channel):
    make_channel(name="已停用入口", slug="off", is_active=False)
    response = Client().get("/portal/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "官网需求反馈" in html and "官网需求反馈表" in html
    assert "工单系统" not in html and "已停用入口" not in html


def test_without_channels_the_portal_says_it_is_closed(db):
    IntakeChannel.objects.all().delete()
    response = Client().get("/portal/")
    assert response.status_code == 404
    assert "门户暂未开放" in response.content.decode()


@pytest.mark.parametrize("slug", ["tickets", "nope"])
def test_api_only_or_unknown_channels_have_no_form(ticket_channel, slug):
    assert Client().get(f"/portal/{slug}/").status_code == 404


# ---------------------------------------------------------------- the form


def test_form_page_is_public_bilingual_and_has_a_hidden_honeypot(portal):
    response = Client().get(form_url(portal))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="portal-form"' in html and "官网需求反馈表" in html
    assert 'name="website"' in html and 'class="portal-hp" aria-hidden="true"' in html
    assert 'tabindex="-1"' in html
    assert 'name="access_code"' not in html
    assert 'name="language"' in html  # the language switch
    english = Client(headers={"accept-language": "en"}).get(form_url(portal))
    assert '<html lang="en">' in english.content.decode()


def test_submitting_the_form_lands_unlinked_feedback_and_opens_the_tracking_page(portal, customer):
    client = Client()
    response = post(client, portal)
    assert response.status_code == 302
    submission = Submission.objects.get()
    feedback = submission.feedback
    assert feedback.requirement is None and feedback.channel == "website_form" and feedback.customer == customer
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "提交成功" in html
    assert "已收到，待评估" in html
    assert "希望订单列表支持按客户等级批量设置折扣" in html
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]


def test_the_receipt_mail_carries_the_tracking_link(portal, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(Client(), portal, contact_email="li@example-corp.cn")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "http://testserver/portal/track/" in mail.outbox[0].body


def test_attachments_upload_with_the_form(portal):
    files = [
        SimpleUploadedFile("截图.png", b"png-bytes", content_type="image/png"),
        SimpleUploadedFile("清单.xlsx", b"xlsx-bytes"),
    ]
    response = Client().post(form_url(portal), {**portal_data(), "attachments": files})
    assert response.status_code == 302
    assert sorted(Submission.objects.get().attachments.values_list("name", flat=True)) == ["截图.png", "清单.xlsx"]


def test_honeypot_refuses_with_an_explanation_and_writes_nothing(portal):
    response = post(Client(), portal, website="http://spam.example")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="portal-refusal"' in html and "您的需求未提交" in html and "隐藏字段" in html
    assert nothing_written()


def test_rate_limit_per_address_refuses_with_an_explanation_and_writes_nothing(users, portal):
    channel_update(actor=users["admin"], channel=portal, portal_rate_limit=2)
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert post(client, portal).status_code == 302
    assert post(client, portal, description="第二条").status_code == 302
    blocked = post(client, portal, description="第三条，应被拒绝")
    html = blocked.content.decode()
    assert blocked.status_code == 429
    assert "提交过于频繁" in html and "每小时最多提交 2 次" in html
    assert "第三条，应被拒绝" in html  # what was typed is kept to send later
    assert Submission.objects.count() == 2
    other_address = Client(REMOTE_ADDR="198.51.100.9")
    assert post(other_address, portal).status_code == 302


def test_rate_limits_are_per_channel(users, portal, make_channel):
    other = make_channel(name="另一表单", slug="other")
    channel_update(actor=users["admin"], channel=portal, portal_rate_limit=1)
    client = Client(REMOTE_ADDR="203.0.113.8")
    assert post(client, portal).status_code == 302
    assert post(client, portal).status_code == 429
    assert post(client, other).status_code == 302


@pytest.mark.parametrize(
    ("overrides", "field_id", "words"),
    [
        ({"contact_phone": "13800138000"}, "id_contact_phone_error", "禁止记录个人手机号"),
        ({"contact_email": "wang@163.com"}, "id_contact_email_error", "禁止记录个人邮箱"),
        ({"description": ""}, "id_description_error", ""),
        ({"description": "字" * 5001}, "id_description_error", "5000"),
        ({"type": ""}, "id_type_error", ""),
        ({"expected_date": "2001-01-01"}, "id_expected_date_error", "早于今天"),
    ],
)
def test_bad_input_shows_the_reason_next_to_the_field_and_writes_nothing(portal, overrides, field_id, words):
    response = post(Client(), portal, **overrides)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="{field_id}"' in html
    assert words in html
    assert "未提交" in html
    assert nothing_written()


def test_too_many_or_wrong_files_are_refused(portal):
    files = [SimpleUploadedFile(f"{i}.png", b"x") for i in range(4)]
    response = Client().post(form_url(portal), {**portal_data(), "attachments": files})
    assert "最多上传 3 个附件" in response.content.decode()
    response = Client().post(form_url(portal), {**portal_data(), "attachments": [SimpleUploadedFile("x.exe", b"MZ")]})
    assert "不支持的文件类型" in response.content.decode()
    assert nothing_written()


def test_access_code_channel_asks_for_the_code_and_links_the_customer(users, code_portal, customer):
    _record, code = access_code_issue(actor=users["admin"], channel=code_portal, customer=customer)
    html = Client().get(form_url(code_portal)).content.decode()
    assert 'name="access_code"' in html
    wrong = post(Client(), code_portal, customer="", access_code="WRNG-CODE")
    assert wrong.status_code == 200 and "访问码无效" in wrong.content.decode()
    assert nothing_written()
    right = post(Client(), code_portal, customer="", access_code=code)
    assert right.status_code == 302
    assert Submission.objects.get().feedback.customer == customer


# ---------------------------------------------------------------- tracking


def test_tracking_page_shows_status_and_messages_as_the_channel_decides(users, portal, requirement):
    response = post(Client(), portal)
    token = track_token(response)
    submission = Submission.objects.get()
    feedback_link(actor=users["product_manager"], feedback=submission.feedback, requirement=requirement)
    portal_message_send(actor=users["product_manager"], submission=submission, body="已纳入下个迭代评估。")
    html = Client().get(f"/portal/track/{token}/").content.decode()
    assert "待处理" in html and "已纳入下个迭代评估" in html
    assert requirement.code not in html and requirement.title not in html  # the label only
    channel_update(actor=users["admin"], channel=portal, portal_shows="status")
    html = Client().get(f"/portal/track/{token}/").content.decode()
    assert "待处理" in html and "已纳入下个迭代评估" not in html


def test_unknown_tracking_tokens_are_not_found(db):
    assert Client().get("/portal/track/not-a-real-token/").status_code == 404


def test_tracking_page_query_count_does_not_grow_with_submissions(
    portal, customer, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(6):
            post(Client(), portal, description=f"需求 {i}", contact_email="li@example-corp.cn")
    token = mail.outbox[-1].body.split("/portal/track/")[1].split("/")[0]
    client = Client()
    with django_assert_max_num_queries(8):
        response = client.get(f"/portal/track/{token}/")
    assert response.content.decode().count("tracked-submission") == 6


# ---------------------------------------------------------------- staff pages


@pytest.mark.parametrize(
    "url",
    ["/portal/staff/", "/portal/staff/channels/", "/portal/staff/channels/new/", "/portal/staff/submissions/1/"],
)
def test_staff_pages_need_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "engineer", "viewer"])
def test_only_admins_reach_channel_settings(users, portal, role):
    client = signed_in(users[role])
    assert client.get("/portal/staff/channels/").status_code == 403
    assert client.get("/portal/staff/channels/new/").status_code == 403
    assert client.get(f"/portal/staff/channels/{portal.pk}/").status_code == 404
    assert client.post(f"/portal/staff/channels/{portal.pk}/token/").status_code == 404
    assert client.post("/portal/staff/channels/new/", {"name": "x", "slug": "x", "kind": "portal"}).status_code == 403
    portal.refresh_from_db()
    assert not portal.token_hash and not IntakeChannel.objects.filter(slug="x").exists()
    assert "渠道设置" not in client.get("/portal/staff/").content.decode()


def test_admin_creates_a_channel_and_sees_its_token_once(users):
    client = signed_in(users["admin"])
    response = client.post(
        "/portal/staff/channels/new/",
        {
            "name": "电商评价采集",
            "slug": "reviews",
            "kind": "ecommerce_review",
            "feedback_channel": "",
            "is_active": "on",
            "access_mode": "open",
            "portal_shows": "status_messages",
            "portal_rate_limit": 20,
            "api_rate_limit": 60,
            "max_attachment_mb": 10,
            "max_attachments": 3,
        },
    )
    channel = IntakeChannel.objects.get(slug="reviews")
    assert response.status_code == 302 and response["Location"] == f"/portal/staff/channels/{channel.pk}/"
    assert channel.feedback_channel == "ecommerce_review"
    rotated = client.post(f"/portal/staff/channels/{channel.pk}/token/")
    shown = re.findall(r'value="(npc_[\w-]+)" id="new-token-value"', rotated.content.decode())
    assert rotated.status_code == 200 and len(shown) == 1
    assert "no-store" in rotated["Cache-Control"]
    channel.refresh_from_db()
    assert channel.token_prefix == shown[0][:12]
    again = client.get(f"/portal/staff/channels/{channel.pk}/").content.decode()
    assert shown[0] not in again and channel.token_prefix in again


def test_bad_channel_settings_are_shown_on_the_form(users, portal):
    client = signed_in(users["admin"])
    response = client.post(
        "/portal/staff/channels/new/",
        {
            "name": "x",
            "slug": "track",
            "kind": "portal",
            "access_mode": "open",
            "portal_shows": "status",
            "portal_rate_limit": 1,
            "api_rate_limit": 1,
            "max_attachment_mb": 1,
            "max_attachments": 0,
        },
    )
    assert response.status_code == 200 and "保留的地址" in response.content.decode()
    assert not IntakeChannel.objects.filter(name="x").exists()


def test_admin_issues_an_access_code_shown_once(users, code_portal, customer):
    client = signed_in(users["admin"])
    response = client.post(f"/portal/staff/channels/{code_portal.pk}/codes/", {"customer": customer.pk})
    shown = re.findall(r'value="([A-Z0-9]{4}-[A-Z0-9]{4})" id="new-code-value"', response.content.decode())
    assert response.status_code == 200 and len(shown) == 1
    record = code_portal.access_codes.get()
    assert record.customer == customer and record.hint == shown[0][-4:]
    assert shown[0] not in signed_in(users["admin"]).get(f"/portal/staff/channels/{code_portal.pk}/").content.decode()


def test_channel_list_query_count(users, make_channel, django_assert_max_num_queries):
    for i in range(8):
        make_channel(name=f"渠道{i}", slug=f"c{i}")
    client = signed_in(users["admin"])
    with django_assert_max_num_queries(10):
        response = client.get("/portal/staff/channels/")
    assert response.content.decode().count('class="channel-row"') == 9


def test_submission_list_is_scoped_and_its_query_count_is_flat(
    users, portal, customer, make_user, django_assert_max_num_queries
):
    from needpool.accounts.models import Team

    for i in range(5):
        post(Client(), portal, description=f"需求 {i}")
    post(Client(), portal, customer="不存在的公司", description="未匹配客户的需求")
    outsider = make_user("sales", username="sales-b", team=Team.objects.create(name="销售二部"))
    client = signed_in(users["product_manager"])
    with django_assert_max_num_queries(8):
        response = client.get("/portal/staff/")
    assert response.content.decode().count('class="submission-row"') == 6
    # Another team's sales rep sees only what no team owns (the unmatched one), as with feedback.
    html = signed_in(outsider).get("/portal/staff/").content.decode()
    assert html.count('class="submission-row"') == 1 and "未匹配客户的需求" in html


def test_staff_send_a_message_from_the_submission_page(users, portal, django_capture_on_commit_callbacks):
    post(Client(), portal, contact_email="li@example-corp.cn")
    submission = Submission.objects.get()
    mail.outbox.clear()
    client = signed_in(users["service"])
    page = client.get(f"/portal/staff/submissions/{submission.pk}/")
    assert page.status_code == 200 and 'id="message-form"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/portal/staff/submissions/{submission.pk}/", {"body": "我们正在评估，请稍候。"})
    assert response.status_code == 302
    assert PortalMessage.objects.get().body == "我们正在评估，请稍候。"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@example-corp.cn"]
    empty = client.post(f"/portal/staff/submissions/{submission.pk}/", {"body": ""})
    assert empty.status_code == 200 and PortalMessage.objects.count() == 1


def test_viewers_read_submissions_but_cannot_message(users, portal):
    post(Client(), portal)
    submission = Submission.objects.get()
    client = signed_in(users["viewer"])
    page = client.get(f"/portal/staff/submissions/{submission.pk}/")
    assert page.status_code == 200 and 'id="message-form"' not in page.content.decode()
    assert client.post(f"/portal/staff/submissions/{submission.pk}/", {"body": "x"}).status_code == 403
    assert not PortalMessage.objects.exists()


def test_submission_files_are_served_only_to_staff_who_see_the_submission(users, portal, customer, make_user):
    from needpool.accounts.models import Team

    Client().post(form_url(portal), {**portal_data(), "attachments": [SimpleUploadedFile("截图.png", b"png-bytes")]})
    submission = Submission.objects.get()
    file = submission.attachments.get()
    url = f"/portal/staff/submissions/{submission.pk}/files/{file.pk}/"
    assert Client().get(url).status_code == 302  # sign-in first
    response = signed_in(users["product_manager"]).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"png-bytes"
    outsider = make_user("sales", username="sales-c", team=Team.objects.create(name="销售三部"))
    assert signed_in(outsider).get(url).status_code == 404


def test_django_admin_saves_channel_settings_through_the_service(users, portal):
    from needpool.core.models import AuditEntry

    client = signed_in(users["admin"])
    url = f"/admin/intake/intakechannel/{portal.pk}/change/"
    assert client.get(url).status_code == 200
    data = {
        "name": "官网表单（新）",
        "slug": "site",
        "kind": "portal",
        "feedback_channel": "website_form",
        "is_active": "on",
        "access_mode": "open",
        "portal_shows": "status",
        "intro": "",
        "portal_rate_limit": 5,
        "api_rate_limit": 60,
        "max_attachment_mb": 5,
        "max_attachments": 1,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    portal.refresh_from_db()
    assert portal.name == "官网表单（新）" and portal.portal_rate_limit == 5
    entry = AuditEntry.objects.filter(object_id=portal.pk, action="update").first()
    assert entry is not None and entry.actor == users["admin"] and "name" in entry.changes


def test_requirement_evidence_links_portal_feedback_to_its_submission(portal, customer, requirement, users):
    post(Client(), portal)
    submission = Submission.objects.get()
    feedback_link(actor=users["admin"], feedback=submission.feedback, requirement=requirement)
    html = signed_in(users["manager"]).get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert reverse("portal:staff_submission", args=[submission.pk]) in html
    assert html.count('class="ms-auto feedback-submission"') == 1  # the requirement's own evidence has no submission

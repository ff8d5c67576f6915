"""Requirement pages: list, board, detail, create / edit, transition (page and kanban JSON), comments, files."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from needpool.core.models import AuditEntry, Notification
from needpool.requirements.models import Attachment, Comment, Feedback, Requirement, StatusChange
from needpool.requirements.services import requirement_create
from tests.conftest import count_queries, option

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


def _html(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- list


@pytest.mark.parametrize("role", ["admin", "manager", "product_manager", "sales", "engineer", "viewer"])
def test_list_renders_for_every_role(client, users, requirement, role):
    client.force_login(users[role])
    response = client.get(reverse("requirements:list"))
    assert response.status_code == 200
    html = _html(response)
    assert requirement.code in html
    assert "A科技公司" in html  # customers column from the prefetched evidence
    assert 'class="table-responsive"' in html


def test_list_hides_requirements_of_other_teams(client, outsider, requirement):
    client.force_login(outsider)
    html = _html(client.get(reverse("requirements:list")))
    assert requirement.code not in html
    assert "还没有需求" in html


def test_list_filters_narrow_results_and_keep_state_in_url(client, users, make_requirements):
    rows = make_requirements(78)  # 26 of each urgency
    urgent = option("urgency", "urgent")
    client.force_login(users["product_manager"])
    response = client.get(reverse("requirements:list"), {"urgency": urgent.pk, "sort": "code"})
    html = _html(response)
    page = response.context["page_obj"]
    assert page.paginator.count == 26
    assert all(r.urgency_id == urgent.pk for r in page.object_list)
    assert len(page.object_list) == 25
    # Every link to another page keeps the filters and the sort.
    assert f"?urgency={urgent.pk}&amp;sort=code&amp;page=2" in html
    # The filter form shows the chosen value.
    assert re.search(rf'<option value="{urgent.pk}" selected>', html)
    page2 = client.get(reverse("requirements:list"), {"urgency": urgent.pk, "sort": "code", "page": 2})
    assert len(page2.context["page_obj"].object_list) == 1
    codes = sorted(r.code for r in rows if r.urgency_id == urgent.pk)
    assert [r.code for r in page2.context["page_obj"].object_list] == codes[25:]


def test_list_filters_take_option_keys(client, users, make_requirements):
    rows = make_requirements(6)
    latent = rows[1:3]
    Requirement.objects.filter(pk__in=[r.pk for r in latent]).update(nature=option("nature", "latent"))
    urgent = option("urgency", "urgent")
    client.force_login(users["manager"])
    url = reverse("requirements:list")
    response = client.get(url, {"nature": "latent"})
    assert {r.pk for r in response.context["page_obj"]} == {r.pk for r in latent}
    response = client.get(url, {"urgency": "urgent"})
    assert {r.pk for r in response.context["page_obj"]} == {r.pk for r in rows if r.urgency_id == urgent.pk}
    assert re.search(rf'<option value="{urgent.pk}" selected>', _html(response))  # the select shows the key's option
    response = client.get(url, {"nature": "no-such-key"})
    assert response.context["page_obj"].paginator.count == 0


def test_list_full_text_search_in_chinese(client, users, requirement, make_requirements):
    make_requirements(3)
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:list"), {"q": "折扣"})
    assert [r.pk for r in response.context["page_obj"].object_list] == [requirement.pk]
    assert 'value="折扣"' in _html(response)


def test_list_filters_by_status_customer_and_sla(client, users, requirement, make_requirements, customer):
    make_requirements(4)
    Requirement.objects.filter(pk=requirement.pk).update(sla_breached=True)
    client.force_login(users["manager"])
    url = reverse("requirements:list")
    assert [r.pk for r in client.get(url, {"customer": customer.pk}).context["page_obj"]] == [requirement.pk]
    assert [r.pk for r in client.get(url, {"sla_breached": "true"}).context["page_obj"]] == [requirement.pk]
    assert client.get(url, {"status": "testing"}).context["page_obj"].paginator.count == 0
    assert client.get(url, {"status": "new"}).context["page_obj"].paginator.count == 5


def test_list_bad_filter_value_shows_no_rows_and_an_error(client, users, requirement):
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:list"), {"expected_after": "not-a-date"})
    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 0


def test_list_query_count_is_constant(client, users, make_requirements, django_assert_max_num_queries):
    client.force_login(users["product_manager"])
    url = reverse("requirements:list") + "?sort=-submitted_at"
    make_requirements(5)
    client.get(url)  # warm caches (site config, content types)
    few = count_queries(client, url)
    make_requirements(25)
    many = count_queries(client, url)
    assert few == many
    with django_assert_max_num_queries(22):  # the page's ids are a statement of their own (NarrowPageQuerySet)
        client.get(url)


def test_list_query_count_for_sales_scope(client, users, make_requirements, django_assert_max_num_queries):
    client.force_login(users["sales"])
    url = reverse("requirements:list")
    make_requirements(5)
    client.get(url)
    few = count_queries(client, url)
    make_requirements(25)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(22):
        client.get(url)


# ---------------------------------------------------------------- board


def test_board_renders_the_kanban_contract(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.get(reverse("requirements:board"))
    assert response.status_code == 200
    html = _html(response)
    assert '<div id="kanban-messages"' in html
    assert 'class="kanban-column" data-status="new"' in html  # the one column with a card stays open
    for key in ("in_progress", "testing", "launched", "closed", "deferred", "rejected"):  # empty: narrow
        assert f'class="kanban-column kanban-collapsed" data-status="{key}"' in html
    assert f'data-transition-url="{reverse("requirements:transition", args=[requirement.pk])}"' in html
    assert 'class="badge bg-secondary-lt kanban-count">1<' in html
    assert "A科技公司" in html and requirement.code in html


def test_board_has_no_drag_for_viewer(client, users, requirement):
    client.force_login(users["viewer"])
    html = _html(client.get(reverse("requirements:board")))
    assert requirement.code in html
    assert "data-transition-url" not in html


def test_board_filters_in_url(client, users, make_requirements):
    make_requirements(6)
    urgent = option("urgency", "urgent")
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:board"), {"urgency": urgent.pk})
    cards = [card for column in response.context["columns"] for card in column["cards"]]
    assert len(cards) == 2 and all(card.urgency_id == urgent.pk for card in cards)


def test_board_query_count_is_constant(client, users, make_requirements, django_assert_max_num_queries):
    client.force_login(users["product_manager"])
    url = reverse("requirements:board")

    def spread(made):  # cards in two columns each time (an empty column skips its prefetch queries)
        for requirement in made[: len(made) // 2]:
            client.post(reverse("requirements:transition", args=[requirement.pk]), {"to": "in_progress"})

    spread(make_requirements(5))
    client.get(url)
    few = count_queries(client, url)
    spread(make_requirements(25))
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(30):
        client.get(url)


# ---------------------------------------------------------------- detail


def test_detail_shows_everything(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.get(reverse("requirements:detail", args=[requirement.pk]))
    assert response.status_code == 200
    html = _html(response)
    for text in (
        requirement.code,
        "按客户等级设置批量订单折扣规则",
        "客户年采购额超过 500 万",
        "支持按客户等级配置批量折扣规则",
        "2024-06-30",
        "功能优化",
        "重要",
        "批量操作",
        "A科技公司",
        "销售沟通",
        "待处理",
        'id="transition-form"',
        'value="in_progress"',
        'id="comment-form"',
        'id="attachment-form"',
        'id="audit-log"',
        'id="status-history"',
    ):
        assert text in html, text
    assert response.context["requirement"].customer_value == "high"


def test_detail_is_404_for_other_team(client, outsider, requirement):
    client.force_login(outsider)
    assert client.get(reverse("requirements:detail", args=[requirement.pk])).status_code == 404
    assert client.get(reverse("requirements:edit", args=[requirement.pk])).status_code == 404
    response = client.post(reverse("requirements:comment", args=[requirement.pk]), {"body": "hi"})
    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_detail_viewer_sees_no_write_controls(client, users, requirement):
    client.force_login(users["viewer"])
    html = _html(client.get(reverse("requirements:detail", args=[requirement.pk])))
    assert 'id="transition-form"' not in html
    assert 'id="comment-form"' not in html
    assert 'id="edit-requirement"' not in html


def test_detail_shows_gate_warning_when_not_standardised(client, users, customer):
    incomplete = requirement_create(actor=users["sales"], customer=customer, title="缺背景的需求")
    client.force_login(users["product_manager"])
    html = _html(client.get(reverse("requirements:detail", args=[incomplete.pk])))
    assert 'id="gate-warning"' in html
    assert "背景" in html and "具体诉求" in html


# ---------------------------------------------------------------- create / edit


def test_create_page_renders_with_customer_preselected(client, users, customer):
    client.force_login(users["sales"])
    response = client.get(reverse("requirements:create"), {"customer": customer.pk})
    assert response.status_code == 200
    html = _html(response)
    assert 'type="date"' in html
    assert "王总" in html  # the chosen customer's contacts are offered
    assert f'hx-get="{reverse("customers:contact_options")}"' in html


def test_create_via_form_writes_requirement_and_feedback(client, users, customer):
    contact = customer.contacts.get()
    client.force_login(users["sales"])
    response = client.post(
        reverse("requirements:create"),
        {
            "customer": customer.pk,
            "contact": contact.pk,
            "channel": "interview",
            "title": "开放 API",
            "description": "希望开放实时监控 API",
            "background": "自建大屏",
            "concrete_ask": "提供 REST API",
            "expected_date": "2024-09-30",
            "type": option("type", "function").pk,
            "urgency": option("urgency", "urgent").pk,
            "tags": [option("tag", "feature_suggestion").pk, option("tag", "efficiency").pk],
            "owner": "",
        },
    )
    requirement = Requirement.objects.get(title="开放 API")
    assert response.status_code == 302
    assert response["Location"] == reverse("requirements:detail", args=[requirement.pk])
    assert requirement.owner == users["sales"]
    assert requirement.expected_date == dt.date(2024, 9, 30)
    assert requirement.first_response_due is not None  # urgent → 24 h SLA
    assert sorted(t.key for t in requirement.tags.all()) == ["efficiency", "feature_suggestion"]
    feedback = Feedback.objects.get(requirement=requirement)
    assert (feedback.customer, feedback.contact, feedback.channel) == (customer, contact, "interview")
    assert requirement.customer_value == "high"
    created = AuditEntry.objects.filter(object_id=requirement.pk, action="create", object_repr__contains="开放 API")
    assert created.exists()


def test_create_invalid_shows_errors_and_writes_nothing(client, users, customer):
    client.force_login(users["sales"])
    before = Requirement.objects.count()
    response = client.post(reverse("requirements:create"), {"customer": customer.pk, "channel": "sales", "title": ""})
    assert response.status_code == 200
    assert "invalid-feedback" in _html(response)
    assert Requirement.objects.count() == before


def test_create_rejects_contact_of_another_customer(client, users, customer):
    from needpool.customers.services import contact_create, customer_create

    other = customer_create(actor=users["sales"], name="B制造企业")
    stranger = contact_create(actor=users["sales"], customer=other, name="李工", phone="021-61234567")
    client.force_login(users["sales"])
    response = client.post(
        reverse("requirements:create"),
        {"customer": customer.pk, "contact": stranger.pk, "channel": "sales", "title": "X"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]
    assert not Requirement.objects.filter(title="X").exists()


def test_create_and_edit_are_403_for_viewer(client, users, requirement, customer):
    client.force_login(users["viewer"])
    assert client.get(reverse("requirements:create")).status_code == 403
    response = client.post(reverse("requirements:create"), {"customer": customer.pk, "channel": "sales", "title": "X"})
    assert response.status_code == 403
    assert client.get(reverse("requirements:edit", args=[requirement.pk])).status_code == 403
    response = client.post(reverse("requirements:edit", args=[requirement.pk]), {"title": "改名"})
    assert response.status_code == 403
    requirement.refresh_from_db()
    assert requirement.title == "按客户等级设置批量订单折扣规则"
    assert not Requirement.objects.filter(title="X").exists()


def test_edit_via_form_writes_through_service_with_audit(client, users, requirement):
    client.force_login(users["product_manager"])
    form = client.get(reverse("requirements:edit", args=[requirement.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"title": "按客户等级配置批量折扣", "priority": "P0", "expected_date": "2024-06-30"})
    data["tags"] = [t for t in data["tags"]] + [option("tag", "efficiency").pk]
    response = client.post(reverse("requirements:edit", args=[requirement.pk]), data)
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.title == "按客户等级配置批量折扣"
    assert requirement.priority == "P0"
    assert requirement.tags.count() == 2
    html = _html(client.get(reverse("requirements:detail", args=[requirement.pk])))
    assert "按客户等级配置批量折扣" in html
    assert "<del" in html  # the audit log shows old → new


def test_edit_by_sales_owner_allowed_other_sales_refused(client, users, requirement, make_user, team):
    colleague = make_user("sales", username="sales-colleague", team=team)
    client.force_login(colleague)  # same team: sees it, but is neither owner nor creator
    assert client.get(reverse("requirements:edit", args=[requirement.pk])).status_code == 403
    client.force_login(users["sales"])
    assert client.get(reverse("requirements:edit", args=[requirement.pk])).status_code == 200


# ---------------------------------------------------------------- transitions


def test_transition_via_page(client, users, requirement):
    client.force_login(users["manager"])
    url = reverse("requirements:transition", args=[requirement.pk])
    response = client.post(url, {"to": "in_progress", "note": "开始评估"}, follow=True)
    assert response.status_code == 200
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    assert "已流转到" in _html(response)
    assert StatusChange.objects.filter(requirement=requirement, target__key="in_progress", note="开始评估").exists()


def test_transition_refused_by_gate_shows_message(client, users, customer):
    incomplete = requirement_create(actor=users["sales"], customer=customer, title="待补充的需求")
    client.force_login(users["manager"])
    response = client.post(reverse("requirements:transition", args=[incomplete.pk]), {"to": "in_progress"}, follow=True)
    html = _html(response)
    assert "缺少" in html and "alert-danger" in html
    incomplete.refresh_from_db()
    assert incomplete.status.key == "new"
    assert not StatusChange.objects.filter(requirement=incomplete, target__key="in_progress").exists()


def test_transition_disallowed_move_refused(client, users, requirement):
    client.force_login(users["manager"])
    response = client.post(reverse("requirements:transition", args=[requirement.pk]), {"to": "launched"}, follow=True)
    assert "不允许" in _html(response)
    requirement.refresh_from_db()
    assert requirement.status.key == "new"


def test_transition_is_403_for_viewer_and_404_for_other_team(client, users, outsider, requirement):
    url = reverse("requirements:transition", args=[requirement.pk])
    client.force_login(users["viewer"])
    assert client.post(url, {"to": "in_progress"}).status_code == 403
    assert client.post(url, {}).status_code == 403  # refused before the input is even checked
    client.force_login(outsider)
    assert client.post(url, {"to": "in_progress"}).status_code == 404
    requirement.refresh_from_db()
    assert requirement.status.key == "new"


def test_transition_get_not_allowed(client, users, requirement):
    client.force_login(users["manager"])
    assert client.get(reverse("requirements:transition", args=[requirement.pk])).status_code == 405


def test_kanban_transition_json_ok(client, users, requirement):
    client.force_login(users["engineer"])
    response = client.post(reverse("requirements:transition", args=[requirement.pk]), {"to": "in_progress"}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is True and data["status_label"] == "处理中" and data["message"]
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"


def test_kanban_transition_json_refused(client, users, requirement, customer):
    client.force_login(users["manager"])
    response = client.post(reverse("requirements:transition", args=[requirement.pk]), {"to": "closed"}, **JSON)
    assert response.status_code == 400
    assert response.json()["ok"] is False and "不允许" in response.json()["message"]
    incomplete = requirement_create(actor=users["sales"], customer=customer, title="缺信息")
    response = client.post(reverse("requirements:transition", args=[incomplete.pk]), {"to": "in_progress"}, **JSON)
    assert response.status_code == 400 and "缺少" in response.json()["message"]
    response = client.post(reverse("requirements:transition", args=[incomplete.pk]), {}, **JSON)
    assert response.status_code == 400 and response.json()["ok"] is False
    requirement.refresh_from_db()
    assert requirement.status.key == "new"


def test_kanban_transition_json_403_and_404(client, users, outsider, requirement):
    url = reverse("requirements:transition", args=[requirement.pk])
    client.force_login(users["viewer"])
    response = client.post(url, {"to": "in_progress"}, **JSON)
    assert response.status_code == 403 and response.json()["ok"] is False
    client.force_login(outsider)
    response = client.post(url, {"to": "in_progress"}, **JSON)
    assert response.status_code == 404 and response.json()["ok"] is False


def test_kanban_transition_by_sales_owner(client, users, requirement):
    client.force_login(users["sales"])
    response = client.post(reverse("requirements:transition", args=[requirement.pk]), {"to": "in_progress"}, **JSON)
    assert response.status_code == 200
    requirement.refresh_from_db()
    assert requirement.status.key == "in_progress"
    assert StatusChange.objects.filter(
        requirement=requirement, target__key="in_progress", actor=users["sales"]
    ).exists()


# ---------------------------------------------------------------- comments, mentions


def test_comment_with_mention_notifies_and_highlights(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(
        reverse("requirements:comment", args=[requirement.pk]), {"body": "请 @engineer 评估工作量，@nobody 不存在"}
    )
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    note = Notification.objects.get(recipient=users["engineer"])
    assert note.kind == Notification.Kind.MENTION
    assert note.url.startswith("/requirements/")
    html = _html(client.get(reverse("requirements:detail", args=[requirement.pk])))
    assert '<span class="mention badge bg-blue-lt">@engineer</span>' in html
    assert "@nobody" in html and '<span class="mention badge bg-blue-lt">@nobody' not in html


def test_comment_is_escaped(client, users, requirement):
    client.force_login(users["product_manager"])
    client.post(reverse("requirements:comment", args=[requirement.pk]), {"body": "<script>alert(1)</script>"})
    html = _html(client.get(reverse("requirements:detail", args=[requirement.pk])))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_empty_comment_shows_error(client, users, requirement):
    client.force_login(users["product_manager"])
    response = client.post(reverse("requirements:comment", args=[requirement.pk]), {"body": "   "})
    assert response.status_code == 200
    assert "invalid-feedback" in _html(response)
    assert not Comment.objects.exists()


def test_comment_is_403_for_viewer(client, users, requirement):
    client.force_login(users["viewer"])
    assert client.post(reverse("requirements:comment", args=[requirement.pk]), {"body": "hi"}).status_code == 403
    assert client.post(reverse("requirements:comment", args=[requirement.pk]), {"body": ""}).status_code == 403
    assert not Comment.objects.exists()


# ---------------------------------------------------------------- attachments


def test_attachment_upload_and_permission_checked_download(client, users, outsider, requirement):
    client.force_login(users["product_manager"])
    upload = SimpleUploadedFile("需求说明.txt", "折扣规则说明".encode(), content_type="text/plain")
    response = client.post(reverse("requirements:attach", args=[requirement.pk]), {"file": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    url = reverse("requirements:attachment", args=[requirement.pk, attachment.pk])
    assert url in _html(client.get(reverse("requirements:detail", args=[requirement.pk])))
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == "折扣规则说明"
    assert download["Content-Disposition"].startswith("attachment")
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(users["viewer"])
    assert client.get(url).status_code == 200


def test_attachment_too_large_refused(client, users, requirement, settings):
    settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 10
    client.force_login(users["product_manager"])
    upload = SimpleUploadedFile("big.txt", b"x" * 100, content_type="text/plain")
    response = client.post(reverse("requirements:attach", args=[requirement.pk]), {"file": upload})
    assert response.status_code == 200
    assert "文件过大" in _html(response)
    assert not Attachment.objects.exists()


def test_attachment_wrong_type_refused(client, users, requirement):
    client.force_login(users["product_manager"])
    upload = SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/octet-stream")
    response = client.post(reverse("requirements:attach", args=[requirement.pk]), {"file": upload})
    assert response.status_code == 200
    assert "不支持的文件类型" in _html(response)
    assert not Attachment.objects.exists()


def test_attachment_is_403_for_viewer(client, users, requirement):
    client.force_login(users["viewer"])
    upload = SimpleUploadedFile("a.txt", b"abc", content_type="text/plain")
    assert client.post(reverse("requirements:attach", args=[requirement.pk]), {"file": upload}).status_code == 403
    assert not Attachment.objects.exists()


# ---------------------------------------------------------------- link feedback


def test_link_existing_feedback(client, users, requirement, customer):
    from needpool.requirements.services import feedback_create

    loose = feedback_create(actor=users["sales"], raw_text="也想要折扣", channel="ticket", customer=customer)
    client.force_login(users["product_manager"])
    response = client.post(reverse("requirements:link_feedback", args=[requirement.pk]), {"feedback": loose.pk})
    assert response.status_code == 302
    loose.refresh_from_db()
    assert loose.requirement == requirement
    response = client.post(
        reverse("requirements:link_feedback", args=[requirement.pk]), {"feedback": 999999}, follow=True
    )
    assert "不存在" in _html(response)
    client.force_login(users["viewer"])
    assert (
        client.post(reverse("requirements:link_feedback", args=[requirement.pk]), {"feedback": "x"}).status_code == 403
    )


# ---------------------------------------------------------------- language


@pytest.mark.parametrize("name", ["requirements:list", "requirements:board", "requirements:create"])
def test_pages_render_in_english(client, users, requirement, name):
    client.force_login(users["product_manager"])
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<html lang="en">' in _html(response)


def test_detail_renders_with_language_cookie(client, users, requirement):
    client.force_login(users["product_manager"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("requirements:detail", args=[requirement.pk]))
    assert response.status_code == 200
    html = _html(response)
    assert '<html lang="en">' in html
    assert "New" in html  # the status's English label

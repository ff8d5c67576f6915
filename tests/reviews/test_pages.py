"""Review pages: list (query count), create / edit, the meeting page and its actions, minutes and exports."""

from __future__ import annotations

import datetime as dt
import re
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from needpool.reviews import services
from needpool.reviews.models import AgendaItem, ReviewMeeting
from tests.conftest import PASSWORD, count_queries

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_list_is_paginated_with_bounded_queries(client, pm, make_meeting, make_requirement):
    _client(client, pm)
    make_meeting()
    url = reverse("reviews:list")
    few = count_queries(client, url)
    for i in range(30):
        m = make_meeting(title=f"评审 {i}")
        services.agenda_add(actor=pm, meeting=m, requirement_ids=[make_requirement(f"需求{i}").pk])
    many = count_queries(client, url)
    assert many <= few
    body = client.get(url).content.decode()
    assert body.count('class="meeting-row"') == 25
    assert "page=2" in body
    assert client.get(url, {"status": "held"}).status_code == 200


def test_a_sales_attendee_counts_only_the_items_they_see(client, users, pm, meeting, make_requirement, customer_b):
    services.agenda_add(
        actor=pm,
        meeting=meeting,
        requirement_ids=[make_requirement("可见").pk, make_requirement("不可见", customer=customer_b, actor=pm).pk],
    )
    from needpool.reviews.selectors import meeting_list

    assert meeting_list(user=users["sales"]).get().item_count == 1
    assert meeting_list(user=pm).get().item_count == 2


def test_outsiders_see_no_meeting(client, meeting, outsider):
    _client(client, outsider)
    assert "五月需求评审会" not in client.get(reverse("reviews:list")).content.decode()
    assert client.get(reverse("reviews:detail", args=[meeting.pk])).status_code == 404


def test_create_edit_and_refusals(client, pm, users):
    _client(client, users["sales"])
    assert client.get(reverse("reviews:create")).status_code == 403
    client.logout()
    _client(client, pm)
    assert client.get(reverse("reviews:create")).status_code == 200
    start = timezone.localtime() + dt.timedelta(days=5)
    data = {
        "title": "六月评审",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "place": "A 会议室",
        "chair": pm.pk,
        "status": "preparing",
        "attendees": "engineer: 研发\nsales: 销售",
    }
    response = client.post(reverse("reviews:create"), data)
    assert response.status_code == 200 and "结束时间不能早于开始时间" in response.content.decode()
    data["ends_at"] = (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("reviews:create"), {**data, "attendees": "nobody: 研发"})
    assert "找不到用户" in response.content.decode()
    response = client.post(reverse("reviews:create"), data)
    meeting = ReviewMeeting.objects.get(title="六月评审")
    assert response.status_code == 302
    assert sorted(a.role for a in meeting.attendees.all()) == ["rd", "sales"]
    edit = reverse("reviews:edit", args=[meeting.pk])
    assert client.get(edit).status_code == 200
    response = client.post(edit, {**data, "title": "六月评审（改）", "version": meeting.version})
    assert response.status_code == 302
    response = client.post(edit, {**data, "title": "过期的修改", "version": 1})
    assert "已被他人修改" in response.content.decode()
    meeting.refresh_from_db()
    assert meeting.title == "六月评审（改）"


def test_detail_add_by_code_decide_and_query_count(client, pm, meeting, make_requirement):
    _client(client, pm)
    reqs = [make_requirement(f"需求{i}") for i in range(3)]
    response = client.post(
        reverse("reviews:agenda_add"), {"meeting": meeting.pk, "codes": f"{reqs[0].code}, {reqs[1].code}"}
    )
    assert response.status_code == 302
    response = client.post(reverse("reviews:agenda_add"), {"meeting": meeting.pk, "codes": "NOPE-1"}, follow=True)
    assert "找不到需求" in response.content.decode()
    url = reverse("reviews:detail", args=[meeting.pk])
    few = count_queries(client, url)
    services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[reqs[2].pk])
    assert count_queries(client, url) <= few + 1
    item = AgendaItem.objects.get(meeting=meeting, requirement=reqs[0])
    decide = reverse("reviews:decide", args=[item.pk])
    prefix = f"d{item.pk}-"
    response = client.post(decide, {prefix + "decision": "rejected", prefix + "version": 1}, follow=True)
    assert "拒绝时请填写理由" in response.content.decode()
    response = client.post(
        decide, {prefix + "decision": "rejected", prefix + "note": "不在规划内", prefix + "version": 1}, follow=True
    )
    body = response.content.decode()
    assert "决策已记录" in body and "不在规划内" in body
    response = client.post(decide, {prefix + "decision": "accepted", prefix + "version": 1}, follow=True)
    assert "已被他人处理" in response.content.decode()
    other = AgendaItem.objects.get(meeting=meeting, requirement=reqs[1])
    client.post(reverse("reviews:agenda_move", args=[other.pk]), {"direction": "up"})
    assert meeting.items.order_by("position").first().pk == other.pk
    client.post(reverse("reviews:agenda_remove", args=[other.pk]))
    assert not AgendaItem.objects.filter(pk=other.pk).exists()


def test_sales_attendee_sees_only_visible_items_and_no_forms(client, users, pm, meeting, make_requirement, customer_b):
    services.agenda_add(
        actor=pm,
        meeting=meeting,
        requirement_ids=[make_requirement("可见").pk, make_requirement("不可见", customer=customer_b, actor=pm).pk],
    )
    _client(client, users["sales"])
    body = client.get(reverse("reviews:detail", args=[meeting.pk])).content.decode()
    assert "可见" in body and "不可见" not in body and "decision-form" not in body
    assert client.post(reverse("reviews:agenda_add"), {"meeting": meeting.pk, "requirements": "1"}).status_code == 403


def test_lateness_warning_for_the_chair_and_notice_for_attendees(client, pm, users, meeting):
    services.material_add(
        actor=pm,
        meeting=meeting,
        title="方案文档",
        link="https://e.com/x",
        sent_at=meeting.starts_at - dt.timedelta(days=1),
    )
    _client(client, pm)
    body = client.get(reverse("reviews:detail", args=[meeting.pk])).content.decode()
    assert 'id="late-warning"' in body and "材料发送晚于会前 3 天" in body
    client.logout()
    _client(client, users["engineer"])
    body = client.get(reverse("reviews:detail", args=[meeting.pk])).content.decode()
    assert 'id="late-notice"' in body and "材料发送晚于会前 3 天" in body and 'id="late-warning"' not in body


def test_material_upload_and_download(client, pm, meeting, outsider):
    _client(client, pm)
    upload = SimpleUploadedFile("方案.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(reverse("reviews:material_add", args=[meeting.pk]), {"title": "方案", "file": upload})
    assert response.status_code == 302
    material = meeting.materials.get()
    response = client.get(reverse("reviews:material", args=[material.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    client.logout()
    _client(client, outsider)
    assert client.get(reverse("reviews:material", args=[material.pk])).status_code == 404


def test_choose_meeting_for_selected_ids(client, pm, meeting, make_requirement):
    a, b = make_requirement("甲"), make_requirement("乙")
    _client(client, pm)
    body = client.get(reverse("reviews:agenda_choose"), {"ids": f"{a.pk},{b.pk},abc,999999"}).content.decode()
    assert a.code in body and b.code in body and meeting.title in body
    response = client.post(reverse("reviews:agenda_add"), {"meeting": meeting.pk, "requirements": [a.pk, b.pk]})
    assert response.status_code == 302
    assert meeting.items.count() == 2


def test_minutes_edit_and_exports(client, pm, users, meeting, make_requirement):
    req = make_requirement("导出需求")
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[req.pk])[0]
    services.decide(actor=pm, item=item, decision="rejected", note="成本过高")
    _client(client, pm)
    url = reverse("reviews:minutes", args=[meeting.pk])
    assert client.get(url).status_code == 200
    prefix = f"item-{item.pk}-"
    data = {
        "solution": "先做标准版",
        "summary": "三项决策",
        "version": meeting.version,
        prefix + "notes": "下次评审再议",
        prefix + "owner": users["engineer"].pk,
        prefix + "due_date": "2026-06-30",
    }
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.owner == users["engineer"] and item.due_date == dt.date(2026, 6, 30)
    stale = client.post(url, {**data, "summary": "旧版本"})
    assert "已被他人修改" in stale.content.decode()
    pdf = client.get(reverse("reviews:minutes_pdf", args=[meeting.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    word = client.get(reverse("reviews:minutes_word", args=[meeting.pk]))
    text = word.content.decode()
    for expected in (meeting.title, req.code, "拒绝", "成本过高", "先做标准版", "2026-06-30", str(users["engineer"])):
        assert expected in text


def _pdf_title(pdf: bytes) -> str:
    """The document title of a PDF (its object streams inflated; the title is UTF-16 hex)."""
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            data = zlib.decompress(match.group(1))
        except zlib.error:
            continue
        found = re.search(rb"/Title <feff([0-9a-f]+)>", data)
        if found:
            return bytes.fromhex(found.group(1).decode()).decode("utf-16-be")
    return ""


def test_pdf_names_the_meeting(client, pm, meeting):
    _client(client, pm)
    pdf = client.get(reverse("reviews:minutes_pdf", args=[meeting.pk]))
    assert pdf.content.startswith(b"%PDF")
    assert "五月需求评审会" in _pdf_title(pdf.content)
    assert "filename*=UTF-8''" in pdf["Content-Disposition"]


def test_requirement_page_shows_the_review_section(client, pm, meeting, requirement):
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[requirement.pk])[0]
    services.decide(actor=pm, item=item, decision="deferred", revisit_date=timezone.localdate(), note="等下季度")
    _client(client, pm)
    body = client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()
    assert 'id="section-reviews"' in body and "等下季度" in body and meeting.title in body


def test_a_refused_decision_shows_the_form_again_with_the_reason(client, pm, meeting, reviewed_flow, make_requirement):
    req = make_requirement("信息不全", background="")
    item = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[req.pk])[0]
    _client(client, pm)
    prefix = f"d{item.pk}-"
    response = client.post(
        reverse("reviews:decide", args=[item.pk]), {prefix + "decision": "accepted", prefix + "note": "我的说明"}
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "需求信息未标准化" in body and "我的说明" in body and "决策未保存" in body
    item.refresh_from_db()
    assert item.decision == "pending"


def test_calendar_file_for_who_sees_the_meeting(client, users, meeting, outsider):
    _client(client, users["sales"])
    response = client.get(reverse("reviews:ics", args=[meeting.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    assert f"UID:review-meeting-{meeting.pk}@needpool" in response.content.decode()
    client.logout()
    _client(client, outsider)
    assert client.get(reverse("reviews:ics", args=[meeting.pk])).status_code == 404


def test_reorder_endpoint_sets_the_whole_order(client, pm, meeting, make_requirement):
    a, b, c = (make_requirement(n) for n in ("甲", "乙", "丙"))
    items = services.agenda_add(actor=pm, meeting=meeting, requirement_ids=[a.pk, b.pk, c.pk])
    _client(client, pm)
    url = reverse("reviews:agenda_reorder", args=[meeting.pk])
    client.post(url, {"items": f"{items[2].pk},{items[0].pk}"})
    order = list(meeting.items.order_by("position").values_list("pk", flat=True))
    assert order == [items[2].pk, items[0].pk, items[1].pk]
    response = client.post(url, {"items": "999999"}, follow=True)
    assert "议题不属于此会议" in response.content.decode()


def test_agenda_add_to_an_unknown_meeting_is_404(client, pm, requirement):
    _client(client, pm)
    assert (
        client.post(reverse("reviews:agenda_add"), {"meeting": "999999", "requirements": requirement.pk}).status_code
        == 404
    )
    assert client.post(reverse("reviews:agenda_add"), {"requirements": requirement.pk}).status_code == 404


def test_the_requirement_list_sends_its_checked_rows_to_a_meeting(client, pm, users, meeting, make_requirement):
    a, b = make_requirement("甲"), make_requirement("乙")
    _client(client, pm)
    listing = client.get(reverse("requirements:list")).content.decode()
    assert 'id="review-selected"' in listing and f'formaction="{reverse("reviews:agenda_choose")}"' in listing
    body = client.get(reverse("reviews:agenda_choose"), {"ids": [a.pk, b.pk]}).content.decode()  # ?ids=1&ids=2
    assert a.code in body and b.code in body
    client.logout()
    _client(client, users["sales"])  # may select rows to merge, may not put them on a meeting
    assert 'id="review-selected"' not in client.get(reverse("requirements:list")).content.decode()


def test_the_ranked_view_sends_its_checked_rows_to_a_meeting(client, pm, users, make_requirement):
    a = make_requirement("排序靠前")
    _client(client, pm)
    ranked = client.get(reverse("analysis:ranked")).content.decode()
    assert f'action="{reverse("reviews:agenda_choose")}"' in ranked and f'name="ids" value="{a.pk}"' in ranked
    client.logout()
    _client(client, users["viewer"])
    assert 'id="ranked-review-form"' not in client.get(reverse("analysis:ranked")).content.decode()


def test_a_kanban_column_goes_to_a_meeting_in_one_click(client, pm, users, make_requirement):
    a, b = make_requirement("看板甲"), make_requirement("看板乙")
    _client(client, pm)
    board = client.get(reverse("requirements:board")).content.decode()
    link = re.search(r'class="ms-auto small kanban-review" href="([^"]+)"', board)
    assert link is not None
    body = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert a.code in body and b.code in body
    client.logout()
    _client(client, users["sales"])
    assert "kanban-review" not in client.get(reverse("requirements:board")).content.decode()


def test_attendee_roles_are_understood_in_either_language():
    from django.utils import translation

    from needpool.reviews.forms import role_from_text

    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert role_from_text("研发") == "rd"
            assert role_from_text("R&D") == "rd"
            assert role_from_text("rd") == "rd"
            assert role_from_text("厨师") is None

"""Pages: the overview, lists with bounded queries, release notes, campaigns, settings, the public changelog."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from needpool.loop import services
from needpool.loop.models import CustomerNotice, NoticeTemplate, ReleaseNote, SurveyInvitation

pytestmark = pytest.mark.django_db


def queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@pytest.fixture
def many_closed(make_asked: Any, customer: Any, contact: Any, move: Any) -> Any:
    def make(n: int) -> list[Any]:
        made = []
        for i in range(n):
            made.append(
                move(make_asked(customer, contact, title=f"需求{i}"), "in_progress", "testing", "launched", "closed")
            )
        return made

    return make


@pytest.mark.parametrize("name", ["loop:index", "loop:notices", "loop:csat", "loop:campaigns", "loop:release_notes"])
def test_lists_do_not_grow_queries_with_rows(client: Any, users: Any, many_closed: Any, name: str) -> None:
    client.force_login(users["product_manager"])
    many_closed(1)
    services.nps_campaign_create(actor=users["manager"], name="NPS 1")
    url = reverse(name)
    few = queries(client, url)
    many_closed(3)
    services.nps_campaign_create(actor=users["manager"], name="NPS 2")
    assert queries(client, url) <= few


def test_overview_shows_notices_satisfaction_and_campaigns(client: Any, users: Any, many_closed: Any) -> None:
    done = many_closed(1)[0]
    SurveyInvitation.objects.filter(requirement=done).update(score=5)
    services.nps_campaign_create(actor=users["manager"], name="年度 NPS")
    client.force_login(users["manager"])
    page = client.get(reverse("loop:index")).content.decode()
    assert done.code in page and "100 %" in page and "年度 NPS" in page


def test_sales_see_only_their_customers_notices(client: Any, outsider: Any, many_closed: Any) -> None:
    done = many_closed(1)[0]
    client.force_login(outsider)
    page = client.get(reverse("loop:notices")).content.decode()
    assert done.code not in page and "wang@a-tech.com.cn" not in page
    assert client.get(reverse("loop:campaigns")).status_code == 403
    assert client.get(reverse("loop:release_notes")).status_code == 403


def test_requirement_section_shows_notices_and_satisfaction(client: Any, users: Any, many_closed: Any) -> None:
    done = many_closed(1)[0]
    SurveyInvitation.objects.filter(requirement=done).update(score=4, comment="满意")
    from django.utils import timezone

    SurveyInvitation.objects.filter(requirement=done).update(answered_at=timezone.now())
    client.force_login(users["sales"])
    page = client.get(reverse("requirements:detail", kwargs={"pk": done.pk})).content.decode()
    assert 'id="section-loop"' in page and "满意度 100 %" in page and "wang@a-tech.com.cn" in page


def test_release_note_edit_publish_and_public_changelog(client: Any, users: Any, asked: Any, move: Any) -> None:
    move(asked, "in_progress", "testing", "launched")
    note = ReleaseNote.objects.get(requirement=asked)
    changelog = reverse("loop_public:changelog")
    assert note.title not in client.get(changelog).content.decode()

    client.force_login(users["product_manager"])
    url = reverse("loop:release_note", kwargs={"pk": note.pk})
    response = client.post(
        url, {"title": "批量折扣规则上线", "body": "A科技公司要的功能", "is_public": "on", "version": note.version}
    )
    assert response.status_code == 302
    refused = client.post(reverse("loop:release_note_publish", kwargs={"pk": note.pk}), {"publish": "1"}, follow=True)
    assert "不能出现客户名称" in refused.content.decode()
    client.post(
        url,
        {"title": "批量折扣规则上线", "body": "按客户等级自动计算折扣", "is_public": "on", "version": note.version + 1},
    )
    client.post(reverse("loop:release_note_publish", kwargs={"pk": note.pk}), {"publish": "1"})
    client.logout()
    public = client.get(changelog).content.decode()
    assert "批量折扣规则上线" in public and "A科技公司" not in public and "wang@" not in public


def test_changelog_shows_only_published_public_notes_paginated(client: Any, users: Any) -> None:
    from django.utils import timezone

    ReleaseNote.objects.create(title="草稿不可见", body="")
    ReleaseNote.objects.create(title="内部不公开", body="", is_public=False, published_at=timezone.now())
    for i in range(25):
        ReleaseNote.objects.create(title=f"公开更新{i:02d}", body="", published_at=timezone.now())
    first = client.get(reverse("loop_public:changelog")).content.decode()
    assert "草稿不可见" not in first and "内部不公开" not in first and first.count("changelog-entry") == 20
    second = client.get(reverse("loop_public:changelog") + "?page=2").content.decode()
    assert second.count("changelog-entry") == 5


def test_campaign_pages(client: Any, users: Any, customer: Any) -> None:
    client.force_login(users["manager"])
    response = client.post(
        reverse("loop:campaign_create"), {"name": "高价值客户 NPS", "segments": ["high_value"], "value_tiers": ["high"]}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "高价值客户 NPS" in page and 'id="nps-value"' in page and "高价值" in page and "high_value" not in page
    bad = client.post(reverse("loop:campaign_create"), {"name": "", "segments": ["vip"]})
    body = bad.content.decode()
    assert bad.status_code == 200 and ("is-invalid" in body or "invalid-feedback" in body)


def test_settings_page_saves_templates_and_refuses_syntax(client: Any, users: Any) -> None:
    url = reverse("loop:settings")
    client.force_login(users["product_manager"])
    assert client.get(url).status_code == 403
    client.force_login(users["admin"])
    shown = client.get(url).content.decode()
    assert "DEM20240301001" in shown and "/portal/loop/changelog/" in shown  # the preview with example values
    refused = client.post(url, {"form": "launched", "launched-subject": "上线", "launched-body": "{{ title }}"})
    assert refused.status_code == 200 and "不支持模板语法" in refused.content.decode()
    assert not NoticeTemplate.objects.exists()
    unknown = client.post(url, {"form": "launched", "launched-subject": "上线", "launched-body": "{owner}"})
    assert "未知变量：{owner}" in unknown.content.decode()
    saved = client.post(url, {"form": "launched", "launched-subject": "{code} 上线", "launched-body": "{title} 已上线"})
    assert saved.status_code == 302 and NoticeTemplate.objects.get(event="launched").body == "{title} 已上线"
    settings_saved = client.post(
        url,
        {
            "form": "settings",
            "notify_customers": "on",
            "csat_enabled": "on",
            "csat_expiry_days": "14",
            "nps_expiry_days": "30",
            "site_url": "https://np.example.com",
            "version": "1",
        },
    )
    assert settings_saved.status_code == 302
    assert services.loop_settings().csat_expiry_days == 14


def test_notices_list_is_paginated(client: Any, users: Any, asked: Any) -> None:
    from django.utils import timezone

    CustomerNotice.objects.bulk_create(
        CustomerNotice(
            requirement=asked, event="launched", channel="mail", recipient=f"p{i}@x.cn", created_at=timezone.now()
        )
        for i in range(30)
    )
    client.force_login(users["manager"])
    page = client.get(reverse("loop:notices")).content.decode()
    assert page.count('notice-row"') == 25


def test_survey_pages_are_rate_limited(client: Any, settings: Any) -> None:
    settings.RATELIMIT_ENABLE = True
    statuses = {client.get("/portal/loop/s/" + "y" * 43 + "/").status_code for _ in range(61)}
    assert statuses == {404, 429}


def test_nps_answer_page_takes_0_to_10(
    client: Any, users: Any, customer: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    import re

    campaign = services.nps_campaign_create(actor=users["manager"], name="年度 NPS", question="您会推荐我们吗？")
    with django_capture_on_commit_callbacks(execute=True):
        services.nps_campaign_start(actor=users["manager"], campaign=campaign)
    found = re.search(r"/portal/loop/s/[A-Za-z0-9_-]+/", mailoutbox[-1].body)
    assert found
    url = found.group(0)
    page = client.get(url).content.decode()
    assert "您会推荐我们吗？" in page and page.count('name="score"') == 11
    assert "A科技公司" not in page and "年度 NPS" not in page
    assert client.post(url, {"score": "11"}).status_code == 400
    assert "感谢您的反馈" in client.post(url, {"score": "0", "comment": "太贵"}).content.decode()
    assert SurveyInvitation.objects.get(campaign=campaign).score == 0


def test_unknown_tokens_get_the_sites_404(client: Any) -> None:
    unknown = client.get("/portal/loop/s/" + "A" * 43 + "/")
    malformed = client.get("/portal/loop/s/x/")
    elsewhere = client.get("/portal/no-such-page/")
    assert unknown.status_code == malformed.status_code == elsewhere.status_code == 404

    # the same page, byte for byte, but for the per-response script nonce and CSRF token: nothing tells the two
    # apart
    def page(response: Any) -> str:
        text = re.sub(r'nonce="[^"]*"', 'nonce=""', response.content.decode())
        return re.sub(r'content="[A-Za-z0-9]{32,}"', 'content=""', text)

    assert page(unknown) == page(malformed)

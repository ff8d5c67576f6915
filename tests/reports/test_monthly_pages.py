"""The monthly review pages: the months list, one month's review with its conclusions form, the schedule page;
who may open and write them; bounded queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import User
from needpool.accounts.roles import Cap, Role, role_has
from needpool.reports import monthly
from needpool.reports.models import MonthlyReview, MonthlyReviewSchedule
from needpool.reports.monthly_views import recent_months
from tests.conftest import PASSWORD
from tests.reports.monthly_helpers import NOVEMBER, mocked_summary


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def last_month() -> dt.date:
    return monthly.previous_month(this_month())


def test_recent_months_are_this_one_and_the_eleven_before() -> None:
    months = recent_months(dt.date(2026, 3, 15))
    assert months[0] == dt.date(2026, 3, 1) and months[2] == dt.date(2026, 1, 1) and months[3] == dt.date(2025, 12, 1)
    assert len(months) == 12 and months[-1] == dt.date(2025, 4, 1)


def test_the_list_shows_twelve_months_and_older_ones_with_conclusions(users: dict[str, Any]) -> None:
    MonthlyReview.objects.create(month=dt.date(2019, 5, 1), conclusions="很久以前的结论")
    MonthlyReview.objects.create(month=dt.date(2018, 5, 1), conclusions="")  # no conclusions: not listed
    MonthlyReview.objects.create(month=last_month(), conclusions="上月结论")
    client = client_for(users["viewer"])
    page = client.get("/reports/monthly/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-month="{monthly.month_key(this_month())}"' in html and "进行中" in html
    assert "上月结论" in html and 'data-month="2019-05"' not in html  # on the second page
    assert "第 1–12 条，共 13 条" in html
    second = client.get("/reports/monthly/?page=2").content.decode()
    assert 'data-month="2019-05"' in second and "很久以前的结论" in second and 'data-month="2018-05"' not in second


def test_the_list_needs_a_reader_of_everything(users: dict[str, Any]) -> None:
    assert client_for(users["sales"]).get("/reports/monthly/").status_code == 403
    assert Client().get("/reports/monthly/").status_code == 302  # to sign in


def test_list_queries_are_bounded(users: dict[str, Any], django_assert_max_num_queries: Any) -> None:
    for i, month in enumerate(recent_months(timezone.localdate())):
        MonthlyReview.objects.create(month=month, conclusions=f"结论{i}", updated_by=users["manager"])
    client = client_for(users["viewer"])
    with django_assert_max_num_queries(8):
        assert client.get("/reports/monthly/").status_code == 200


def test_the_review_page_shows_the_document_and_saves_conclusions(users: dict[str, Any]) -> None:
    client = client_for(users["manager"])
    with mocked_summary():
        page = client.get("/reports/monthly/2026-11/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "2026 年 11 月需求复盘" in html and "数据截至" in html
        assert "月份结束后对需求的修改也会反映在其中" in html
        assert "本月 30% 的需求为功能优化（6/20）" in html
        assert "批量操作" in html and "DEM20261110001" in html and 'href="/requirements/103/"' in html
        assert 'name="version" value="1"' in html
        saved = client.post("/reports/monthly/2026-11/", {"conclusions": "功能优化增多，下月跟进。", "version": "1"})
        assert saved.status_code == 302 and saved["Location"] == "/reports/monthly/2026-11/"
        after = client.get("/reports/monthly/2026-11/").content.decode()
    review = MonthlyReview.objects.get(month=NOVEMBER)
    assert review.conclusions == "功能优化增多，下月跟进。" and review.version == 2
    assert "团队结论已保存" in after and 'name="version" value="2"' in after


def test_a_stale_page_does_not_overwrite_and_shows_what_is_saved(users: dict[str, Any]) -> None:
    MonthlyReview.objects.create(month=NOVEMBER, conclusions="他人的结论", version=3)
    client = client_for(users["product_manager"])
    with mocked_summary():
        page = client.post("/reports/monthly/2026-11/", {"conclusions": "我的结论", "version": "2"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "团队结论在您打开后已被他人修改，未保存" in html and "他人的结论" in html and "我的结论" in html
    assert 'name="version" value="3"' in html  # saving again now is a deliberate overwrite
    assert MonthlyReview.objects.get(month=NOVEMBER).conclusions == "他人的结论"


def test_over_long_conclusions_are_refused_on_the_page(users: dict[str, Any]) -> None:
    client = client_for(users["manager"])
    with mocked_summary():
        page = client.post("/reports/monthly/2026-11/", {"conclusions": "长" * 5001, "version": "1"})
    assert page.status_code == 200
    assert "团队结论最多 5000 字，当前 5001 字" in page.content.decode()
    assert not MonthlyReview.objects.exists()


def test_readers_without_analyse_see_conclusions_but_cannot_write(users: dict[str, Any]) -> None:
    MonthlyReview.objects.create(month=NOVEMBER, conclusions="团队的结论")
    client = client_for(users["viewer"])
    with mocked_summary():
        html = client.get("/reports/monthly/2026-11/").content.decode()
        assert "团队的结论" in html and 'id="conclusions-form"' not in html
        assert client.post("/reports/monthly/2026-11/", {"conclusions": "改掉", "version": "1"}).status_code == 403
    assert MonthlyReview.objects.get(month=NOVEMBER).conclusions == "团队的结论"


@pytest.mark.parametrize("month", ["2026-13", "abc", "1999-01", "2999-01"])
def test_a_bad_or_future_month_page_is_not_found(users: dict[str, Any], month: str) -> None:
    with mocked_summary():
        assert client_for(users["manager"]).get(f"/reports/monthly/{month}/").status_code == 404


def test_a_month_without_its_zero_is_redirected(users: dict[str, Any]) -> None:
    response = client_for(users["manager"]).get("/reports/monthly/2026-3/")
    assert response.status_code == 302 and response["Location"] == "/reports/monthly/2026-03/"


def test_the_review_page_needs_a_reader_of_everything(users: dict[str, Any]) -> None:
    with mocked_summary():
        assert client_for(users["sales"]).get("/reports/monthly/2026-11/").status_code == 403
        assert client_for(users["service"]).post("/reports/monthly/2026-11/", {"conclusions": "x"}).status_code == 403
    assert not MonthlyReview.objects.exists()


def test_review_page_queries_are_bounded(
    users: dict[str, Any], pool: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    MonthlyReview.objects.create(month=NOVEMBER, conclusions="结论", updated_by=users["manager"])
    client = client_for(users["manager"])
    with mocked_summary(), django_assert_max_num_queries(12):
        assert client.get("/reports/monthly/2026-11/").status_code == 200


def test_the_schedule_page_saves_recipients(users: dict[str, Any]) -> None:
    client = client_for(users["manager"])
    page = client.get("/reports/monthly/schedule/").content.decode()
    assert "每月 1 日 08:10" in page and f'value="{users["viewer"].pk}"' in page
    assert f'value="{users["sales"].pk}"' not in page  # cannot read the whole team's review
    response = client.post(
        "/reports/monthly/schedule/", {"enabled": "on", "recipients": [users["viewer"].pk, users["engineer"].pk]}
    )
    assert response.status_code == 302
    schedule = MonthlyReviewSchedule.objects.get()
    assert schedule.enabled and set(schedule.recipients.all()) == {users["viewer"], users["engineer"]}


def test_the_schedule_page_refuses_bad_input_in_words(users: dict[str, Any]) -> None:
    client = client_for(users["manager"])
    page = client.post("/reports/monthly/schedule/", {"enabled": "on"}).content.decode()
    assert "启用定时发送时请至少选择一位收件人。" in page
    page = client.post("/reports/monthly/schedule/", {"recipients": [users["sales"].pk]}).content.decode()
    assert "不存在或不能查看全团队的复盘" in page
    assert not MonthlyReviewSchedule.objects.exists()


def test_the_schedule_is_read_only_without_analyse(users: dict[str, Any]) -> None:
    client = client_for(users["viewer"])
    page = client.get("/reports/monthly/schedule/").content.decode()
    assert "只有经理、产品经理或管理员可以修改发送设置" in page and "disabled" in page
    assert client.post("/reports/monthly/schedule/", {"enabled": "on"}).status_code == 403
    assert client_for(users["sales"]).get("/reports/monthly/schedule/").status_code == 403


def test_a_recipient_who_lost_access_is_named_on_the_schedule_page(users: dict[str, Any]) -> None:
    from needpool.reports.services import monthly_schedule_update

    monthly_schedule_update(actor=users["manager"], enabled=True, recipients=[users["viewer"]])
    users["viewer"].role = "sales"
    users["viewer"].save()
    page = client_for(users["manager"]).get("/reports/monthly/schedule/").content.decode()
    assert "发送时将跳过" in page and "viewer" in page


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from([r.value for r in Role]), superuser=st.booleans())
def test_pages_answer_by_role(db: Any, role: str, superuser: bool) -> None:
    user = User.objects.create_user(
        username=f"p-{User.objects.count()}", password=PASSWORD, role=role, is_superuser=superuser
    )
    client = client_for(user)
    reads = superuser or role_has(role, Cap.SEE_ALL)
    writes = reads and (superuser or role_has(role, Cap.ANALYSE))
    with mocked_summary():
        assert client.get("/reports/monthly/").status_code == (200 if reads else 403)
        assert client.get("/reports/monthly/2026-11/").status_code == (200 if reads else 403)
        posted = client.post("/reports/monthly/2026-11/", {"conclusions": role, "version": ""})
    assert posted.status_code == (302 if writes else 403)
    assert MonthlyReview.objects.filter(conclusions=role).exists() is writes
    MonthlyReview.objects.all().delete()

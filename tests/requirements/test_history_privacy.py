"""The requirement page's change log: another team's customer words never reach a sales user, and keys read
as names people know."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from needpool.requirements.selectors import history_field_label
from needpool.requirements.services import feedback_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _page(user: Any, requirement: Any) -> str:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client.get(reverse("requirements:detail", args=[requirement.pk])).content.decode()


@pytest.fixture
def shared(users: dict[str, Any], requirement: Any, customer_b: Any) -> Any:
    feedback_create(
        actor=users["product_manager"],
        raw_text="B 公司也要批量折扣（机密报价 88 万）",
        channel="sales",
        customer=customer_b,
        requirement=requirement,
    )
    return requirement


def test_sales_reads_the_change_log_without_another_teams_customer_words(shared: Any, users: Any) -> None:
    html = _page(users["sales"], shared)
    assert "机密报价" not in html
    assert 'id="audit-log"' in html  # the log is there, only that row is left out


def test_staff_who_see_every_customer_read_the_whole_log(shared: Any, users: Any) -> None:
    assert "机密报价" in _page(users["product_manager"], shared)


def test_change_log_keys_read_as_names() -> None:
    assert history_field_label("title") == "标题"
    assert history_field_label("feedback") == "反馈"
    assert history_field_label("analysis.root_cause") == "根本原因"  # registered by the analysis app
    assert history_field_label("analysis.urgency_score") == "紧急度（1–5）"
    assert history_field_label("analysis.fishbone") == "鱼骨图"
    assert history_field_label("no-such-key") == "no-such-key"

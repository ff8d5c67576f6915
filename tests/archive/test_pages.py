"""The archive: a requirement's dossier on one page and as a PDF, with every registered dossier section, the
analysis, only the feedback the viewer may see; the list of finished requirements by period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements import lifecycle
from needpool.requirements.services import feedback_create, requirement_transition
from tests.archive.pdftext import pdf_text
from tests.conftest import PASSWORD, count_queries

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def closed(users: dict[str, Any], requirement: Any, customer_b: Any) -> Any:
    """The fixture requirement, with customer B's feedback too, launched and closed."""
    feedback_create(
        actor=users["product_manager"],
        raw_text="B 公司也要批量折扣（机密报价 88 万）",
        channel="sales",
        customer=customer_b,
        requirement=requirement,
    )
    for key in ("in_progress", "testing", "launched", "closed"):
        requirement = requirement_transition(actor=users["admin"], requirement=requirement, to=key)
    return requirement


@pytest.fixture
def extra_section() -> Any:
    section = lifecycle.Section(
        key="zz-test-review",
        label=lambda: "评审纪要",
        order=50,
        template="loop/dossier_analysis.html",
        context=lambda requirement, user: {"analysis": None, "scores": [("评审结论", "同意进入迭代 24.3")]},
        places=frozenset({"dossier"}),
    )
    lifecycle.register_section(section)
    yield section
    lifecycle._sections.pop(section.key, None)


def test_the_dossier_shows_fields_feedback_history_and_registered_sections(
    closed: Any, users: Any, extra_section: Any
) -> None:
    page = client_for(users["product_manager"]).get(reverse("dossier:requirement", args=[closed.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert closed.code in html and closed.title in html
    assert "A科技公司" in html and "B制造企业" in html
    assert 'id="section-zz-test-review"' in html and "同意进入迭代 24.3" in html
    assert 'id="dossier-status-history"' in html and "已关闭" in html
    assert 'id="dossier-audit-log"' in html


def test_a_section_registered_only_for_the_detail_page_stays_out(closed: Any, users: Any) -> None:
    section = lifecycle.Section(
        key="zz-detail-only",
        label=lambda: "只在详情",
        order=1,
        template="loop/dossier_analysis.html",
        context=lambda requirement, user: {"scores": [("只在详情页", "x")]},
        places=frozenset({"detail"}),
    )
    lifecycle.register_section(section)
    try:
        html = client_for(users["admin"]).get(reverse("dossier:requirement", args=[closed.pk])).content.decode()
    finally:
        lifecycle._sections.pop(section.key, None)
    assert "只在详情页" not in html


def test_sales_sees_the_dossier_without_another_teams_customer(closed: Any, users: Any) -> None:
    html = client_for(users["sales"]).get(reverse("dossier:requirement", args=[closed.pk])).content.decode()
    assert "A科技公司" in html
    assert "B制造企业" not in html and "机密报价" not in html


def test_the_pdf_has_the_dossier_without_another_teams_customer(closed: Any, users: Any, extra_section: Any) -> None:
    response = client_for(users["sales"]).get(reverse("dossier:pdf", args=[closed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert closed.code in text
    assert "同意进入迭代" in text
    assert "机密报价" not in text


def test_the_print_template_carries_the_sections(closed: Any, users: Any, extra_section: Any) -> None:
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from needpool.loop.dossier import dossier_context
    from needpool.requirements.selectors import requirement_get

    request = RequestFactory().get("/")
    request.user = users["admin"]
    context = dossier_context(request, requirement_get(user=users["admin"], pk=closed.pk), printing=True)
    html = render_to_string("loop/dossier_print.html", context, request=request)
    assert "同意进入迭代 24.3" in html and "<style nonce=" in html and "<link" not in html


@pytest.mark.parametrize("url_name", ["dossier:requirement", "dossier:pdf"])
def test_who_may_not_see_the_requirement_gets_404_as_for_a_missing_one(
    closed: Any, other_sales: Any, url_name: str
) -> None:
    client = client_for(other_sales)
    assert client.get(reverse(url_name, args=[closed.pk])).status_code == 404
    assert client.get(reverse(url_name, args=[closed.pk + 1000])).status_code == 404


def test_the_archive_shows_the_analysis(closed: Any, users: Any) -> None:
    from needpool.analysis.services import fishbone_set, whys_set

    whys_set(
        actor=users["product_manager"],
        requirement=closed,
        steps=[("为什么交付慢？", "供应商延迟"), ("为什么供应商延迟？", "没有考核")],
        root_cause="缺少供应商交付绩效管理机制",
    )
    fishbone_set(actor=users["product_manager"], requirement=closed, causes=[("method", "没有考核流程")])
    html = client_for(users["viewer"]).get(reverse("dossier:requirement", args=[closed.pk])).content.decode()
    assert 'id="section-analysis"' in html
    assert "缺少供应商交付绩效管理机制" in html and "没有考核流程" in html and "供应商延迟" in html


def test_the_archive_lists_finished_requirements_by_period(closed: Any, pool: Any, users: Any) -> None:
    client = client_for(users["admin"])
    html = client.get(reverse("dossier:list")).content.decode()
    assert closed.code in html and pool["r2"].code not in html  # r2 is still in progress
    today = timezone.localdate()
    assert closed.code in client.get(reverse("dossier:list"), {"start": today, "end": today}).content.decode()
    earlier = today - dt.timedelta(days=30)
    assert closed.code not in client.get(reverse("dossier:list"), {"end": earlier}).content.decode()
    assert client.get(reverse("dossier:list"), {"start": today, "end": earlier}).status_code == 400
    assert client.get(reverse("dossier:list"), {"start": "1800-01-01"}).status_code == 400


def test_the_archive_list_hides_what_sales_may_not_see(closed: Any, pool: Any, users: Any, other_sales: Any) -> None:
    assert closed.code not in client_for(other_sales).get(reverse("dossier:list")).content.decode()


def test_the_archive_list_is_paginated_with_a_bounded_number_of_queries(users: Any, make_requirements: Any) -> None:
    made = make_requirements(30)
    for requirement in made:
        requirement_transition(actor=users["admin"], requirement=requirement, to="rejected", note="不做")
    client = client_for(users["sales"])
    small = count_queries(client, reverse("dossier:list"))
    html = client.get(reverse("dossier:list")).content.decode()
    assert html.count('class="archive-row"') == 25
    more = make_requirements(10, prefix="再")
    for requirement in more:
        requirement_transition(actor=users["admin"], requirement=requirement, to="rejected", note="不做")
    assert count_queries(client, reverse("dossier:list")) == small
    assert count_queries(client, reverse("dossier:list") + "?page=2") <= small


def test_dossier_queries_do_not_grow_with_the_feedback(closed: Any, users: Any, customer: Any) -> None:
    client = client_for(users["admin"])
    url = reverse("dossier:requirement", args=[closed.pk])
    before = count_queries(client, url)
    for i in range(5):
        feedback_create(
            actor=users["admin"],
            raw_text=f"又一条反馈 {i}",
            channel="sales",
            customer=customer,
            requirement=closed,
        )
    assert count_queries(client, url) <= before + 1  # the audit log may gain rows, not queries


class _Rollback(Exception):
    pass


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    histories=st.lists(st.lists(st.integers(min_value=0, max_value=9), min_size=0, max_size=3), min_size=4, max_size=4),
    start=st.one_of(st.none(), st.integers(min_value=0, max_value=9)),
    length=st.one_of(st.none(), st.integers(min_value=0, max_value=9)),
)
def test_the_archive_period_is_the_day_of_the_last_status_change(
    users: Any, make_requirements: Any, histories: list[list[int]], start: int | None, length: int | None
) -> None:
    """Generated histories (days of each status change, in any order, none at all) and periods (open at
    either end): the archive lists exactly the finished requirements whose last change falls in the period,
    the most recently finished first."""
    from needpool.loop.dossier import archived_requirements
    from needpool.requirements.models import StatusChange

    base = dt.date(2026, 3, 1)
    noon = dt.time(12)
    try:
        with transaction.atomic():
            made = make_requirements(4)
            for requirement in made[:3]:
                requirement_transition(actor=users["admin"], requirement=requirement, to="rejected", note="不做")
            expected: dict[int, dt.datetime | None] = {}
            for requirement, days in zip(made, histories, strict=True):
                StatusChange.objects.filter(requirement=requirement).delete()
                moments = [timezone.make_aware(dt.datetime.combine(base + dt.timedelta(days=d), noon)) for d in days]
                for moment in moments:
                    change = StatusChange.objects.create(requirement=requirement, target=requirement.status)
                    StatusChange.objects.filter(pk=change.pk).update(at=moment)
                if requirement in made[:3]:
                    expected[requirement.pk] = max(moments, default=None)
            first = base + dt.timedelta(days=start) if start is not None else None
            last = (first or base) + dt.timedelta(days=length) if length is not None else None
            found = list(archived_requirements(user=users["admin"], start=first, end=last))

            def inside(at: dt.datetime | None) -> bool:
                if first is None and last is None:
                    return True
                if at is None:
                    return False
                day = timezone.localtime(at).date()
                return (first is None or day >= first) and (last is None or day <= last)

            wanted = sorted(
                (pk for pk, at in expected.items() if inside(at)),
                key=lambda pk: (expected[pk] is not None, expected[pk] or base, pk),
                reverse=True,
            )
            assert [r.pk for r in found] == wanted
            assert {r.pk: r.finished_at for r in found} == {pk: expected[pk] for pk in wanted}
            raise _Rollback
    except _Rollback:
        pass


def test_the_archive_pages_follow_the_finishing_order(users: Any, make_requirements: Any) -> None:
    """The page's ids are sorted first and its rows read after: every row once, most recently finished first."""
    from needpool.requirements.models import StatusChange

    made = make_requirements(30)
    for requirement in made:
        requirement_transition(actor=users["admin"], requirement=requirement, to="rejected", note="不做")
    start = timezone.now() - dt.timedelta(days=60)
    order = [made[(i * 7) % 30] for i in range(30)]  # finished in a shuffled order
    for day, requirement in enumerate(order):
        StatusChange.objects.filter(requirement=requirement).update(at=start + dt.timedelta(days=day))
    client = client_for(users["admin"])
    seen = []
    for page in (1, 2):
        html = client.get(reverse("dossier:list"), {"page": page}).content.decode()
        seen += [r.code for r in sorted(made, key=lambda r: html.find(r.code)) if r.code in html]
    assert seen == [r.code for r in reversed(order)]

"""The portal's public roadmap: no login, only public iterations' names, dates and public summaries — never
requirements, customers, owners or internal goals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.delivery import services
from needpool.delivery.models import Iteration

D = dt.date


@pytest.mark.django_db
def test_only_public_iterations_with_their_public_text(client, pm, requirement, customer):
    public = services.iteration_create(
        actor=pm,
        name="公开迭代",
        goal="内部目标：压低成本",
        start_date=D(2030, 1, 1),
        end_date=D(2030, 2, 1),
        is_public=True,
        public_summary="批量折扣即将上线",
        status="active",
    )
    services.iteration_create(
        actor=pm, name="内部迭代", start_date=D(2030, 3, 1), end_date=D(2030, 4, 1), public_summary="不应出现"
    )
    services.iteration_create(
        actor=pm,
        name="已完成的公开迭代",
        start_date=D(2020, 1, 1),
        end_date=D(2020, 2, 1),
        is_public=True,
        status="done",
    )
    services.iteration_plan_requirements(actor=pm, iteration=public, requirements=[requirement])
    response = client.get(reverse("delivery_public:roadmap"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "公开迭代" in html and "批量折扣即将上线" in html
    for secret in (
        "内部目标",
        "内部迭代",
        "不应出现",
        "已完成的公开迭代",
        requirement.code,
        requirement.title,
        customer.name,
        pm.username,
    ):
        assert secret not in html


text = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N"]), min_size=4, max_size=20)


class PublicRoadmapNeverLeaks(TestCase):
    """Property: whatever the names and texts, the page shows a private field of no iteration (each text
    carries a marker with "-", which generated text never contains, so one cannot appear inside another)."""

    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(text, text, text, st.booleans()), min_size=1, max_size=4))
    def test_never_leaks(self, rows):
        Iteration.objects.all().delete()
        pm = User.objects.get_or_create(username="pm-public", defaults={"role": Role.PRODUCT_MANAGER})[0]
        for i, (name, goal, summary, public) in enumerate(rows):
            services.iteration_create(
                actor=pm,
                name=f"N{i}-{name}",
                goal=f"G{i}-{goal}",
                public_summary=f"S{i}-{summary}",
                start_date=D(2030, 1, 1),
                end_date=D(2030, 2, 1),
                is_public=public,
            )
        html = self.client.get(reverse("delivery_public:roadmap")).content.decode()
        for i, (name, goal, summary, public) in enumerate(rows):
            assert f"G{i}-{goal}" not in html
            assert (f"N{i}-{name}" in html) is public
            assert (f"S{i}-{summary}" in html) is public
        assert pm.username not in html

"""The matrix shows an overridden priority as both: the computed point and the effective one, with the reason."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from needpool.analysis.selectors import matrix_points
from needpool.analysis.services import analysis_update, priority_override
from tests.analysis.helpers import make_requirement

pytestmark = pytest.mark.django_db


def _scored(users, title, urgency, importance, customer=None):
    requirement = make_requirement(users["sales"], title, customer)
    analysis_update(
        actor=users["product_manager"], requirement=requirement, urgency_score=urgency, importance_score=importance
    )
    return requirement


def test_points_carry_the_computed_priority_and_the_override_reason(users, customer):
    pm = users["product_manager"]
    top = _scored(users, "紧急又重要", 5, 5, customer)
    plain = _scored(users, "没调整过", 1, 1, customer)
    priority_override(actor=pm, requirement=top, priority="P1", reason="本季度资源已排满，下季度做")
    points = {p["id"]: p for p in matrix_points(user=pm, overrides=True)}
    assert points[top.pk] | {"id": 0} == points[top.pk] | {
        "id": 0,
        "priority": "P1",
        "computed": "P0",
        "overridden": True,
        "reason": "本季度资源已排满，下季度做",
    }
    assert points[plain.pk]["overridden"] is False and points[plain.pk]["reason"] == ""
    assert points[plain.pk]["computed"] == points[plain.pk]["priority"] == "P3"
    # The API shape is unchanged unless asked.
    assert "computed" not in matrix_points(user=pm)[0]


def test_matrix_page_sends_both_and_names_them_in_the_table(client, users, customer):
    pm = users["product_manager"]
    top = _scored(users, "紧急又重要", 5, 5, customer)
    priority_override(actor=pm, requirement=top, priority="P1", reason="资源排满")
    client.force_login(pm)
    html = client.get(reverse("analysis:matrix")).content.decode()
    data = json.loads(html.split('id="matrix-data" type="application/json">')[1].split("</script>")[0])
    assert data[0]["computed"] == "P0" and data[0]["priority"] == "P1" and data[0]["reason"] == "资源排满"
    config = json.loads(html.split('id="matrix-config" type="application/json">')[1].split("</script>")[0])
    assert config["labels"]["computedSeries"] == "计算值（已人工调整）"
    assert "人工调整 · 计算值 P0" in html and "资源排满" in html

"""A requirement's analysis over the API: scores, override, feasibility, compliance, per role."""

from __future__ import annotations

import pytest

from needpool.analysis.models import RequirementAnalysis
from needpool.core.models import AuditEntry
from needpool.requirements.models import Requirement
from tests.analysis.api.conftest import (
    ANALYSTS,
    ESTIMATORS,
    NON_ANALYSTS,
    NON_ESTIMATORS,
    NON_SIGNERS,
    req_url,
)
from tests.conftest import ALL_ROLES

SCORES = {"urgency_score": 5, "importance_score": 4, "pain_points": "每单手工改价", "value_statement": "节省 50% 人工"}


def nothing_written(requirement, audits_before):
    assert not RequirementAnalysis.objects.filter(requirement=requirement).exists()
    assert AuditEntry.objects.count() == audits_before
    requirement.refresh_from_db()
    assert requirement.priority == ""


# ---------------------------------------------------------------- read


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_an_unscored_analysis(api, users, requirement, role):
    response = api(users[role]).get(req_url(requirement))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["requirement"] == requirement.pk
    assert body["code"] == requirement.code
    assert body["priority"] == ""
    assert body["urgency_score"] is None
    assert body["criteria_scores"] == {}
    assert body["computed_priority"] == ""
    assert body["override_priority"] == ""
    assert body["compliance_status"] == "pending"
    assert body["updated_at"] is None


def test_anonymous_is_refused(api, requirement):
    assert api(None).get(req_url(requirement)).status_code in (401, 403)


@pytest.mark.parametrize(
    ("method", "tail", "payload"),
    [
        ("get", "analysis/", None),
        ("patch", "analysis/", {"urgency_score": 5}),
        ("post", "analysis/override/", {"priority": "P0", "reason": "老板要求"}),
        ("put", "analysis/feasibility/", {"tech_difficulty": 2}),
        ("post", "analysis/compliance/", {"status": "approved"}),
        ("get", "whys/", None),
        ("put", "whys/", {"steps": [], "root_cause": ""}),
        ("get", "fishbone/", None),
        ("put", "fishbone/", {"causes": []}),
        ("get", "demand/", None),
        ("get", "kano/", None),
        ("put", "kano/", {"functional_question": "有？", "dysfunctional_question": "没有？"}),
        ("post", "kano/answers/", {"functional": "like", "dysfunctional": "dislike"}),
    ],
)
def test_invisible_requirement_is_404_for_an_outsider(api, other_sales, requirement, method, tail, payload):
    client = api(other_sales)
    response = getattr(client, method)(req_url(requirement, tail), payload, format="json")
    assert response.status_code == 404, response.content
    assert not RequirementAnalysis.objects.exists()


def test_unknown_requirement_is_404(api, users, requirement):
    response = api(users["admin"]).get(f"/api/v1/requirements/{requirement.pk + 999}/analysis/")
    assert response.status_code == 404


# ---------------------------------------------------------------- scores


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_score_and_the_priority_is_computed(api, users, requirement, role):
    response = api(users[role]).patch(req_url(requirement), SCORES, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["urgency_score"] == 5
    assert body["importance_score"] == 4
    assert body["computed_model"] == "matrix"
    assert body["computed_priority"] == "P0"
    assert body["computed_score"] == pytest.approx(79.17)
    assert body["computed_parts"]["urgent"] is True
    assert body["computed_error"] == ""
    assert body["priority"] == "P0"
    assert body["pain_points"] == "每单手工改价"
    assert body["value_statement"] == "节省 50% 人工"
    requirement.refresh_from_db()
    assert requirement.priority == "P0"


def test_partial_update_keeps_other_inputs_and_reports_missing_ones(api, users, requirement):
    client = api(users["product_manager"])
    body = client.patch(req_url(requirement), {"urgency_score": 2}, format="json").json()
    assert body["computed_priority"] == ""
    assert body["computed_error"].startswith("importance")
    body = client.patch(req_url(requirement), {"importance_score": 5}, format="json").json()
    assert body["urgency_score"] == 2
    assert body["computed_priority"] == "P1"
    body = client.patch(req_url(requirement), {"importance_score": None}, format="json").json()
    assert body["importance_score"] is None
    assert body["priority"] == ""


def test_rice_inputs_round_trip(api, users, requirement):
    body = (
        api(users["manager"])
        .patch(
            req_url(requirement),
            {
                "reach": 500,
                "impact": "2",
                "confidence": 80,
                "effort": "4",
                "moscow": "should",
                "criteria_scores": {"risk": 7},
            },
            format="json",
        )
        .json()
    )
    assert body["reach"] == 500
    assert body["impact"] == "2.00"
    assert body["effort"] == "4.00"
    assert body["moscow"] == "should"
    assert body["criteria_scores"] == {"risk": 7.0}


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_score(api, users, requirement, role):
    audits = AuditEntry.objects.count()
    response = api(users[role]).patch(req_url(requirement), {"urgency_score": 99}, format="json")
    assert response.status_code == 403, response.content
    nothing_written(requirement, audits)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"urgency_score": 6}, "urgency_score"),
        ({"importance_score": 0}, "importance_score"),
        ({"urgency_score": "很急"}, "urgency_score"),
        ({"confidence": 120}, "confidence"),
        ({"impact": "0.7"}, "impact"),
        ({"effort": "0"}, "effort"),
        ({"reach": -1}, "reach"),
        ({"moscow": "maybe"}, "moscow"),
        ({"criteria_scores": {"risk": 11}}, "criteria_scores"),
        ({"computed_priority": "P0"}, "computed_priority"),
        ({"urgency_score": 5, "importance_score": 9}, "importance_score"),
    ],
)
def test_bad_scores_are_400_naming_the_field_and_write_nothing(api, users, requirement, payload, field):
    audits = AuditEntry.objects.count()
    response = api(users["product_manager"]).patch(req_url(requirement), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert response.json()[field][0]
    nothing_written(requirement, audits)


def test_score_message_is_in_the_users_language(api, users, requirement):
    response = api(users["product_manager"]).patch(req_url(requirement), {"urgency_score": 6}, format="json")
    assert response.json() == {"urgency_score": ["评分必须是 1 到 5 的整数。"]}


# ---------------------------------------------------------------- override


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_override_and_the_computed_priority_stays(api, users, requirement, role):
    client = api(users[role])
    client.patch(req_url(requirement), {"urgency_score": 1, "importance_score": 1}, format="json")
    response = client.post(
        req_url(requirement, "analysis/override/"), {"priority": "P0", "reason": "大客户续约条件"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["priority"] == "P0"
    assert body["override_priority"] == "P0"
    assert body["override_reason"] == "大客户续约条件"
    assert body["override_by"] == users[role].pk
    assert body["override_by_name"]
    assert body["override_at"]
    assert body["computed_priority"] == "P3"
    requirement.refresh_from_db()
    assert requirement.priority == "P0"

    cleared = client.post(req_url(requirement, "analysis/override/"), {"priority": ""}, format="json").json()
    assert cleared["override_priority"] == ""
    assert cleared["override_reason"] == ""
    assert cleared["priority"] == "P3"


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_override(api, users, requirement, role):
    audits = AuditEntry.objects.count()
    response = api(users[role]).post(
        req_url(requirement, "analysis/override/"), {"priority": "P0", "reason": "我觉得急"}, format="json"
    )
    assert response.status_code == 403, response.content
    nothing_written(requirement, audits)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"priority": "P0"}, "reason"),
        ({"priority": "P0", "reason": "   "}, "reason"),
        ({"priority": "P0", "reason": "长" * 501}, "reason"),
        ({"priority": "P9", "reason": "理由"}, "priority"),
        ({"reason": "理由"}, "priority"),
    ],
)
def test_bad_override_is_400_and_writes_nothing(api, users, requirement, payload, field):
    audits = AuditEntry.objects.count()
    response = api(users["product_manager"]).post(req_url(requirement, "analysis/override/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    nothing_written(requirement, audits)


def test_override_without_reason_says_so(api, users, requirement):
    response = api(users["manager"]).post(req_url(requirement, "analysis/override/"), {"priority": "P1"}, format="json")
    assert response.json() == {"reason": ["人工调整优先级必须填写理由。"]}


# ---------------------------------------------------------------- feasibility


@pytest.mark.parametrize("role", ESTIMATORS)
def test_engineers_and_analysts_estimate(api, users, requirement, role):
    payload = {"tech_difficulty": 3, "effort_days": "12.5", "cost_estimate": "30000", "resources": "2 名后端"}
    response = api(users[role]).put(req_url(requirement, "analysis/feasibility/"), payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tech_difficulty"] == 3
    assert body["effort_days"] == "12.5"
    assert body["cost_estimate"] == "30000.00"
    assert body["resources"] == "2 名后端"


def test_put_feasibility_replaces_the_whole_estimate(api, users, requirement):
    client = api(users["engineer"])
    client.put(
        req_url(requirement, "analysis/feasibility/"), {"tech_difficulty": 3, "resources": "前端"}, format="json"
    )
    body = client.put(req_url(requirement, "analysis/feasibility/"), {"effort_days": 4}, format="json").json()
    assert body["tech_difficulty"] is None
    assert body["resources"] == ""
    assert body["effort_days"] == "4.0"


def test_engineer_may_estimate_but_not_override(api, users, requirement):
    client = api(users["engineer"])
    assert (
        client.put(req_url(requirement, "analysis/feasibility/"), {"tech_difficulty": 2}, format="json").status_code
        == 200
    )
    override = client.post(
        req_url(requirement, "analysis/override/"), {"priority": "P0", "reason": "急"}, format="json"
    )
    assert override.status_code == 403
    assert client.patch(req_url(requirement), {"urgency_score": 5}, format="json").status_code == 403


@pytest.mark.parametrize("role", NON_ESTIMATORS)
def test_other_roles_may_not_estimate(api, users, requirement, role):
    response = api(users[role]).put(
        req_url(requirement, "analysis/feasibility/"), {"tech_difficulty": 2}, format="json"
    )
    assert response.status_code == 403, response.content
    assert not RequirementAnalysis.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"tech_difficulty": 6}, "tech_difficulty"),
        ({"effort_days": "-1"}, "effort_days"),
        ({"cost_estimate": "x"}, "cost_estimate"),
    ],
)
def test_bad_estimate_is_400_and_writes_nothing(api, users, requirement, payload, field):
    response = api(users["engineer"]).put(req_url(requirement, "analysis/feasibility/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not RequirementAnalysis.objects.exists()


# ---------------------------------------------------------------- compliance


def test_compliance_officer_signs(api, users, requirement):
    client = api(users["compliance"])
    response = client.post(req_url(requirement, "analysis/compliance/"), {"status": "approved"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["compliance_status"] == "approved"
    assert body["compliance_by"] == users["compliance"].pk
    assert body["compliance_by_name"]
    assert body["compliance_at"]
    rejected = client.post(
        req_url(requirement, "analysis/compliance/"), {"status": "rejected", "note": "涉及个人手机号"}, format="json"
    ).json()
    assert rejected["compliance_status"] == "rejected"
    assert rejected["compliance_note"] == "涉及个人手机号"


@pytest.mark.parametrize("role", NON_SIGNERS)
def test_only_compliance_may_sign_not_even_the_superuser(api, users, requirement, role):
    assert users["admin"].is_superuser
    response = api(users[role]).post(
        req_url(requirement, "analysis/compliance/"), {"status": "approved"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert not RequirementAnalysis.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "rejected"}, "note"),
        ({"status": "pending"}, "status"),
        ({}, "status"),
        ({"status": "approved", "note": "长" * 501}, "note"),
    ],
)
def test_bad_sign_off_is_400_and_writes_nothing(api, users, requirement, payload, field):
    response = api(users["compliance"]).post(req_url(requirement, "analysis/compliance/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not RequirementAnalysis.objects.exists()


def test_token_auth_works(api, users, requirement):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token = Token.objects.create(user=users["product_manager"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.patch(req_url(requirement), {"urgency_score": 3}, format="json").status_code == 200
    assert Requirement.objects.get(pk=requirement.pk).analysis.urgency_score == 3

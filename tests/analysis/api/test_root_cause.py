"""5 Whys and the fishbone diagram over the API."""

from __future__ import annotations

import pytest

from needpool.analysis.models import FishboneCause, WhyStep
from needpool.core.models import AuditEntry
from tests.analysis.api.conftest import ANALYSTS, NON_ANALYSTS, req_url
from tests.conftest import ALL_ROLES

WHYS = {
    "steps": [
        {"question": "为什么交付慢？", "answer": "供应商延迟"},
        {"question": "为什么供应商延迟？", "answer": "没有供应商考核"},
    ],
    "root_cause": "缺少供应商管理机制",
}
CAUSES = {
    "causes": [
        {"category": "method", "text": "没有考核流程"},
        {"category": "people", "text": "采购人手不足"},
        {"category": "method", "text": "合同无交期条款"},
    ]
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reads_an_empty_chain(api, users, requirement, role):
    response = api(users[role]).get(req_url(requirement, "whys/"))
    assert response.status_code == 200, response.content
    assert response.json() == {"steps": [], "root_cause": "", "review_blocked_reason": None}


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_write_the_chain(api, users, requirement, role):
    client = api(users[role])
    response = client.put(req_url(requirement, "whys/"), WHYS, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(s["position"], s["question"], s["answer"]) for s in body["steps"]] == [
        (1, "为什么交付慢？", "供应商延迟"),
        (2, "为什么供应商延迟？", "没有供应商考核"),
    ]
    assert body["root_cause"] == "缺少供应商管理机制"
    assert client.get(req_url(requirement, "whys/")).json() == body
    assert client.get(req_url(requirement)).json()["root_cause"] == "缺少供应商管理机制"


def test_p1_without_chain_says_why_review_is_blocked(api, users, requirement):
    client = api(users["product_manager"])
    client.post(req_url(requirement, "analysis/override/"), {"priority": "P1", "reason": "重点客户"}, format="json")
    assert "5 Whys" in client.get(req_url(requirement, "whys/")).json()["review_blocked_reason"]
    assert client.put(req_url(requirement, "whys/"), WHYS, format="json").json()["review_blocked_reason"] is None


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_write_the_chain(api, users, requirement, role):
    assert api(users[role]).put(req_url(requirement, "whys/"), WHYS, format="json").status_code == 403
    assert not WhyStep.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"steps": [{"question": "为什么？", "answer": "因为"}], "root_cause": ""}, "root_cause"),
        ({"steps": [{"question": "为什么？", "answer": ""}], "root_cause": "根因"}, "steps"),
        ({"steps": [{"question": "问" * 301, "answer": "答"}], "root_cause": "根因"}, "steps"),
        ({"steps": [{"question": f"为什么{i}", "answer": "因为"} for i in range(11)], "root_cause": "根因"}, "steps"),
        ({"root_cause": "根因"}, "steps"),
    ],
)
def test_bad_chain_is_400_and_writes_nothing(api, users, requirement, payload, field):
    audits = AuditEntry.objects.count()
    response = api(users["product_manager"]).put(req_url(requirement, "whys/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not WhyStep.objects.exists()
    assert AuditEntry.objects.count() == audits


def test_fishbone_groups_causes_by_category(api, users, requirement):
    client = api(users["manager"])
    response = client.put(req_url(requirement, "fishbone/"), CAUSES, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(c["category"], c["text"]) for c in body["causes"]] == [
        ("people", "采购人手不足"),
        ("method", "没有考核流程"),
        ("method", "合同无交期条款"),
    ]
    groups = {g["category"]: g for g in body["grouped"]}
    assert list(groups) == ["people", "machine", "material", "method", "environment", "measurement"]
    assert groups["people"]["label"] == "人"
    assert [c["text"] for c in groups["method"]["causes"]] == ["没有考核流程", "合同无交期条款"]
    assert groups["machine"]["causes"] == []
    assert body["causes"][0]["category_label"] == "人"
    assert api(users["viewer"]).get(req_url(requirement, "fishbone/")).json() == body


def test_fishbone_put_replaces_all_causes(api, users, requirement):
    client = api(users["manager"])
    client.put(req_url(requirement, "fishbone/"), CAUSES, format="json")
    body = client.put(
        req_url(requirement, "fishbone/"), {"causes": [{"category": "environment", "text": "旺季"}]}, format="json"
    ).json()
    assert [c["text"] for c in body["causes"]] == ["旺季"]
    assert FishboneCause.objects.count() == 1


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_draw_the_fishbone(api, users, requirement, role):
    assert api(users[role]).put(req_url(requirement, "fishbone/"), CAUSES, format="json").status_code == 403
    assert not FishboneCause.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"causes": [{"category": "money", "text": "预算"}]},
        {"causes": [{"category": "people", "text": "长" * 201}]},
        {"causes": [{"category": "people", "text": f"原因{i}"} for i in range(61)]},
        {},
    ],
)
def test_bad_fishbone_is_400_and_writes_nothing(api, users, requirement, payload):
    response = api(users["product_manager"]).put(req_url(requirement, "fishbone/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert "causes" in response.json()
    assert not FishboneCause.objects.exists()

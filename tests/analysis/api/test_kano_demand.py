"""Kano surveys and weighted demand over the API."""

from __future__ import annotations

import pytest

from needpool.analysis.models import KanoResponse, KanoSurvey
from needpool.requirements.models import Feedback
from tests.analysis.api.conftest import ANALYSTS, FEEDBACK_WRITERS, NON_ANALYSTS, NON_FEEDBACK_WRITERS, req_url
from tests.conftest import ALL_ROLES

SURVEY = {"functional_question": "如果支持批量折扣，您觉得如何？", "dysfunctional_question": "如果不支持，您觉得如何？"}


@pytest.fixture
def survey(api, users, requirement):
    response = api(users["product_manager"]).put(req_url(requirement, "kano/"), SURVEY, format="json")
    assert response.status_code == 200, response.content
    return KanoSurvey.objects.get(requirement=requirement)


# ---------------------------------------------------------------- Kano


@pytest.mark.parametrize("role", ALL_ROLES)
def test_kano_is_empty_before_a_survey(api, users, requirement, role):
    body = api(users[role]).get(req_url(requirement, "kano/")).json()
    assert body["survey"] is None
    assert body["summary"]["total"] == 0
    assert body["summary"]["category"] is None
    assert body["summary"]["better"] is None


@pytest.mark.parametrize("role", ANALYSTS)
def test_analysts_create_a_survey_with_a_public_link(api, users, requirement, role):
    response = api(users[role]).put(req_url(requirement, "kano/"), SURVEY, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    token = KanoSurvey.objects.get(requirement=requirement).token
    assert body["survey"]["functional_question"] == SURVEY["functional_question"]
    assert body["survey"]["is_open"] is True
    assert body["survey"]["public_url"] == f"http://testserver/portal/kano/{token}/"


def test_rewording_keeps_the_link(api, users, requirement, survey):
    body = (
        api(users["manager"])
        .put(req_url(requirement, "kano/"), {**SURVEY, "functional_question": "新的正向问题"}, format="json")
        .json()
    )
    assert body["survey"]["functional_question"] == "新的正向问题"
    assert body["survey"]["public_url"].endswith(f"/portal/kano/{survey.token}/")
    assert KanoSurvey.objects.count() == 1


@pytest.mark.parametrize("role", NON_ANALYSTS)
def test_other_roles_may_not_create_a_survey(api, users, requirement, role):
    assert api(users[role]).put(req_url(requirement, "kano/"), SURVEY, format="json").status_code == 403
    assert not KanoSurvey.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**SURVEY, "functional_question": " "}, "functional_question"),
        ({"functional_question": "有？"}, "dysfunctional_question"),
    ],
)
def test_bad_survey_is_400(api, users, requirement, payload, field):
    response = api(users["product_manager"]).put(req_url(requirement, "kano/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not KanoSurvey.objects.exists()


@pytest.mark.parametrize("role", FEEDBACK_WRITERS)
def test_staff_answer_on_a_customers_behalf(api, users, requirement, customer, survey, role):
    client = api(users[role])
    response = client.post(
        req_url(requirement, "kano/answers/"),
        {"functional": "like", "dysfunctional": "dislike", "customer": customer.pk, "respondent": "王总"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == "O"
    assert body["customer"] == customer.pk
    assert body["respondent"] == "王总"
    assert body["entered_by"] == users[role].pk
    client.post(
        req_url(requirement, "kano/answers/"), {"functional": "like", "dysfunctional": "neutral"}, format="json"
    )
    summary = client.get(req_url(requirement, "kano/")).json()["summary"]
    assert summary["total"] == 2
    assert summary["distribution"] == {"A": 1, "O": 1, "M": 0, "I": 0, "R": 0, "Q": 0}
    assert summary["category"] == "O"
    assert summary["category_label"] == "期望型"
    assert summary["better"] == 1.0
    assert summary["worse"] == -0.5


@pytest.mark.parametrize("role", NON_FEEDBACK_WRITERS)
def test_other_roles_may_not_answer(api, users, requirement, survey, role):
    response = api(users[role]).post(
        req_url(requirement, "kano/answers/"), {"functional": "like", "dysfunctional": "dislike"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert not KanoResponse.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"dysfunctional": "dislike"}, "functional"),
        ({"functional": "like"}, "dysfunctional"),
        ({"functional": "love", "dysfunctional": "dislike"}, "functional"),
        ({"functional": "like", "dysfunctional": "dislike", "respondent": "名" * 81}, "respondent"),
    ],
)
def test_bad_answer_is_400_and_writes_nothing(api, users, requirement, survey, payload, field):
    response = api(users["sales"]).post(req_url(requirement, "kano/answers/"), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not KanoResponse.objects.exists()


def test_a_customer_answers_once(api, users, requirement, customer, survey):
    client = api(users["sales"])
    payload = {"functional": "like", "dysfunctional": "dislike", "customer": customer.pk}
    assert client.post(req_url(requirement, "kano/answers/"), payload, format="json").status_code == 201
    again = client.post(req_url(requirement, "kano/answers/"), payload, format="json")
    assert again.status_code == 400
    assert "customer" in again.json()
    assert KanoResponse.objects.count() == 1


def test_answer_for_a_customer_the_caller_cannot_see_is_400(api, users, requirement, customer_b, survey):
    response = api(users["sales"]).post(
        req_url(requirement, "kano/answers/"),
        {"functional": "like", "dysfunctional": "dislike", "customer": customer_b.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "customer" in response.json()
    assert not KanoResponse.objects.exists()


def test_answer_without_a_survey_is_400(api, users, requirement):
    response = api(users["sales"]).post(
        req_url(requirement, "kano/answers/"), {"functional": "like", "dysfunctional": "dislike"}, format="json"
    )
    assert response.status_code == 400
    assert "survey" in response.json()


# ---------------------------------------------------------------- demand


def test_demand_weighs_customers_by_tier_and_importance(api, users, requirement, customer, customer_b):
    from needpool.requirements.services import feedback_create

    feedback_create(
        actor=users["manager"], raw_text="也要", channel="ticket", customer=customer_b, requirement=requirement
    )
    feedback_create(
        actor=users["sales"], raw_text="再说一次", channel="ticket", customer=customer, requirement=requirement
    )
    Feedback.objects.filter(customer=customer).update(importance=3)
    body = api(users["manager"]).get(req_url(requirement, "demand/")).json()
    # customer A: high tier (3) × importance 3; customer B: low tier (1) × importance 1
    assert (customer.value_tier, customer_b.value_tier) == ("high", "low")
    assert body["demand"] == 10.0
    assert body["priority"] == "P1"
    assert body["customers"] == 2
    assert body["by_tier"] == {"high": 1, "low": 1}
    voters = {v["name"]: v for v in body["voters"]}
    assert voters["A科技公司"]["weight"] == 9
    assert voters["A科技公司"]["items"] == 2
    assert voters["B制造企业"]["tier"] == "low"
    assert voters["B制造企业"]["weight"] == 1


def test_demand_voters_are_only_customers_the_caller_sees(api, users, requirement, customer, customer_b):
    from needpool.requirements.services import feedback_create

    feedback_create(
        actor=users["manager"], raw_text="也要", channel="ticket", customer=customer_b, requirement=requirement
    )
    body = api(users["sales"]).get(req_url(requirement, "demand/")).json()
    assert [v["name"] for v in body["voters"]] == ["A科技公司"]

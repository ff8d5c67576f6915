"""Business effect on an evaluation (复购 / 续约 / 转介绍): 是, 否 or 未知 on the form, the page and the API;
what nobody knows stays None, bad input is refused and writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from needpool.evaluation import services
from needpool.evaluation.models import Evaluation
from tests.evaluation.test_pages_api import client_for
from tests.evaluation.test_pages_api import evaluation as evaluation

pytestmark = pytest.mark.django_db


def test_the_form_saves_yes_no_and_leaves_unknown_as_none(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    url = reverse("evaluation:edit", args=[evaluation.pk])
    page = client.get(url).content.decode()
    assert 'name="repurchased"' in page and 'name="renewed"' in page and 'name="referred"' in page
    response = client.post(
        url, {"met": "yes", "repurchased": "true", "renewed": "false", "referred": "", "version": "1"}
    )
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.repurchased, evaluation.renewed, evaluation.referred) == (True, False, None)


def test_the_form_shows_the_stored_answers_checked(evaluation: Evaluation, users: Any) -> None:
    services.evaluation_complete(actor=users["sales"], evaluation=evaluation, met="yes", repurchased=False)
    html = client_for(users["sales"]).get(reverse("evaluation:edit", args=[evaluation.pk])).content.decode()
    checked = re.findall(r'<input[^>]*name="(repurchased|renewed)"[^>]*value="([^"]*)"[^>]*checked', html)
    assert ("repurchased", "false") in checked and ("renewed", "") in checked


def test_leaving_every_answer_unknown_stores_none(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    response = client.post(reverse("evaluation:edit", args=[evaluation.pk]), {"met": "no", "version": "1"})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.repurchased, evaluation.renewed, evaluation.referred) == (None, None, None)


def test_a_bad_choice_is_refused_on_the_form_and_nothing_is_written(evaluation: Evaluation, users: Any) -> None:
    client = client_for(users["sales"])
    response = client.post(
        reverse("evaluation:edit", args=[evaluation.pk]), {"met": "yes", "renewed": "maybe", "version": "1"}
    )
    assert response.status_code == 200 and "未保存" in response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.completed_at is None and evaluation.renewed is None


def test_the_service_refuses_what_is_not_yes_no_or_unknown(evaluation: Evaluation, users: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.evaluation_complete(actor=users["sales"], evaluation=evaluation, met="yes", referred="yes")
    assert "请选择是、否或未知。" in str(caught.value)
    evaluation.refresh_from_db()
    assert evaluation.referred is None and evaluation.completed_at is None


def test_the_result_shows_yes_no_and_unknown(evaluation: Evaluation, users: Any) -> None:
    services.evaluation_complete(
        actor=users["sales"], evaluation=evaluation, met="yes", repurchased=True, renewed=False
    )
    html = client_for(users["viewer"]).get(reverse("evaluation:edit", args=[evaluation.pk])).content.decode()
    assert "是 / 否 / 未知" in html
    detail = client_for(users["sales"]).get(reverse("requirements:detail", args=[evaluation.requirement_id]))
    assert "是 / 否 / 未知" in detail.content.decode()


def test_api_reads_and_writes_the_business_effect(evaluation: Evaluation, users: Any, api: Any) -> None:
    client = api(users["sales"])
    assert client.get(f"/api/v1/evaluations/{evaluation.pk}/").json()["repurchased"] is None
    response = client.patch(
        f"/api/v1/evaluations/{evaluation.pk}/", {"met": "yes", "renewed": True, "referred": False}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["repurchased"], body["renewed"], body["referred"]) == (None, True, False)
    evaluation.refresh_from_db()
    assert (evaluation.repurchased, evaluation.renewed, evaluation.referred) == (None, True, False)
    back = client.patch(f"/api/v1/evaluations/{evaluation.pk}/", {"renewed": None}, format="json")
    assert back.status_code == 200 and back.json()["renewed"] is None


def test_api_refuses_a_bad_business_effect_value(evaluation: Evaluation, users: Any, api: Any) -> None:
    response = api(users["sales"]).patch(
        f"/api/v1/evaluations/{evaluation.pk}/", {"met": "yes", "repurchased": "perhaps"}, format="json"
    )
    assert response.status_code == 400 and "repurchased" in response.json().get("errors", response.json())
    evaluation.refresh_from_db()
    assert evaluation.completed_at is None

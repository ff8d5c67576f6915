"""The public Kano survey: no account, two questions, a thank-you page; closed or unknown → 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.analysis.models import KanoResponse, KanoSurvey
from needpool.analysis.services import kano_survey_create
from tests.analysis.pages.conftest import html

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(users, requirement) -> KanoSurvey:
    return kano_survey_create(
        actor=users["product_manager"],
        requirement=requirement,
        functional_question="如果支持按客户等级设置折扣，您觉得如何？",
        dysfunctional_question="如果不支持，您觉得如何？",
    )


def url(survey: KanoSurvey) -> str:
    return reverse("kano_public:answer", args=[survey.token])


def test_anonymous_visitor_sees_the_questions(client, survey, requirement):
    response = client.get(url(survey))
    assert response.status_code == 200
    page = html(response)
    assert requirement.title in page
    assert "如果支持按客户等级设置折扣，您觉得如何？" in page
    assert "如果不支持，您觉得如何？" in page
    assert page.count('type="radio" class="form-check-input" name="functional"') == 5
    assert page.count('name="dysfunctional"') == 5
    for answer in ("我喜欢", "理所当然", "无所谓", "能忍受", "我不喜欢"):
        assert answer in page
    assert "退出登录" not in page  # the public layout, no staff navigation


def test_anonymous_answer_is_recorded_and_thanked(client, survey):
    response = client.post(url(survey), {"functional": "like", "dysfunctional": "dislike", "respondent": "王总"})
    assert response.status_code == 302
    assert response["Location"] == reverse("kano_public:thanks", args=[survey.token])
    saved = KanoResponse.objects.get()
    assert (saved.survey, saved.category, saved.respondent, saved.entered_by) == (survey, "O", "王总", None)
    assert "感谢您的回答" in html(client.get(response["Location"]))


def test_a_missing_answer_is_refused_and_nothing_is_saved(client, survey):
    response = client.post(url(survey), {"functional": "like"})
    assert response.status_code == 200
    page = html(response)
    assert "请为反向问题选择一个回答" in page
    assert "未提交" in page
    assert 'value="like" id="id_functional_0" checked' in page  # the given answer stays chosen
    assert not KanoResponse.objects.exists()
    response = client.post(url(survey), {"functional": "bogus", "dysfunctional": "like"})
    assert response.status_code == 200
    assert not KanoResponse.objects.exists()


def test_closed_or_unknown_survey_is_404(client, survey):
    assert client.get(reverse("kano_public:answer", args=["no-such-token"])).status_code == 404
    KanoSurvey.objects.filter(pk=survey.pk).update(is_open=False)
    assert client.get(url(survey)).status_code == 404
    assert client.post(url(survey), {"functional": "like", "dysfunctional": "like"}).status_code == 404
    assert not KanoResponse.objects.exists()


def test_staff_pages_still_need_a_sign_in(client, requirement):
    response = client.get(reverse("analysis:requirement", args=[requirement.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]

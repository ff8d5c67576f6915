"""Nothing a person types is cut silently: a 10,000-character 5-Whys answer is refused with the limit shown
(page, htmx and API) and nothing is saved; what was typed stays in the field with a live counter. The Kano
questions and the feasibility's resources are refused the same way, never shortened."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from needpool.analysis.models import KanoSurvey, RequirementAnalysis, WhyStep
from needpool.analysis.services import MAX_WHY_LENGTH, feasibility_update, kano_survey_create, whys_set

pytestmark = pytest.mark.django_db

LONG = "很长的回答" * 2000  # 10,000 characters


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _post_whys(client, requirement, answer, **extra):
    return client.post(
        reverse("analysis:whys", args=[requirement.pk]),
        {"question": ["为什么交付慢？"], "answer": [answer], "root_cause": "供应商排期", "action": "save"},
        **extra,
    )


def test_a_long_answer_is_refused_on_the_page_with_the_limit(users, requirement):
    client = _client(users["product_manager"])
    response = _post_whys(client, requirement, LONG)
    html = response.content.decode()
    assert not WhyStep.objects.filter(requirement=requirement).exists()
    assert "已保存" not in html
    assert "10000" in html and str(MAX_WHY_LENGTH) in html  # how long it is and what the limit is
    assert LONG in html  # the text stays in the field, to be shortened


def test_a_long_answer_is_refused_over_htmx_and_the_row_is_marked(users, requirement):
    client = _client(users["product_manager"])
    response = _post_whys(client, requirement, LONG, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="whys-error"' in html and "最多 300 个字" in html and 'id="whys-saved"' not in html
    assert "why-row-invalid" in html
    assert not WhyStep.objects.filter(requirement=requirement).exists()


def test_the_editor_has_multi_line_fields_with_a_counter_and_no_cutting_maxlength(users, requirement):
    html = _client(users["product_manager"]).get(reverse("analysis:requirement", args=[requirement.pk])).content
    text = html.decode()
    editor = text[text.index('id="whys-editor"') : text.index("</form>", text.index('id="whys-editor"'))]
    assert '<textarea name="answer"' in editor and '<textarea name="root_cause"' in editor
    assert 'data-counter="300"' in editor and 'data-counter="2000"' in editor
    assert "maxlength" not in editor  # the browser would cut a paste silently
    assert "needpool/counter.js" in text


def test_an_answer_at_the_limit_is_saved_whole(users, requirement):
    answer = "因" * MAX_WHY_LENGTH
    response = _post_whys(_client(users["product_manager"]), requirement, answer)
    assert response.status_code == 302
    assert WhyStep.objects.get(requirement=requirement).answer == answer


def test_the_api_refuses_a_long_answer_with_the_limit(api, users, requirement):
    response = api(users["product_manager"]).put(
        f"/api/v1/requirements/{requirement.pk}/whys/",
        {"steps": [{"question": "为什么？", "answer": LONG}], "root_cause": "根因"},
        format="json",
    )
    assert response.status_code == 400
    assert "最多 300 个字" in str(response.json())
    assert not WhyStep.objects.filter(requirement=requirement).exists()


def test_a_long_root_cause_is_refused_with_its_length(users, requirement):
    with pytest.raises(ValidationError) as err:
        whys_set(
            actor=users["product_manager"],
            requirement=requirement,
            steps=[("为什么？", "因为。")],
            root_cause="根" * 2001,
        )
    assert "2001" in err.value.message_dict["root_cause"][0] and "2000" in err.value.message_dict["root_cause"][0]


def test_long_kano_questions_are_refused_not_cut(users, requirement):
    with pytest.raises(ValidationError) as err:
        kano_survey_create(
            actor=users["product_manager"],
            requirement=requirement,
            functional_question="正" * 301,
            dysfunctional_question="反向问题？",
        )
    assert "最多 300 个字" in err.value.message_dict["functional_question"][0]
    assert not KanoSurvey.objects.filter(requirement=requirement).exists()


def test_long_resources_are_refused_not_cut(users, requirement):
    with pytest.raises(ValidationError) as err:
        feasibility_update(actor=users["product_manager"], requirement=requirement, resources="人" * 2001)
    assert "最多 2000 个字" in err.value.message_dict["resources"][0]
    assert not RequirementAnalysis.objects.filter(requirement=requirement, resources__startswith="人").exists()

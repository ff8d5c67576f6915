"""Suggestion pages: the panel and its buttons, the customer page's interactions, the models page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from needpool.core.models import BackgroundJob
from needpool.suggest import services
from needpool.suggest.models import Outcome, Suggestion, SuggestModel

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _suggestion(feedback, field):
    return next(s for s in services.suggestions_ensure(target=feedback) if s.field == field)


# ---------------------------------------------------------------- the panel


def test_feedback_page_renders_the_panel(client, users, feedback):
    client.force_login(users["sales"])
    html = _html(client.get(reverse("suggest:feedback", args=[feedback.pk])))
    assert f'id="suggest-panel-feedback-{feedback.pk}"' in html
    assert "价格" in html and "价格咨询" in html and "置信度" in html
    assert html.count("suggest-accept") == len(Suggestion.objects.filter(feedback=feedback).exclude(value=""))
    assert "关键词规则" in html and "情感词典" in html


def test_panel_tag_renders_for_the_triage_page(rf, users, feedback):
    from django.template import Context, Template

    request = rf.get("/requirements/feedback/1/")
    request.user = users["sales"]
    html = Template("{% load suggest_tags %}{% suggestions_panel feedback %}").render(
        Context({"feedback": feedback, "request": request})
    )
    assert "suggest-panel" in html and "suggest-accept" in html
    assert 'name="next" value="/requirements/feedback/1/"' in html


def test_read_only_users_see_suggestions_without_buttons(client, users, feedback):
    client.force_login(users["viewer"])
    html = _html(client.get(reverse("suggest:feedback", args=[feedback.pk])))
    assert "价格咨询" in html and "suggest-accept" not in html and "suggest-correct" not in html


def test_feedback_page_is_not_found_for_others(client, feedback, other_sales):
    client.force_login(other_sales)
    assert client.get(reverse("suggest:feedback", args=[feedback.pk])).status_code == 404
    assert client.get(reverse("suggest:feedback", args=[999999])).status_code == 404


def test_feedback_page_query_count_is_bounded(client, users, feedback, django_assert_max_num_queries):
    client.force_login(users["sales"])
    url = reverse("suggest:feedback", args=[feedback.pk])
    client.get(url)
    with django_assert_max_num_queries(16):
        client.get(url)


# ---------------------------------------------------------------- deciding


def test_accept_with_htmx_returns_the_panel(client, users, feedback):
    s = _suggestion(feedback, "type")
    client.force_login(users["sales"])
    html = _html(client.post(reverse("suggest:decide", args=[s.pk, "accept"]), **HTMX))
    assert f'id="suggest-panel-feedback-{feedback.pk}"' in html and "已采纳" in html
    feedback.refresh_from_db()
    assert feedback.type.key == "price"


def test_correct_without_javascript_redirects_back(client, users, feedback):
    s = _suggestion(feedback, "type")
    client.force_login(users["sales"])
    back = reverse("suggest:feedback", args=[feedback.pk])
    response = client.post(reverse("suggest:decide", args=[s.pk, "correct"]), {"value": "service", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    feedback.refresh_from_db()
    assert feedback.type.key == "service"
    assert Suggestion.objects.get(pk=s.pk).outcome == Outcome.CORRECTED


def test_redirect_never_leaves_the_site(client, users, feedback):
    s = _suggestion(feedback, "type")
    client.force_login(users["sales"])
    response = client.post(reverse("suggest:decide", args=[s.pk, "reject"]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("suggest:feedback", args=[feedback.pk])


def test_bad_value_shows_the_error_in_the_panel(client, users, feedback):
    s = _suggestion(feedback, "type")
    client.force_login(users["sales"])
    html = _html(client.post(reverse("suggest:decide", args=[s.pk, "correct"]), {"value": "nope"}, **HTMX))
    assert "不存在或已停用" in html
    feedback.refresh_from_db()
    assert feedback.type_id is None and Suggestion.objects.get(pk=s.pk).outcome == Outcome.PENDING


def test_decide_permissions(client, users, feedback, other_sales):
    s = _suggestion(feedback, "type")
    url = reverse("suggest:decide", args=[s.pk, "accept"])
    client.force_login(other_sales)
    assert client.post(url).status_code == 404  # cannot see it: same as not there
    assert client.post(reverse("suggest:decide", args=[999999, "accept"])).status_code == 404
    client.force_login(users["viewer"])
    assert client.post(url).status_code == 403
    assert client.post(reverse("suggest:decide", args=[s.pk, "explode"])).status_code == 404
    client.force_login(users["sales"])
    assert client.get(url).status_code == 405
    feedback.refresh_from_db()
    assert feedback.type_id is None


# ---------------------------------------------------------------- interactions on the customer page


def test_customer_page_loads_mood_suggestions_lazily(client, users, customer, interaction):
    client.force_login(users["sales"])
    html = _html(client.get(reverse("customers:detail", args=[customer.pk])))
    placeholder = f'id="suggest-panel-interaction-{interaction.pk}"'
    assert placeholder in html and 'hx-trigger="revealed"' in html
    assert not Suggestion.objects.exists()  # nothing computed by the page itself
    url = re.search(r'hx-get="([^"]+)"', html.split(placeholder)[1]).group(1).replace("&amp;", "&")
    panel = _html(client.get(url, **HTMX))
    assert placeholder in panel and "不满" in panel and "suggest-accept" in panel
    s = Suggestion.objects.get(interaction=interaction)
    panel = _html(client.post(reverse("suggest:decide", args=[s.pk, "accept"]), **HTMX))
    assert "已采纳" in panel
    interaction.refresh_from_db()
    assert interaction.mood == "dissatisfied"


def test_interaction_panel_is_not_found_for_others(client, interaction, other_sales):
    client.force_login(other_sales)
    assert client.get(reverse("suggest:panel", args=["interaction", interaction.pk])).status_code == 404
    assert client.get(reverse("suggest:panel", args=["requirement", interaction.pk])).status_code == 404


def test_text_hint_for_a_requirement_being_typed(client, users):
    client.force_login(users["sales"])
    html = _html(client.get(reverse("suggest:text"), {"title": "希望支持批量导入客户", "description": ""}))
    assert 'data-key="bulk_operation"' in html and 'data-field="type"' in html
    assert "suggest-apply" not in _html(client.get(reverse("suggest:text"), {"title": "   "}))


# ---------------------------------------------------------------- models page and training


def test_models_page_and_retrain_now(client, users, classified_pool, django_capture_on_commit_callbacks):
    classified_pool()
    client.force_login(users["product_manager"])
    html = _html(client.get(reverse("suggest:index")))
    assert 'id="retrain"' in html and "关键词规则" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("suggest:index"))
    job = BackgroundJob.objects.get(kind=services.JOB_KIND)
    assert response["Location"] == reverse("suggest:job", args=[job.pk])
    progress = _html(client.get(reverse("suggest:job_progress", args=[job.pk])))
    assert 'data-status="done"' in progress and "100%" in progress
    html = _html(client.get(reverse("suggest:index")))
    model = SuggestModel.objects.get(kind="type")
    assert f"v{model.version}" in html and f"{model.accuracy:.3f}" in html


def test_models_page_shows_outcome_counts(client, users, feedback):
    rows = services.suggestions_ensure(target=feedback)
    services.suggestion_accept(actor=users["sales"], suggestion=rows[0])
    services.suggestion_correct(actor=users["sales"], suggestion=rows[-1], value="neutral")
    client.force_login(users["manager"])
    html = _html(client.get(reverse("suggest:index")))
    assert re.search(r'data-field="type">.*?n-accepted">1<', html, re.S)
    assert re.search(r'data-field="sentiment">.*?n-corrected">1<', html, re.S)


@pytest.mark.parametrize("role", ["sales", "service", "engineer", "viewer"])
def test_models_page_is_for_analysts_and_admins(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("suggest:index")).status_code == 403
    assert client.post(reverse("suggest:index")).status_code == 403
    assert not BackgroundJob.objects.exists()


def test_keywords_page(client, users):
    from tests.suggest.conftest import option

    tag = option("tag", "efficiency")
    client.force_login(users["product_manager"])
    html = _html(client.get(reverse("suggest:keywords")))
    assert "效率提升" in html and "<textarea" not in html
    assert client.post(reverse("suggest:keywords"), {"option": tag.pk, "keywords": "提效"}).status_code == 403
    client.force_login(users["admin"])
    assert "<textarea" in _html(client.get(reverse("suggest:keywords")))
    response = client.post(reverse("suggest:keywords"), {"option": tag.pk, "keywords": "提效, 省时"})
    assert response.status_code == 302
    assert tag.suggest_keywords.keywords == "提效 省时"
    response = client.post(reverse("suggest:keywords"), {"option": tag.pk, "keywords": "长" * 50}, follow=True)
    assert "40" in response.content.decode()
    tag.suggest_keywords.refresh_from_db()
    assert tag.suggest_keywords.keywords == "提效 省时"


def test_panel_links_to_the_models_page_for_analysts_only(client, users, feedback):
    client.force_login(users["product_manager"])
    assert 'id="suggest-models-link"' in _html(client.get(reverse("suggest:feedback", args=[feedback.pk])))
    client.force_login(users["sales"])
    assert 'id="suggest-models-link"' not in _html(client.get(reverse("suggest:feedback", args=[feedback.pk])))

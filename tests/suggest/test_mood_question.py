"""A mood / sentiment suggestion that contradicts what a person recorded is asked ("是否应为…？"), not stated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from needpool.customers.models import Interaction
from needpool.requirements.models import Feedback
from needpool.requirements.services import feedback_create
from needpool.suggest import services
from needpool.suggest.models import Outcome
from needpool.suggest.selectors import contradicts, panel_for

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
QUESTION = "是否应为“不满”？"


def _interaction_panel(client, interaction) -> str:
    response = client.get(reverse("suggest:panel", args=["interaction", interaction.pk]), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_a_guess_against_the_recorded_mood_is_a_question(client, users, interaction):
    assert interaction.mood == "neutral"  # recorded; the words say otherwise
    client.force_login(users["sales"])
    html = _interaction_panel(client, interaction)
    assert QUESTION in html and "suggest-question" in html
    assert 'class="badge bg-azure-lt suggest-value">不满<' not in html
    assert "suggest-accept" in html  # one click still takes it


def test_a_guess_that_agrees_is_stated(client, users, interaction):
    Interaction.objects.filter(pk=interaction.pk).update(mood="dissatisfied")
    client.force_login(users["sales"])
    html = _interaction_panel(client, interaction)
    assert QUESTION not in html and "suggest-question" not in html
    assert 'class="badge bg-azure-lt suggest-value">不满<' in html


def test_feedback_sentiment_without_a_recorded_one_is_stated(users, customer):
    item = feedback_create(
        actor=users["sales"], customer=customer, channel="ticket", raw_text="客服态度太差了，非常不满意"
    )
    panel = panel_for(user=users["sales"], target=item)
    sentiment = [i for row in panel.rows if row.field == "sentiment" for i in row.items]
    assert sentiment and sentiment[0].suggestion.value == "negative"
    assert not sentiment[0].question


def test_feedback_sentiment_against_the_recorded_one_is_a_question(client, users, customer):
    item = feedback_create(
        actor=users["sales"],
        customer=customer,
        channel="ticket",
        raw_text="客服态度太差了，非常不满意",
        sentiment="positive",
    )
    client.force_login(users["sales"])
    html = client.get(reverse("suggest:feedback", args=[item.pk])).content.decode()
    assert "suggest-question" in html and QUESTION in html
    assert Feedback.objects.get(pk=item.pk).sentiment == "positive"  # nothing changed by asking


def test_only_pending_mood_and_sentiment_guesses_are_questions(users, interaction):
    suggestion = services.suggestions_ensure(target=interaction)[0]
    assert contradicts(interaction, suggestion)
    suggestion.outcome = Outcome.REJECTED
    assert not contradicts(interaction, suggestion)
    suggestion.outcome = Outcome.PENDING
    suggestion.field = "type"
    assert not contradicts(interaction, suggestion)
    suggestion.field = "mood"
    suggestion.value = ""
    assert not contradicts(interaction, suggestion)

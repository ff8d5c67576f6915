"""Suggestions are kept beside their object, never applied by themselves; accept / correct / reject."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from needpool.core.models import AuditEntry
from needpool.requirements.models import Feedback
from needpool.suggest import services
from needpool.suggest.models import Outcome, Suggestion

pytestmark = pytest.mark.django_db


def _by_field(rows):
    out = {}
    for row in rows:
        out.setdefault(row.field, []).append(row)
    return out


def _audits(obj):
    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)


def test_suggestions_are_computed_once_and_kept(feedback, django_assert_max_num_queries):
    rows = services.suggestions_ensure(target=feedback)
    fields = _by_field(rows)
    assert [s.value for s in fields["type"]] == ["price"]
    assert "price_inquiry" in [s.value for s in fields["tag"]]
    assert [s.value for s in fields["sentiment"]] == ["negative"]
    assert all(s.outcome == Outcome.PENDING for s in rows)
    with django_assert_max_num_queries(2):  # the stored rows + which models are in use: nothing computed
        again = services.suggestions_ensure(target=feedback)
    assert [s.pk for s in again] == [s.pk for s in rows]


def test_changed_text_is_suggested_again(feedback):
    first = services.suggestions_ensure(target=feedback)
    Feedback.objects.filter(pk=feedback.pk).update(raw_text="系统一直报错，导出时崩溃")
    feedback.refresh_from_db()
    second = _by_field(services.suggestions_ensure(target=feedback))
    assert [s.value for s in second["type"]] == ["bug"]
    assert not Suggestion.objects.filter(pk__in=[s.pk for s in first]).exists()  # stale pending rows go


def test_nothing_to_suggest_is_stored_too(users):
    from needpool.requirements.services import feedback_create

    fb = feedback_create(actor=users["sales"], channel="ticket", raw_text="今天天气晴朗")
    rows = _by_field(services.suggestions_ensure(target=fb))
    assert [s.value for s in rows["type"]] == [""] and [s.value for s in rows["tag"]] == [""]
    assert services.suggestions_ensure(target=fb)[0].pk == rows["type"][0].pk


def test_creating_feedback_never_applies_a_suggestion(users, customer, client):
    """Nothing is set without a person: not on creation, not when the suggestions are shown."""
    from needpool.requirements.services import feedback_create

    fb = feedback_create(actor=users["sales"], customer=customer, channel="ticket", raw_text="报价太贵了，非常不满意")
    services.suggestions_ensure(target=fb)
    client.force_login(users["sales"])
    assert client.get(f"/suggest/feedback/{fb.pk}/").status_code == 200
    fb.refresh_from_db()
    assert fb.type_id is None and fb.sentiment == "" and not fb.tags.exists()
    assert Suggestion.objects.filter(feedback=fb).exists()
    assert not Suggestion.objects.filter(feedback=fb).exclude(outcome=Outcome.PENDING).exists()


def test_accept_type_sets_field_audits_and_records_outcome(feedback, users):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    decided = services.suggestion_accept(actor=users["sales"], suggestion=s)
    feedback.refresh_from_db()
    assert feedback.type.key == "price"
    assert (decided.outcome, decided.chosen, decided.decided_by) == (Outcome.ACCEPTED, "price", users["sales"])
    assert decided.decided_at is not None
    audit = _audits(feedback).get(action="update")
    assert audit.changes["type"] == ["", "价格"]
    assert "采纳" in audit.changes["suggestion"]


def test_accept_tag_adds_it(feedback, users):
    s = next(s for s in services.suggestions_ensure(target=feedback) if s.field == "tag" and s.value == "price_inquiry")
    services.suggestion_accept(actor=users["sales"], suggestion=s)
    assert [t.key for t in feedback.tags.all()] == ["price_inquiry"]
    assert _audits(feedback).get(action="update").changes["tags"] == ["", "价格咨询"]


def test_correct_sets_the_chosen_value(feedback, users):
    s = _by_field(services.suggestions_ensure(target=feedback))["sentiment"][0]
    decided = services.suggestion_correct(actor=users["service"], suggestion=s, value="neutral")
    feedback.refresh_from_db()
    assert feedback.sentiment == "neutral"
    assert (decided.outcome, decided.value, decided.chosen) == (Outcome.CORRECTED, "negative", "neutral")
    assert _audits(feedback).get(action="update").changes["sentiment"] == ["", "中性"]


def test_correct_to_the_same_value_counts_as_accepted(feedback, users):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    assert services.suggestion_correct(actor=users["sales"], suggestion=s, value="price").outcome == Outcome.ACCEPTED


def test_reject_changes_nothing(feedback, users):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    decided = services.suggestion_reject(actor=users["sales"], suggestion=s)
    feedback.refresh_from_db()
    assert decided.outcome == Outcome.REJECTED and feedback.type_id is None
    assert not _audits(feedback).filter(action="update").exists()


def test_mood_of_an_interaction(interaction, users):
    s = services.suggestions_ensure(target=interaction)
    assert [(x.field, x.value) for x in s] == [("mood", "dissatisfied")]
    services.suggestion_accept(actor=users["sales"], suggestion=s[0])
    interaction.refresh_from_db()
    assert interaction.mood == "dissatisfied"
    assert _audits(interaction).get(action="update").changes["mood"] == ["中性", "不满"]


@pytest.mark.parametrize("value", ["", "nonsense", "positive-ish"])
def test_bad_correction_writes_nothing(feedback, users, value):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    with pytest.raises(ValidationError):
        services.suggestion_correct(actor=users["sales"], suggestion=s, value=value)
    s.refresh_from_db()
    feedback.refresh_from_db()
    assert s.outcome == Outcome.PENDING and feedback.type_id is None
    assert not _audits(feedback).filter(action="update").exists()


def test_inactive_option_cannot_be_chosen(feedback, users):
    from tests.suggest.conftest import option

    service = option("type", "service")
    service.is_active = False
    service.save()
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    with pytest.raises(ValidationError):
        services.suggestion_correct(actor=users["sales"], suggestion=s, value="service")


def test_a_decided_suggestion_cannot_be_decided_again(feedback, users):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    services.suggestion_accept(actor=users["sales"], suggestion=s)
    with pytest.raises(ValidationError, match="已经处理"):
        services.suggestion_correct(actor=users["manager"], suggestion=s, value="service")
    feedback.refresh_from_db()
    assert feedback.type.key == "price"


def test_empty_suggestion_cannot_be_accepted_but_can_be_corrected(users):
    from needpool.requirements.services import feedback_create

    fb = feedback_create(actor=users["sales"], channel="ticket", raw_text="今天天气晴朗")
    empty = _by_field(services.suggestions_ensure(target=fb))["type"][0]
    with pytest.raises(ValidationError):
        services.suggestion_accept(actor=users["sales"], suggestion=empty)
    decided = services.suggestion_correct(actor=users["sales"], suggestion=empty, value="other")
    assert decided.outcome == Outcome.CORRECTED and Feedback.objects.get(pk=fb.pk).type.key == "other"


@pytest.mark.parametrize("role", ["viewer", "engineer", "compliance"])
def test_read_only_roles_cannot_decide(feedback, users, role):
    s = _by_field(services.suggestions_ensure(target=feedback))["type"][0]
    with pytest.raises(PermissionDenied):
        services.suggestion_accept(actor=users[role], suggestion=s)
    feedback.refresh_from_db()
    assert feedback.type_id is None and Suggestion.objects.get(pk=s.pk).outcome == Outcome.PENDING


def test_sales_of_another_team_cannot_decide(feedback, interaction, other_sales):
    for target in (feedback, interaction):
        s = services.suggestions_ensure(target=target)[0]
        with pytest.raises(PermissionDenied):
            services.suggestion_accept(actor=other_sales, suggestion=s)
    interaction.refresh_from_db()
    assert interaction.mood == "neutral"


def test_enough_decisions_start_a_training_run(
    feedback, users, settings, classified_pool, django_capture_on_commit_callbacks
):
    from needpool.suggest.models import SuggestModel

    settings.NEEDPOOL_SUGGEST_RETRAIN_AFTER = 2
    classified_pool()
    rows = services.suggestions_ensure(target=feedback)
    with django_capture_on_commit_callbacks(execute=True):
        services.suggestion_accept(actor=users["sales"], suggestion=rows[0])
    assert not SuggestModel.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.suggestion_accept(actor=users["sales"], suggestion=rows[1])
    assert SuggestModel.objects.filter(kind="type", version=1).exists()


def test_keywords_are_editable_by_admins(users):
    from tests.suggest.conftest import option

    tag = option("tag", "bulk_operation")
    row = services.option_keywords_set(actor=users["admin"], option=tag, keywords="批量，成批 一次处理")
    assert row.keywords == "批量 成批 一次处理"
    from needpool.suggest.engine import keyword_tables

    assert keyword_tables()["tag"]["bulk_operation"][:3] == ["批量", "成批", "一次处理"]
    assert "批量操作" in keyword_tables()["tag"]["bulk_operation"]  # the label counts too
    with pytest.raises(PermissionDenied):
        services.option_keywords_set(actor=users["product_manager"], option=tag, keywords="x")
    with pytest.raises(ValidationError):
        services.option_keywords_set(actor=users["admin"], option=option("urgency", "urgent"), keywords="x")
    with pytest.raises(ValidationError):
        services.option_keywords_set(actor=users["admin"], option=tag, keywords="长" * 41)


def test_too_few_examples_do_not_retrain_after_every_click(
    users, customer, settings, django_capture_on_commit_callbacks
):
    from needpool.core.models import BackgroundJob
    from needpool.requirements.services import feedback_create

    settings.NEEDPOOL_SUGGEST_RETRAIN_AFTER = 2
    texts = ["报价太贵了", "客服不回复", "系统报错了", "希望支持批量导入"]
    rows = [
        services.suggestions_ensure(target=feedback_create(actor=users["sales"], channel="ticket", raw_text=t))[0]
        for t in texts
    ]
    for row in rows:
        with django_capture_on_commit_callbacks(execute=True):
            services.suggestion_accept(actor=users["sales"], suggestion=row)
    # runs after the 2nd and the 4th decision only, each finding too few examples
    assert BackgroundJob.objects.filter(kind=services.JOB_KIND).count() == 2

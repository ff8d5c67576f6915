"""Which path suggests: keyword rules while examples are few, the trained model once there are enough."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from needpool.core.models import AuditEntry, BackgroundJob
from needpool.suggest import engine, services
from needpool.suggest.models import Source, SuggestModel
from tests.suggest.conftest import HELD_OUT_OBJECTS, TEMPLATES

pytestmark = pytest.mark.django_db


def test_fallback_to_rules_with_few_examples(classified_pool):
    classified_pool(per_type=5)  # 5 per type: below the default minimum of 20
    results = services.models_train(force=True)
    assert results == {"type": "too_few", "tag": "too_few", "sentiment": "too_few"}
    assert not SuggestModel.objects.exists()
    found = engine.predict_text("你们的报价太贵了，续费能打折吗")
    assert [(p.value, p.source) for p in found["type"]] == [("price", Source.RULES)]
    assert "price_inquiry" in {p.value for p in found["tag"]}
    assert found["sentiment"][0].source == Source.LEXICON
    assert found["sentiment"][0].value == "negative"


def test_fallback_when_only_one_class_has_enough(classified_pool, settings):
    settings.NEEDPOOL_SUGGEST_MIN_PER_CLASS = 30
    classified_pool()  # 45 per type ...
    from needpool.requirements.models import Requirement

    Requirement.objects.exclude(type__key="price").filter(pk__in=Requirement.objects.values("pk")[:160]).delete()
    assert services.models_train(kinds=("type",), force=True)["type"] == "too_few"


def test_learned_model_with_enough_examples(classified_pool):
    n = classified_pool()
    assert n == 4 * 45
    results = services.models_train(force=True)
    model = results["type"]
    assert isinstance(model, SuggestModel)
    assert model.version == 1 and model.is_active
    assert model.samples == n and model.test_samples == 36
    assert model.accuracy is not None and model.accuracy >= model.baseline_accuracy
    assert model.accuracy > 0.9
    assert sorted(model.labels) == sorted(TEMPLATES)
    assert len(bytes(model.blob)) > 1000
    tag_model = results["tag"]
    assert isinstance(tag_model, SuggestModel) and set(tag_model.labels) == {
        "price_inquiry",
        "service_complaint",
        "feature_suggestion",
        "bulk_operation",
    }
    # Held-out objects the model never saw, phrased like the examples:
    for key, (templates, tag_keys) in TEMPLATES.items():
        for obj in HELD_OUT_OBJECTS:
            found = engine.predict_text(templates[0].format(obj=obj))
            assert found["type"][0].source == Source.MODEL
            assert found["type"][0].model_version == 1
            assert found["type"][0].value == key, (obj, key, found["type"])
            assert 0 < found["type"][0].confidence <= 1
            if tag_keys:
                assert set(tag_keys) & {p.value for p in found["tag"]}


def test_a_model_worse_than_the_rules_is_not_used(classified_pool, monkeypatch):
    from needpool.suggest import training

    classified_pool()
    scores = iter([0.5, 0.9])  # the model is scored first, then the rules on the same held-out part
    monkeypatch.setattr(training, "accuracy", lambda gold, predicted: next(scores))
    model = services.models_train(kinds=("type",), force=True)["type"]
    assert isinstance(model, SuggestModel) and not model.is_active
    assert engine.predict_text("报价太贵")["type"][0].source == Source.RULES


def test_new_version_replaces_the_old_and_old_blobs_are_dropped(classified_pool, settings):
    classified_pool()
    for _ in range(4):
        services.models_train(kinds=("type",), force=True)
    versions = list(SuggestModel.objects.filter(kind="type").order_by("version"))
    assert [m.version for m in versions] == [1, 2, 3, 4]
    assert [m.is_active for m in versions] == [False, False, False, True]
    assert bytes(versions[0].blob) == b"" and bytes(versions[-1].blob) != b""


def test_unchanged_data_is_not_trained_again(classified_pool):
    classified_pool()
    services.models_train(kinds=("type",))
    assert services.models_train(kinds=("type",)) == {"type": "unchanged"}
    assert SuggestModel.objects.filter(kind="type").count() == 1


def test_sentiment_learns_from_labelled_feedback(sentiment_pool):
    sentiment_pool(40)
    model = services.models_train(kinds=("sentiment",), force=True)["sentiment"]
    assert isinstance(model, SuggestModel) and sorted(model.labels) == ["negative", "neutral", "positive"]
    if model.is_active:
        assert engine.predict_text("报销单非常好用，很满意")["sentiment"][0].source == Source.MODEL
    assert engine.predict_text("报销单非常好用，很满意")["sentiment"][0].value == "positive"


def test_training_job_records_progress_and_model(classified_pool, users, django_capture_on_commit_callbacks):
    classified_pool()
    with django_capture_on_commit_callbacks(execute=True):
        job = services.training_start(actor=users["product_manager"])  # the job runs at once in tests
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.DONE and job.done == job.total == 3
    assert "v1" in job.message
    model = SuggestModel.objects.get(kind="type")
    assert model.job_id == job.pk and model.trained_by == users["product_manager"]
    assert AuditEntry.objects.filter(object_id=model.pk, action="create").exists()


def test_only_analysts_and_admins_may_train(users):
    from django.core.exceptions import PermissionDenied

    for role in ("sales", "service", "engineer", "viewer"):
        with pytest.raises(PermissionDenied):
            services.training_start(actor=users[role])
    assert not BackgroundJob.objects.filter(kind=services.JOB_KIND).exists()


def test_command_trains(classified_pool, capsys):
    classified_pool()
    call_command("suggest_train", "--kind", "type")
    out = capsys.readouterr().out
    assert "type: v1" in out and "held-out" in out
    call_command("suggest_train", "--kind", "type", "--if-changed")
    assert "data unchanged" in capsys.readouterr().out


def test_model_loads_from_the_database_in_another_process(classified_pool):
    """A process that did not train (empty in-process cache) reads the version from the database."""
    classified_pool()
    services.models_train(kinds=("type",), force=True)
    engine.forget_models()
    found = engine.predict_text("请问营销活动续费的报价是多少")["type"][0]
    assert (found.source, found.value) == (Source.MODEL, "price")

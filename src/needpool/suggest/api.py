"""REST API of the suggestions (mounted under /api/v1/ before the router).

- ``feedback/{id}/suggestions/`` GET: the suggestions for a feedback item (computed when missing);
  ``feedback/{id}/suggestions/{sid}/accept/`` POST, ``…/correct/`` POST ``{"value"}``, ``…/reject/`` POST
- ``interactions/{id}/suggestions/`` and its ``accept`` / ``correct`` / ``reject`` (the mood)
- ``suggest/`` POST ``{"text"}``: suggested type, tags and sentiment for free text (nothing stored)
- ``suggest/models/`` GET: the models per kind; ``suggest/train/`` POST: retrain now (a job);
  ``suggest/jobs/{id}/`` GET: its progress

A feedback item / interaction the caller cannot see is 404; deciding needs the right to write it (403).
Bad values are 400 ``{"value": ["…"]}`` with nothing written.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.core.models import BackgroundJob
from needpool.core.validation import BoundedModelSerializer
from needpool.suggest import permissions, selectors, services
from needpool.suggest.models import ModelKind, Outcome, Source, SuggestField, Suggestion, SuggestModel
from needpool.suggest.permissions import acting_user

TAGS = ["suggestions"]
TEXT_LIMIT = 5000


class SuggestionSerializer(BoundedModelSerializer):
    """One suggestion: ``value`` is an option key (type, tag) or a choice (sentiment, mood); empty = none."""

    field = serializers.ChoiceField(SuggestField.choices, read_only=True)
    source = serializers.ChoiceField(Source.choices, read_only=True)  # type: ignore[assignment]
    outcome = serializers.ChoiceField(Outcome.choices, read_only=True)
    label = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "field",
            "value",
            "label",
            "confidence",
            "source",
            "model_version",
            "outcome",
            "chosen",
            "decided_at",
        ]
        read_only_fields = fields

    def get_label(self, obj: Suggestion) -> str:
        labels = self.context.get("labels") or field_labels([obj.field])
        return str(labels.get(obj.field, {}).get(obj.value, obj.value))


class CorrectSerializer(serializers.Serializer):
    value = serializers.CharField(max_length=40, help_text=gettext_lazy("正确的值：选项的键（类型、标签）或情绪值"))


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=TEXT_LIMIT, trim_whitespace=True)


class PredictionSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    confidence = serializers.FloatField()
    source = serializers.ChoiceField(Source.choices)  # type: ignore[assignment]
    model_version = serializers.IntegerField()


class TextSuggestionsSerializer(serializers.Serializer):
    type = PredictionSerializer(allow_null=True)
    tags = PredictionSerializer(many=True)
    sentiment = PredictionSerializer()


class ModelSerializer(BoundedModelSerializer):
    kind = serializers.ChoiceField(ModelKind.choices, read_only=True)

    class Meta:
        model = SuggestModel
        fields = [
            "id",
            "kind",
            "version",
            "samples",
            "test_samples",
            "labels",
            "accuracy",
            "baseline_accuracy",
            "is_active",
            "trained_at",
        ]
        read_only_fields = fields


class TrainingJobSerializer(BoundedModelSerializer):
    status = serializers.ChoiceField(BackgroundJob.Status.choices, read_only=True)
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = BackgroundJob
        fields = ["id", "kind", "status", "total", "done", "percent", "message", "created_at", "finished_at"]
        read_only_fields = fields


# ---------------------------------------------------------------- per object


def field_labels(fields: Any) -> dict[str, dict[str, str]]:
    """Display labels of each field's values (one query per option field, not one per suggestion)."""
    return {field: dict(services.field_choices(field)) for field in set(fields)}


def _target(kind: str, user: Any, pk: int) -> services.Target:
    if kind == "feedback":
        return selectors.feedback_get(user=user, pk=pk)
    return selectors.interaction_get(user=user, pk=pk)


class TargetSuggestionsView(APIView):
    kind = "feedback"

    @extend_schema(tags=TAGS, responses=SuggestionSerializer(many=True))
    def get(self, request: Request, id: int) -> Response:
        """The current suggestions (computed on first request, then kept); never applied by themselves."""
        target = _target(self.kind, request.user, id)
        rows = services.suggestions_ensure(target=target)
        context = {"request": request, "labels": field_labels(r.field for r in rows)}
        return Response(SuggestionSerializer(rows, many=True, context=context).data)


class DecideView(APIView):
    kind = "feedback"
    action = "accept"

    def _decide(self, request: Request, id: int, sid: int, value: str = "") -> Response:
        lookup = {"feedback_id": id} if self.kind == "feedback" else {"interaction_id": id}
        suggestion = selectors.suggestion_get(user=acting_user(request.user), pk=sid, **lookup)
        if not permissions.can_decide(request.user, suggestion):
            raise exceptions.PermissionDenied()
        if self.action == "accept":
            decided = services.suggestion_accept(actor=acting_user(request.user), suggestion=suggestion)
        elif self.action == "correct":
            decided = services.suggestion_correct(actor=acting_user(request.user), suggestion=suggestion, value=value)
        else:
            decided = services.suggestion_reject(actor=acting_user(request.user), suggestion=suggestion)
        return Response(SuggestionSerializer(decided, context={"request": request}).data)


class AcceptView(DecideView):
    @extend_schema(tags=TAGS, request=None, responses=SuggestionSerializer)
    def post(self, request: Request, id: int, sid: int) -> Response:
        """Set the suggested value on the object and record the acceptance."""
        return self._decide(request, id, sid)


class CorrectView(DecideView):
    action = "correct"

    @extend_schema(tags=TAGS, request=CorrectSerializer, responses=SuggestionSerializer)
    def post(self, request: Request, id: int, sid: int) -> Response:
        """Set another value and record the correction (training data for the next run)."""
        data = CorrectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._decide(request, id, sid, value=data.validated_data["value"])


class RejectView(DecideView):
    action = "reject"

    @extend_schema(tags=TAGS, request=None, responses=SuggestionSerializer)
    def post(self, request: Request, id: int, sid: int) -> Response:
        """Dismiss the suggestion; nothing on the object changes."""
        return self._decide(request, id, sid)


# ---------------------------------------------------------------- free text, models, training


class TextSuggestView(APIView):
    @extend_schema(tags=TAGS, request=TextSerializer, responses=TextSuggestionsSerializer)
    def post(self, request: Request) -> Response:
        """Suggested type, tags and sentiment for a text, with confidences (nothing is stored)."""
        data = TextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = selectors.text_suggestions(data.validated_data["text"])
        labels = field_labels(("type", "tag", "sentiment"))

        def out(p: Any, field: str) -> dict[str, Any]:
            return {
                "value": p.value,
                "label": labels[field].get(p.value, p.value),
                "confidence": p.confidence,
                "source": p.source,
                "model_version": p.model_version,
            }

        body = {
            "type": out(found["type"][0], "type") if found["type"] else None,
            "tags": [out(p, "tag") for p in found["tag"]],
            "sentiment": out(found["sentiment"][0], "sentiment"),
        }
        return Response(TextSuggestionsSerializer(body).data)


class ModelsView(APIView):
    @extend_schema(tags=TAGS, responses=ModelSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The newest models of each kind (``is_active``: in use; otherwise the rules are)."""
        if not permissions.can_view_models(request.user):
            raise exceptions.PermissionDenied()
        rows = [m for summary in selectors.models_overview() for m in summary.history]
        return Response(ModelSerializer(rows, many=True).data)


class TrainView(APIView):
    @extend_schema(
        tags=TAGS, request=None, responses={202: OpenApiResponse(TrainingJobSerializer, description="the queued job")}
    )
    def post(self, request: Request) -> Response:
        """Retrain now (administrators, managers, product managers): a background job."""
        job = services.training_start(actor=acting_user(request.user))
        job.refresh_from_db()
        return Response(TrainingJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class TrainingJobView(APIView):
    @extend_schema(tags=TAGS, responses=TrainingJobSerializer)
    def get(self, request: Request, id: int) -> Response:
        """A training job's progress."""
        return Response(TrainingJobSerializer(selectors.job_get(user=acting_user(request.user), pk=id)).data)


def _routes(prefix: str, kind: str, name: str) -> list[URLPattern | URLResolver]:
    return [
        path(f"{prefix}/<id:id>/suggestions/", TargetSuggestionsView.as_view(kind=kind), name=f"{name}-suggestions"),
        path(
            f"{prefix}/<id:id>/suggestions/<id:sid>/accept/",
            AcceptView.as_view(kind=kind),
            name=f"{name}-suggestion-accept",
        ),
        path(
            f"{prefix}/<id:id>/suggestions/<id:sid>/correct/",
            CorrectView.as_view(kind=kind),
            name=f"{name}-suggestion-correct",
        ),
        path(
            f"{prefix}/<id:id>/suggestions/<id:sid>/reject/",
            RejectView.as_view(kind=kind),
            name=f"{name}-suggestion-reject",
        ),
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    *_routes("feedback", "feedback", "feedback"),
    *_routes("interactions", "interaction", "interaction"),
    path("suggest/", TextSuggestView.as_view(), name="suggest-text"),
    path("suggest/models/", ModelsView.as_view(), name="suggest-models"),
    path("suggest/train/", TrainView.as_view(), name="suggest-train"),
    path("suggest/jobs/<id:id>/", TrainingJobView.as_view(), name="suggest-job"),
]

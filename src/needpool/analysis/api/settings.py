"""The priority model's settings over the API, and the recompute job a change starts."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.analysis import permissions, selectors, services
from needpool.analysis.api.common import TAGS, EnumChoiceField, RejectUnknownFields, model_field
from needpool.analysis.models import AnalysisSettings
from needpool.analysis.permissions import acting_user
from needpool.core.api import deny_unless
from needpool.core.models import BackgroundJob
from needpool.core.validation import BoundedModelSerializer


class JobSerializer(BoundedModelSerializer):
    """A background job's progress (e.g. recomputing every priority after a model change)."""

    status = EnumChoiceField(BackgroundJob.Status.choices, enum_name="JobStatusEnum", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundJob
        fields = ["id", "url", "kind", "status", "total", "done", "percent", "message", "created_at", "finished_at"]
        read_only_fields = fields

    def get_url(self, obj: BackgroundJob) -> str:
        path = reverse("analysis-job", kwargs={"id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=40)
    label = serializers.CharField(max_length=60, required=False, allow_blank=True)  # type: ignore[assignment]
    weight = serializers.FloatField()


class SettingsSerializer(BoundedModelSerializer):
    """The active priority model and its parameters, and the recompute job a change started (else ``null``)."""

    active_model = model_field(read_only=True)
    active_model_label = serializers.CharField(source="get_active_model_display", read_only=True)
    weights_3d = serializers.DictField(child=serializers.FloatField(), read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    thresholds = serializers.DictField(child=serializers.ListField(child=serializers.FloatField()), read_only=True)
    job = serializers.SerializerMethodField()

    class Meta:
        model = AnalysisSettings
        fields = [
            "active_model",
            "active_model_label",
            "matrix_cutoff",
            "weights_3d",
            "criteria",
            "thresholds",
            "require_whys_for_review",
            "version",
            "job",
        ]
        read_only_fields = fields

    @extend_schema_field(JobSerializer(allow_null=True))
    def get_job(self, obj: AnalysisSettings) -> dict[str, Any] | None:
        job = self.context.get("job")
        return JobSerializer(job, context=self.context).data if job is not None else None


class SettingsInputSerializer(RejectUnknownFields, serializers.Serializer):
    """Send only what changes. Anything but ``require_whys_for_review`` recomputes every priority:
    inline for a small pool, else as a background job whose progress the response links to."""

    active_model = model_field(required=False)
    matrix_cutoff = serializers.IntegerField(required=False, help_text=gettext_lazy("矩阵高低分界，1–5"))
    weights_3d = serializers.DictField(
        child=serializers.FloatField(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("三维模型权重：importance、urgency、cost，不能为负，总和大于 0（空则 40/40/20）"),
    )
    criteria = CriterionSerializer(
        many=True, required=False, help_text=gettext_lazy("加权评分的维度：不重复的键与权重，权重总和大于 0")
    )
    thresholds = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField()),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("模型（matrix_3d、value_cost、weighted、rice）→ [P0、P1、P2 的最低分]，从高到低"),
    )
    require_whys_for_review = serializers.BooleanField(required=False)


def settings_response(request: Request, config: AnalysisSettings, job: BackgroundJob | None) -> Response:
    context = {"request": request, "job": job}
    return Response(SettingsSerializer(config, context=context).data)


@extend_schema(tags=TAGS)
class AnalysisSettingsView(APIView):
    """The priority model in use (GET, everyone); change it (PATCH, product manager and above)."""

    @extend_schema(responses=SettingsSerializer)
    def get(self, request: Request) -> Response:
        return settings_response(
            request, services.analysis_settings(), selectors.job_current(user=acting_user(request.user))
        )

    @extend_schema(request=SettingsInputSerializer, responses=SettingsSerializer)
    def patch(self, request: Request) -> Response:
        deny_unless(permissions.can_change_settings(request.user), _("只有产品经理及以上角色可以修改优先级模型。"))
        serializer = SettingsInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "criteria" in data:
            data["criteria"] = [dict(criterion) for criterion in data["criteria"]]
        config, job = services.analysis_settings_update(actor=acting_user(request.user), **data)
        if job is not None:
            job = selectors.job_get(user=acting_user(request.user), pk=job.pk)  # progress as it stands after the commit
        return settings_response(request, config, job)


@extend_schema(tags=TAGS)
class JobView(APIView):
    @extend_schema(responses=JobSerializer)
    def get(self, request: Request, id: int) -> Response:
        """Progress of a priority recompute: its creator and analysts may watch it."""
        job = selectors.job_get(user=acting_user(request.user), pk=id)
        return Response(JobSerializer(job, context={"request": request}).data)

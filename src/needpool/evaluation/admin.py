from django.contrib import admin

from needpool.evaluation.models import Evaluation, EvaluationSettings


@admin.register(Evaluation)
class EvaluationAdmin(admin.ModelAdmin):
    list_display = ("id", "requirement", "owner", "due_date", "met", "completed_at")
    list_filter = ("met",)
    raw_id_fields = ("requirement", "launch", "owner", "completed_by")


@admin.register(EvaluationSettings)
class EvaluationSettingsAdmin(admin.ModelAdmin):
    list_display = ("delay_days", "updated_at")

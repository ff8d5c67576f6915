from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from needpool.suggest.models import OptionKeywords, Suggestion, SuggestModel


@admin.register(SuggestModel)
class SuggestModelAdmin(admin.ModelAdmin):
    list_display = ("kind", "version", "samples", "accuracy", "baseline_accuracy", "is_active", "trained_at")
    list_filter = ("kind", "is_active")
    exclude = ("blob",)
    readonly_fields = (
        "kind",
        "version",
        "samples",
        "test_samples",
        "labels",
        "accuracy",
        "baseline_accuracy",
        "metrics",
        "trained_at",
        "trained_by",
        "job",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OptionKeywords)
class OptionKeywordsAdmin(admin.ModelAdmin):
    list_display = ("option", "keywords", "updated_at")
    list_select_related = ("option",)
    readonly_fields = ("updated_at", "updated_by")


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("id", "field", "value", "confidence", "source", "model_version", "outcome", "chosen", "decided_at")
    list_filter = ("field", "outcome", "source")
    raw_id_fields = ("feedback", "interaction", "decided_by")
    readonly_fields = ("created_at",)

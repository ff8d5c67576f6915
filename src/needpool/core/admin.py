from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from needpool.core.codes import CodePatternError, validate_pattern
from needpool.core.models import AuditEntry, SiteConfig


class SiteConfigForm(forms.ModelForm):
    class Meta:
        model = SiteConfig
        fields = (
            "requirement_code_pattern",
            "active_workflow",
            "personal_email_domains",
            "interaction_late_hours",
            "value_tier_high",
            "value_tier_medium",
        )

    def clean_requirement_code_pattern(self) -> str:
        pattern: str = self.cleaned_data["requirement_code_pattern"]
        try:
            validate_pattern(pattern)
        except CodePatternError as exc:
            raise ValidationError(str(exc)) from exc
        return pattern


@admin.register(SiteConfig)
class SiteConfigAdmin(admin.ModelAdmin):
    """The site settings row; the active flow and the code pattern change through their services (audited)."""

    form = SiteConfigForm
    list_display = ("__str__", "requirement_code_pattern", "active_workflow")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: SiteConfig, form: Any, change: bool) -> None:
        from needpool.requirements.services import code_pattern_set, workflow_activate

        stored = SiteConfig.objects.filter(pk=obj.pk).first() if change else None
        if stored is not None:
            obj.requirement_code_pattern = stored.requirement_code_pattern
            obj.active_workflow = stored.active_workflow
        super().save_model(request, obj, form, change)
        code_pattern_set(actor=request.user, pattern=form.cleaned_data["requirement_code_pattern"])
        if form.cleaned_data.get("active_workflow") is not None:
            workflow_activate(actor=request.user, workflow=form.cleaned_data["active_workflow"])


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "content_type", "object_repr")
    list_filter = ("action", "content_type")
    search_fields = ("object_repr",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

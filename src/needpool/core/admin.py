from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from needpool.core.codes import CodePatternError, validate_pattern
from needpool.core.models import AuditEntry, SiteConfig
from needpool.core.services import SITE_CONFIG_FIELDS, site_config_update


class SiteConfigForm(forms.ModelForm):
    class Meta:
        model = SiteConfig
        fields = SITE_CONFIG_FIELDS

    def _clean_pattern(self, name: str) -> str:
        pattern: str = self.cleaned_data[name]
        try:
            validate_pattern(pattern)
        except CodePatternError as exc:
            raise ValidationError(str(exc)) from exc
        return pattern

    def clean_requirement_code_pattern(self) -> str:
        return self._clean_pattern("requirement_code_pattern")

    def clean_customer_code_pattern(self) -> str:
        return self._clean_pattern("customer_code_pattern")


@admin.register(SiteConfig)
class SiteConfigAdmin(admin.ModelAdmin):
    """The site settings row, changed through its service (audited). The active flow is set on 状态流程."""

    form = SiteConfigForm
    list_display = ("__str__", "requirement_code_pattern", "customer_code_pattern")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SiteConfig.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: Any, obj: SiteConfig, form: Any, change: bool) -> None:
        site_config_update(actor=request.user, **{name: form.cleaned_data[name] for name in SITE_CONFIG_FIELDS})


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

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import Team, User
from needpool.accounts.services import user_unbind_sso


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "role", "team", "is_active", "last_login")
    list_filter = ("role", "team", "is_active")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("需求池"), {"fields": ("role", "team", "display_name")}),
        (_("单点登录"), {"fields": ("oidc_issuer", "oidc_subject")}),
    )
    readonly_fields = ("oidc_issuer", "oidc_subject")
    actions = ["unbind_sso"]
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("需求池"), {"fields": ("role", "team", "display_name")}),
    )

    @admin.action(description=_("清除单点登录绑定"))
    def unbind_sso(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            user_unbind_sso(actor=request.user, user=user)  # type: ignore[arg-type]
        messages.success(request, _("已清除所选用户的单点登录绑定。"))


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "lead")
    search_fields = ("name",)

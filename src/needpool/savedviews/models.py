"""A saved view: the filters and sort of one list, under a name, private or shared with the owner's team."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

NAME_MAX_LENGTH = 60
QUERY_MAX_LENGTH = 1000


class ListKind(models.TextChoices):
    REQUIREMENTS = "requirements", _("需求列表")
    FEEDBACK = "feedback", _("反馈收件箱")
    CUSTOMERS = "customers", _("客户列表")


class Visibility(models.TextChoices):
    PRIVATE = "private", _("仅自己")
    TEAM = "team", _("团队共享")


class SavedView(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("所有者")
    )
    kind = models.CharField(_("列表"), max_length=20, choices=ListKind.choices)
    name = models.CharField(_("名称"), max_length=NAME_MAX_LENGTH)
    query = models.CharField(_("筛选与排序"), max_length=QUERY_MAX_LENGTH, blank=True)
    visibility = models.CharField(_("可见范围"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE)
    #: the team a shared view is shared with: the owner's team when it was shared
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("团队")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("保存的视图")
        verbose_name_plural = _("保存的视图")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "name"], name="savedview_unique_name"),
            models.CheckConstraint(
                condition=models.Q(visibility="private") | models.Q(team__isnull=False), name="savedview_team_shared"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DefaultView(models.Model):
    """The view a user's list opens with when its address carries no filters (one per user and list)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("列表"), max_length=20, choices=ListKind.choices)
    view = models.ForeignKey(SavedView, on_delete=models.CASCADE, related_name="defaults")

    class Meta:
        verbose_name = _("默认视图")
        verbose_name_plural = _("默认视图")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="defaultview_one_per_list")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}"

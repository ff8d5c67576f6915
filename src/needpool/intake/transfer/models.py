"""What the import remembers between uploads: how a layout's unknown values were mapped last time."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportValueMapping(models.Model):
    """One value of one column of a layout (e.g. 需求来源 “客户访谈”) and the action chosen for it."""

    layout = models.CharField(_("表格类型"), max_length=20)
    column = models.CharField(_("列"), max_length=40)
    value_key = models.CharField(_("值"), max_length=200)
    value = models.CharField(_("表中写法"), max_length=200, blank=True)
    action = models.CharField(_("处理方式"), max_length=20)
    target = models.CharField(_("对应到"), max_length=64, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        app_label = "intake"
        verbose_name = _("导入值对应")
        verbose_name_plural = _("导入值对应")
        constraints = [
            models.UniqueConstraint(fields=["layout", "column", "value_key"], name="importvaluemapping_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.layout}.{self.column}: {self.value} → {self.action} {self.target}"

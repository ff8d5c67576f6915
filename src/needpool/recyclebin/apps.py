from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecycleBinConfig(AppConfig):
    name = "needpool.recyclebin"
    label = "recyclebin"
    verbose_name = _("回收站")

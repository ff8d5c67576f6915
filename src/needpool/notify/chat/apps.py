from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "needpool.notify.chat"
    label = "notify_chat"
    verbose_name = _("群机器人")

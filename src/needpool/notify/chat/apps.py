from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "needpool.notify.chat"
    label = "notify_chat"
    verbose_name = _("群机器人")

    def ready(self) -> None:
        from needpool.notify.chat.services import chat_send, im_send, route_targets
        from needpool.notify.registry import register_sender, register_target_source

        register_target_source("chat", route_targets)
        register_sender("chat", chat_send)
        register_sender("im", im_send)

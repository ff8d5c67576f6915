from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "needpool.notify.webhooks"
    label = "notify_webhooks"
    verbose_name = _("Webhook")

    def ready(self) -> None:
        from needpool.notify.registry import register_sender, register_target_source
        from needpool.notify.webhooks.sending import webhook_send, webhook_targets

        register_target_source("webhooks", webhook_targets)
        register_sender("webhook", webhook_send)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "needpool.notify.webhooks"
    label = "notify_webhooks"
    verbose_name = _("Webhook")

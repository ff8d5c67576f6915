from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliveryConfig(AppConfig):
    name = "needpool.delivery"
    label = "delivery"
    verbose_name = _("计划与交付")

    def ready(self) -> None:
        from needpool.delivery import lifecycle

        lifecycle.register()

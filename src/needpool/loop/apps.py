from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoopConfig(AppConfig):
    name = "needpool.loop"
    label = "loop"
    verbose_name = _("客户闭环")

    def ready(self) -> None:
        from needpool.loop import lifecycle

        lifecycle.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoopConfig(AppConfig):
    name = "needpool.loop"
    label = "loop"
    verbose_name = _("客户闭环")

    def ready(self) -> None:
        from needpool.customers.personal_data import register_personal_data_holder
        from needpool.loop import lifecycle
        from needpool.loop.personal_data import HOLDER

        lifecycle.register()
        # Notices and survey answers take part in a contact's personal-data copy and erasure (PIPL).
        register_personal_data_holder(HOLDER)

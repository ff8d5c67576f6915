from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "needpool.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from needpool.core import messages
        from needpool.core.validation import IdConverter

        # Every form's default messages name the field and the rule (needpool.core.messages).
        messages.install()

        # ``<id:pk>`` in every app's routes: an id beyond what the database stores is a 404, not a 500.
        register_converter(IdConverter, "id")

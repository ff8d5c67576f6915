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

        # The tokenizer's dictionary loads when a process starts, not on the first search or create.
        from needpool.core.warmup import register_warmup

        register_warmup("jieba", _load_jieba)


def _load_jieba() -> None:
    import jieba

    jieba.initialize()

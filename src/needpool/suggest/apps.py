from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuggestConfig(AppConfig):
    name = "needpool.suggest"
    label = "suggest"
    verbose_name = _("智能建议")

    def ready(self) -> None:
        # The learned models and the keyword tables load when a process starts, not on the first suggestion.
        from needpool.core.warmup import register_warmup

        register_warmup("suggestions", _warm_suggestions)


def _warm_suggestions() -> None:
    from needpool.suggest.engine import predict_text

    predict_text("希望增加批量导出功能")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "needpool.evaluation"
    label = "evaluation"
    verbose_name = _("效果评估")

    def ready(self) -> None:
        from needpool.evaluation import lifecycle

        lifecycle.register()

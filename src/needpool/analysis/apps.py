from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalysisConfig(AppConfig):
    name = "needpool.analysis"
    label = "analysis"
    verbose_name = _("需求分析")

    def ready(self) -> None:
        from needpool.analysis import lifecycle, list_filters

        lifecycle.register()
        list_filters.register()  # the requirement list's ``project`` parameter

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "needpool.reports"
    label = "reports"
    verbose_name = _("报表")

    def ready(self) -> None:
        # The job worker discovers modules named ``tasks``; the monthly mail lives beside the review it sends.
        from needpool.reports import monthly_tasks, snapshot_tasks  # noqa: F401

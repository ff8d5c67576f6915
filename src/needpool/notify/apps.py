from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "needpool.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        # The job worker discovers modules named ``tasks``; the built-in senders register themselves.
        from needpool.notify import senders, tasks  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequirementsConfig(AppConfig):
    name = "needpool.requirements"
    label = "requirements"
    verbose_name = _("需求池")

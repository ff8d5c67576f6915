from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewsConfig(AppConfig):
    name = "needpool.reviews"
    label = "reviews"
    verbose_name = _("需求评审")

    def ready(self) -> None:
        from needpool.reviews import lifecycle

        lifecycle.register()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "needpool.intake"
    label = "intake"
    verbose_name = _("需求收集")

    def ready(self) -> None:
        # Portal and channel submissions take part in a contact's personal-data copy and erasure (PIPL).
        from needpool.customers.personal_data import register_personal_data_holder
        from needpool.intake.personal_data import HOLDER

        register_personal_data_holder(HOLDER)
        # Mails that came in by feedback-by-mail take part too.
        from needpool.intake.mailin.personal_data import HOLDER as MAIL_HOLDER

        register_personal_data_holder(MAIL_HOLDER)
        # A rejection's reason shows on the portal tracking page of the submissions behind the requirement.
        from needpool.intake.portal.services import portal_tell_decision
        from needpool.requirements import lifecycle

        lifecycle.register_status_listener("intake_portal_decision", portal_tell_decision)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequirementsConfig(AppConfig):
    name = "needpool.requirements"
    label = "requirements"
    verbose_name = _("需求池")

    def ready(self) -> None:
        from needpool.customers.events import on_value_tier_changed
        from needpool.requirements.tasks import refresh_customer_value_after_commit

        # A customer's new value tier becomes its requirements' customer value (after commit, as a job).
        on_value_tier_changed(refresh_customer_value_after_commit)
        # Feedback takes part in a contact's personal-data copy and erasure (PIPL).
        from needpool.customers.personal_data import register_personal_data_holder
        from needpool.requirements.personal_data import HOLDER

        register_personal_data_holder(HOLDER)
        # The classification rule version a requirement was classified under, on its page.
        from needpool.requirements.classification.section import register as register_rule_section

        register_rule_section()
        # A starting process builds the duplicate index and loads the sentence encoder before taking traffic.
        from needpool.core.warmup import register_warmup

        register_warmup("duplicate index", _warm_duplicate_index)


def _warm_duplicate_index() -> None:
    from needpool.requirements.dedup.index import get_index
    from needpool.requirements.dedup.store import _foreground, embeddings_enabled

    get_index().ensure_fresh()
    if embeddings_enabled():
        _foreground.encode(["预热"])

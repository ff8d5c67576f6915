"""Options, users, choices and statuses, loaded once per run and shared by every row."""

from __future__ import annotations

from needpool.accounts.models import User
from needpool.customers.choices import FollowStatus, InteractionChannel
from needpool.intake.transfer.imports.handlers.common import (
    FOLLOW_SYNONYMS,
    INTERACTION_SYNONYMS,
    NEED_PRIORITY,
    URGENCY_SYNONYMS,
)
from needpool.intake.transfer.imports.values import (
    Lookup,
    choice_lookup,
)
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.models import ClassOption, WorkflowStatus

IGNORE = "__ignore__"  # what a lookup finds for a value mapped to "leave empty" in the mapping step
CREATE = "__create__"  # a customer alias for a name mapped to "create it"


class Lookups:
    """Options, users, choices and statuses, loaded once per run (none of them is created by an import)."""

    def __init__(self) -> None:
        self.options: dict[int, ClassOption] = {}
        self.by_dimension: dict[str, Lookup] = {}
        for option in ClassOption.objects.all():
            self.options[option.pk] = option
            lookup = self.by_dimension.setdefault(option.dimension, Lookup())
            for name in (option.label, option.label_en, option.key):
                lookup.add(name, option.pk)
            if option.dimension == Dimension.TYPE and not option.label.endswith("需求"):
                lookup.add(option.label + "需求", option.pk)  # 功能需求, 体验需求 (management sheet wording)
        urgency = self.by_dimension.setdefault(Dimension.URGENCY, Lookup())
        for key, names in URGENCY_SYNONYMS.items():
            found = [pk for pk, o in self.options.items() if o.dimension == Dimension.URGENCY and o.key == key]
            for name in names:
                for pk in found:
                    urgency.add(name, pk)
        self.users = Lookup()
        for user in User.objects.filter(is_active=True):
            for name in (
                user.username,
                str(user),
                user.display_name,
                user.get_full_name(),
                f"{user} ({user.username})",
            ):
                self.users.add(name, user.pk)
        self.user_objects = {u.pk: u for u in User.objects.filter(is_active=True)}
        self.channels = choice_lookup(Channel)
        self.interaction_channels = choice_lookup(InteractionChannel, INTERACTION_SYNONYMS)
        self.follow_statuses = choice_lookup(FollowStatus, FOLLOW_SYNONYMS)
        self.priorities = choice_lookup(Priority)
        self.need_priorities = Lookup()
        for value, names in NEED_PRIORITY:
            for name in names:
                self.need_priorities.add(name, value)
        self._statuses: dict[int, tuple[Lookup, dict[int, WorkflowStatus]]] = {}
        # Customer names mapped in the import's mapping step: value key → customer id, or CREATE.
        self.customer_aliases: dict[str, str] = {}

    def statuses(self, workflow_id: int) -> tuple[Lookup, dict[int, WorkflowStatus]]:
        if workflow_id not in self._statuses:
            lookup = Lookup()
            objects = {}
            for status in WorkflowStatus.objects.filter(workflow_id=workflow_id):
                objects[status.pk] = status
                for name in (status.label, status.label_en, status.key):
                    lookup.add(name, status.pk)
            self._statuses[workflow_id] = (lookup, objects)
        return self._statuses[workflow_id]

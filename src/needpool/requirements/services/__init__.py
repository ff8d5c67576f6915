"""Write use-cases for feedback and requirements: create, edit, classify, transition, comment, attach.

Each function is atomic, checks permission and input, writes its audit row in the same
transaction, and queues side effects after commit. The modules split them by concern; every name is
imported from here.
"""

from needpool.requirements.services.classification import (
    current_rule_version,
    option_create,
    option_move,
    option_set_active,
    option_update,
    options_reorder,
    rules_review_mark,
    rules_review_remind,
)
from needpool.requirements.services.common import (
    AUDITED_FIELDS,
    EDITABLE_FIELDS,
    GATE_LABELS,
    INTERACTION_TO_FEEDBACK_CHANNEL,
    _index_text,
    active_workflow,
    entry_status,
    initial_status,
    new_requirement_code,
    requirements_refresh_customer_value,
    sla_due,
)
from needpool.requirements.services.configuration import code_pattern_set, workflow_activate
from needpool.requirements.services.discussion import attachment_add, comment_create
from needpool.requirements.services.feedback import (
    feedback_create,
    feedback_from_interaction_ask,
    feedback_link,
    feedback_record,
)
from needpool.requirements.services.life import allowed_targets, check_note, requirement_transition
from needpool.requirements.services.pool import (
    NewRequirement,
    gate_missing,
    requirement_create,
    requirement_update,
    requirements_create_many,
)
from needpool.requirements.services.sla_priority import requirements_priority_set, sla_mark_breaches

__all__ = [
    "AUDITED_FIELDS",
    "EDITABLE_FIELDS",
    "GATE_LABELS",
    "INTERACTION_TO_FEEDBACK_CHANNEL",
    "NewRequirement",
    "_index_text",
    "active_workflow",
    "allowed_targets",
    "attachment_add",
    "check_note",
    "code_pattern_set",
    "comment_create",
    "current_rule_version",
    "entry_status",
    "feedback_create",
    "feedback_from_interaction_ask",
    "feedback_link",
    "feedback_record",
    "gate_missing",
    "initial_status",
    "new_requirement_code",
    "option_create",
    "option_move",
    "option_set_active",
    "option_update",
    "options_reorder",
    "requirement_create",
    "requirement_transition",
    "requirement_update",
    "requirements_create_many",
    "requirements_priority_set",
    "requirements_refresh_customer_value",
    "rules_review_mark",
    "rules_review_remind",
    "sla_due",
    "sla_mark_breaches",
    "workflow_activate",
]

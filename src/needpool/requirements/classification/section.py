"""The rule version on a requirement's page ("分类规则 v3"), a section of the requirement lifecycle."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needpool.requirements import lifecycle
from needpool.requirements.models import Requirement
from needpool.requirements.services.classification import may_configure


def _context(requirement: Requirement, user: Any) -> dict[str, Any] | None:
    if requirement.rule_version is None:
        return None
    return {"rule_version": requirement.rule_version, "can_configure": may_configure(user)}


SECTION = lifecycle.Section(
    key="classification-rule",
    label=lambda: _("分类规则"),
    order=900,
    template="requirements/classification_rule_section.html",
    context=_context,
    places=frozenset({"detail"}),
)


def register() -> None:
    lifecycle.register_section(SECTION)

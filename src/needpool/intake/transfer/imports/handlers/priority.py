"""需求优先级评估表 (the priority layout): scores and insights of a requirement's analysis."""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _

from needpool.analysis.models import RequirementAnalysis
from needpool.intake.transfer.imports.handlers.common import (
    clean,
    title_from,
)
from needpool.intake.transfer.imports.handlers.requirement import (
    RequirementRows,
    requirement_description,
)
from needpool.intake.transfer.imports.layouts import PRIORITY
from needpool.intake.transfer.imports.values import (
    parse_whole,
)
from needpool.requirements.choices import Priority
from needpool.requirements.models import Requirement


def _analysis(requirement: Requirement) -> RequirementAnalysis | None:
    try:
        return requirement.analysis
    except RequirementAnalysis.DoesNotExist:
        return None


SCORE_COLUMNS = ("urgency_score", "importance_score", "resource_cost")
INSIGHT_COLUMNS = ("pain_points", "value_statement")


class PriorityRows(RequirementRows):
    """需求优先级评估表: the scoring inputs of a requirement (analysis services), its priority and reason."""

    layout = PRIORITY
    fields: ClassVar[dict[str, str]] = {
        **RequirementRows.fields,
        **{k: k for k in (*SCORE_COLUMNS, *INSIGHT_COLUMNS)},
        "reason": "override_reason",
        "priority": "priority",
    }

    def handle(self) -> None:
        code = self.code()
        description = self.text("description") or ""
        scores = {key: self.cell(key, parse_whole, low=1, high=5) for key in SCORE_COLUMNS if self.present(key)}
        insights = {key: self.text(key) or "" for key in INSIGHT_COLUMNS if self.present(key)}
        priority = self.choice("priority", self.lookups.priorities, Priority) if self.present("priority") else None
        reason = self.text("override_reason", max_length=500) or ""
        # Every cell of the row is read and checked before it stops: all its errors are reported at once.
        requirement, known = self.find_target(code)
        if requirement is None and known and not description:
            self.error("description", _("新需求必须填写需求描述。"))
        self.check()
        if requirement is None:
            from needpool.requirements.services import requirement_create

            requirement = self.call(
                requirement_create, self.fields, code=code, title=title_from(description), description=description
            )
            self.outcome.action = "create"
            self.flag_not_standardised(requirement)
            current: dict[str, Any] = {"priority": ""}
            analysis_changes = {k: v for k, v in {**scores, **insights}.items() if v not in (None, "")}
        else:
            current = self.export_row(requirement)
            changes = self.description_change(requirement, description)
            self.update_requirement(requirement, changes)
            analysis_changes = {}
            for key, value in {**scores, **insights}.items():
                if self.decide(key, value, current[key], text=key in INSIGHT_COLUMNS):
                    analysis_changes[key] = value
        assert requirement is not None
        self.outcome.code = requirement.code
        analysis = None
        if analysis_changes:
            from needpool.analysis.services import analysis_update

            analysis = self.call(analysis_update, self.fields, requirement=requirement, **analysis_changes)
        # The priority column is an override only when the user changed it: after new scores the computed
        # priority moves, and the sheet still shows the one exported before.
        if priority and priority != current["priority"]:
            self._override(requirement, priority, reason, analysis)
        elif reason and self.present("override_reason") and reason != current.get("override_reason", ""):
            analysis = analysis or _analysis(requirement)
            if analysis is not None and analysis.override_priority:
                self._override(requirement, analysis.override_priority, reason, analysis)

    def _override(
        self, requirement: Requirement, priority: str, reason: str, analysis: RequirementAnalysis | None
    ) -> None:
        from needpool.analysis.services import priority_override

        analysis = analysis or _analysis(requirement)
        effective = (analysis.effective_priority if analysis else "") or requirement.priority
        if priority == effective and (not analysis or reason == analysis.override_reason):
            return
        if not self.present("override_reason"):
            # A sheet without a 调整理由 column cannot give the reason a manual override needs (the rule of the
            # analysis desk), so its priority is read as information: the preview says which priority stands.
            self.outcome.warnings.append(
                _("“%(column)s”为 %(sheet)s，与按评分得出的 %(effective)s 不同；没有填写调整理由，不作人工调整。")
                % {"column": self.title("priority"), "sheet": priority, "effective": effective or "—"}
            )
            return
        self.call(priority_override, self.fields, requirement=requirement, priority=priority, reason=reason)
        if self.outcome.action != "create":
            self.outcome.changes.append(self.title("priority"))

    @classmethod
    def export_row(cls, record: Requirement) -> dict[str, Any]:
        analysis = _analysis(record)
        row: dict[str, Any] = {
            "code": record.code,
            "description": requirement_description(record),
            "priority": ((analysis.effective_priority if analysis else "") or record.priority or ""),
            "override_reason": clean(analysis.override_reason) if analysis else "",
        }
        for key in SCORE_COLUMNS:
            row[key] = getattr(analysis, key) if analysis else None
        for key in INSIGHT_COLUMNS:
            row[key] = clean(getattr(analysis, key)) if analysis else ""
        return row

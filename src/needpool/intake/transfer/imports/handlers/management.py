"""客户需求管理表 (the management layout): a requirement with source, requester, owner and status."""

from __future__ import annotations

import copy
import re
from typing import Any, ClassVar, NamedTuple

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.customers.models import Contact, Customer
from needpool.intake.transfer.imports.handlers.common import (
    CHANNEL_KEYWORDS,
    user_label,
)
from needpool.intake.transfer.imports.handlers.lookups import IGNORE
from needpool.intake.transfer.imports.handlers.outcomes import OVERWRITE, SKIP, RowFailed
from needpool.intake.transfer.imports.handlers.requirement import (
    RequirementRows,
    first_feedback,
    requirement_description,
)
from needpool.intake.transfer.imports.layouts import MANAGEMENT
from needpool.intake.transfer.imports.values import (
    choice_label,
    local_moment,
    normalize,
)
from needpool.requirements.choices import Channel, Priority
from needpool.requirements.models import Requirement, WorkflowStatus


class _Requester(NamedTuple):
    """Who a 提出方信息 cell names: a customer found, or the name of one to create, and a contact name."""

    customer: Customer | None = None
    missing: str = ""
    contact_name: str = ""


_SEPARATOR = re.compile(r"\s*[、，,/|–—]\s*|\s+-\s+")


def requester_company(text: str) -> str:
    """The company part of a 提出方信息 cell ("A科技公司、张经理" → "A科技公司")."""
    return _SEPARATOR.split(text, maxsplit=2)[0].strip()


def move_path(source_id: int, target: WorkflowStatus) -> list[str]:
    """The status keys from ``source_id`` to ``target`` along the flow's allowed moves (shortest; just the
    target when there is no path, so the flow's own refusal is what the user reads)."""
    from collections import deque

    from needpool.requirements.models import WorkflowTransition

    edges: dict[int, list[int]] = {}
    for source, goal in WorkflowTransition.objects.filter(workflow_id=target.workflow_id).values_list(
        "source_id", "target_id"
    ):
        edges.setdefault(source, []).append(goal)
    if target.pk in edges.get(source_id, []):
        return [target.key]
    came: dict[int, int] = {source_id: source_id}
    queue = deque([source_id])
    while queue:
        at = queue.popleft()
        for nxt in edges.get(at, []):
            if nxt not in came:
                came[nxt] = at
                queue.append(nxt)
    if target.pk not in came:
        return [target.key]
    path = [target.pk]
    while path[-1] != source_id:
        path.append(came[path[-1]])
    keys = dict(WorkflowStatus.objects.filter(pk__in=path).values_list("pk", "key"))
    return [keys[pk] for pk in reversed(path[:-1])]


class ManagementRows(RequirementRows):
    """客户需求管理表: a requirement with its source, requester, classification, owner and status."""

    layout = MANAGEMENT
    fields: ClassVar[dict[str, str]] = {**RequirementRows.fields, "customer": "requester", "contact": "requester"}

    def channel(self) -> str | None:
        text = self.text("channel")
        if not text:
            return None
        found = self.lookups.channels.find(text)
        if found == {IGNORE}:
            return None
        if len(found) == 1:
            return str(next(iter(found)))
        lowered = normalize(text).lower()
        for channel, words in CHANNEL_KEYWORDS:
            if any(word in lowered for word in words):
                self.outcome.warnings.append(
                    _("需求来源“%(text)s”识别为“%(channel)s”。") % {"text": text, "channel": Channel(channel).label}
                )
                self.flag_interpreted("channel", str(Channel(channel).label), _("按关键词识别"))
                return str(channel)
        self.error(
            "channel",
            _("无法识别需求来源“%(value)s”。可选：%(choices)s。")
            % {"value": text, "choices": human_join([str(label) for _v, label in Channel.choices])},
        )
        return None

    def read_requester(self, channel: str | None, *, unknown_channel: bool = False) -> _Requester:
        """Who the 提出方信息 cell names, checked without writing (unknown or ambiguous customers, a contact
        name too long are noted as errors); ``write_requester`` creates what is missing."""
        text = self.text("requester", max_length=300) or ""
        if not text:
            return _Requester()
        parts = _SEPARATOR.split(text, maxsplit=2)
        name = parts[0].strip()
        contact_name = parts[1].strip() if len(parts) > 1 else ""
        found = self.find_customers(text) or self.find_customers(name)
        if len(found) == 1:
            if normalize(text) in (normalize(found[0].name), normalize(found[0].code)):
                contact_name = ""
            if contact_name:
                self.check_contact_name("requester", contact_name)
            return _Requester(found[0], "", contact_name)
        if len(found) > 1:
            self.error("requester", _("有多个客户名为“%(name)s”，请改填客户编号。") % {"name": name})
            return _Requester()
        if channel == Channel.INTERNAL:
            self.outcome.warnings.append(_("提出方“%(text)s”为内部部门，需求不关联客户。") % {"text": text})
            return _Requester()
        if unknown_channel:
            return _Requester()  # the source is unreadable (noted): whether a customer is meant is not known
        found_customer, missing = self.lookup_customer("requester", name)
        if contact_name:
            self.check_contact_name("requester", contact_name)
        return _Requester(found_customer, missing, contact_name)

    def write_requester(self, requester: _Requester) -> tuple[Customer | None, Contact | None]:
        customer = self.create_customer("requester", requester.missing) if requester.missing else requester.customer
        return customer, self.resolve_contact("requester", requester.contact_name, customer)

    def status(self, workflow_id: int) -> WorkflowStatus | None:
        text = self.text("status")
        if not text:
            return None
        lookup, objects = self.lookups.statuses(workflow_id)
        found = lookup.find(text)
        if found == {IGNORE}:
            return None
        if len(found) != 1:
            self.error(
                "status",
                _("“%(value)s”不是当前流程的状态。可选：%(choices)s。")
                % {"value": text, "choices": human_join([str(s) for s in objects.values()])},
            )
            return None
        return objects[next(iter(found))]

    def status_policy(self) -> str:
        """How 当前状态 updates an existing requirement: the policy chosen for the column, else the upload's
        choice (apply_status: overwrite, otherwise skip). A status is never empty, so "fill" keeps it."""
        return self.options.policy("status", OVERWRITE if self.options.apply_status else SKIP)

    def transition(self, requirement: Requirement, target: WorkflowStatus | None) -> None:
        if target is None or target.pk == requirement.status_id:
            return
        if self.outcome.action == "create":
            moves = self.options.apply_status
        else:
            moves = self.decide(
                "status",
                target.pk,
                requirement.status_id,
                new_shown=str(target),
                old_shown=str(requirement.status),
                policy=self.status_policy(),
            )
        if not moves:
            if not self.options.apply_status and "status" not in self.options.update_policy:
                self.outcome.warnings.append(
                    _("“%(column)s”与现有状态不同：已选择不通过导入修改状态。") % {"column": self.title("status")}
                )
            return
        from needpool.requirements.services import requirement_transition

        try:
            # The sheet's status is an explicit decision (e.g. 已拒绝); its note says where it came from. Where the
            # flow has no direct move, the requirement goes along the shortest path of allowed moves.
            note = _("导入表格第 %(row)s 行：%(status)s") % {"row": self.outcome.row, "status": target}
            for step in move_path(requirement.status_id, target):
                requirement = self.call(
                    requirement_transition, self.fields, requirement=requirement, to=step, note=note
                )
        except RowFailed:
            self.outcome.errors[-1].message += " " + _("（若只想导入其他列，可在上传时选择不修改状态。）")
            raise

    def handle(self) -> None:
        from needpool.requirements.services import active_workflow, entry_status, requirement_create

        code = self.code()
        description = self.text("description") or ""
        noted = len(self.outcome.errors)
        channel = self.channel() if self.present("channel") else None
        unknown_channel = len(self.outcome.errors) > noted
        values = self.read_common()
        priority = self.choice("priority", self.lookups.priorities, Priority) if self.present("priority") else None
        owner = self.user("owner") if self.present("owner") else None
        submitted_at = self.date_cell("submitted_at", with_time=True)
        # Every cell of the row is read and checked before it stops: all its errors are reported at once.
        requirement, known = self.find_target(code)
        self.check_inactive(values, requirement)
        workflow_id = requirement.status.workflow_id if requirement is not None else active_workflow().pk
        target = self.status(workflow_id) if self.present("status") else None
        requester = _Requester()
        if requirement is None and known:
            if not description:
                self.error("description", _("新需求必须填写需求描述。"))
            requester = self.read_requester(channel, unknown_channel=unknown_channel)
        if self.outcome.errors:
            if known:
                has_customer = requester.customer is not None or bool(requester.missing)
                self.precheck_status(requirement, target, values, priority, has_customer=has_customer)
            raise RowFailed
        if requirement is None:
            customer, contact = self.write_requester(requester)
            draft = self.draft(
                code=code,
                description=description,
                customer=customer,
                contact=contact,
                channel=channel,
                submitted_at=submitted_at,
                values=values,
                priority=priority or "",
                owner=owner,
                unassigned=self.unassigned,
            )
            if target is None or target.pk == entry_status().pk:
                self.create_later(draft)  # no move to make after: created with the chunk's others
                return
            made: Requirement = self.call(requirement_create, self.fields, **vars(draft))
            self.outcome.action, self.outcome.code = "create", made.code
            self.flag_not_standardised(made)
            self.transition(made, target)
            return
        self.outcome.code = requirement.code
        self.warn_source(requirement, ("channel", "requester"), submitted_at)
        changes = {**self.description_change(requirement, description), **self.option_changes(requirement, values)}
        if self.present("priority") and self.decide("priority", priority or "", requirement.priority):
            changes["priority"] = priority or ""
        # A blank owner keeps the current one (a new requirement gets the importing user, as on the form).
        if owner is not None and self.decide(
            "owner",
            owner.pk,
            requirement.owner_id,
            new_shown=user_label(owner),
            old_shown=user_label(requirement.owner),
        ):
            changes["owner"] = owner
        requirement = self.update_requirement(requirement, changes)
        self.transition(requirement, target)

    def precheck_status(
        self,
        requirement: Requirement | None,
        target: WorkflowStatus | None,
        values: dict[str, Any],
        priority: str | None,
        *,
        has_customer: bool,
    ) -> None:
        """A row with errors stops before its status move, so the move's first step is checked here without
        writing (allowed by the flow, its gates on what the row would write) and a refusal is reported with
        the row's other errors. Without other errors the move itself decides."""
        from needpool.requirements import lifecycle
        from needpool.requirements import workflow as flow_rules
        from needpool.requirements.models import WorkflowTransition
        from needpool.requirements.services import active_workflow, initial_status

        if target is None or not (
            self.options.apply_status if requirement is None else self.status_policy() == OVERWRITE
        ):
            return
        source = requirement.status if requirement is not None else initial_status(active_workflow())
        if target.pk == source.pk:
            return
        step_key = move_path(source.pk, target)[0]
        step = WorkflowStatus.objects.filter(workflow_id=source.workflow_id, key=step_key).first()
        if step is None or not WorkflowTransition.objects.filter(source=source, target=step).exists():
            allowed = [t.target for t in WorkflowTransition.objects.filter(source=source).select_related("target")]
            refusals = [
                _("不允许从“%(source)s”流转到“%(target)s”。可流转到：%(allowed)s。")
                % {"source": source, "target": target, "allowed": human_join([str(s) for s in allowed]) or _("无")}
            ]
        else:
            keys = flow_rules.gate_keys_for(exit_gates=source.exit_gates or [], entry_gates=step.entry_gates or [])
            registered = lifecycle.registered_gates()
            gates = [registered[key] for key in keys if key in registered]
            date_known = "expected_date" in values and (
                values["expected_date"] is not None or not self.filled("expected_date")
            )
            priority_known = self.present("priority") and (priority is not None or not self.filled("priority"))
            facts: dict[str, Any]
            if requirement is not None:
                subject = copy.copy(requirement)  # what the row would write, not saved
                if date_known:
                    subject.expected_date = values["expected_date"]
                if priority_known:
                    subject.priority = priority or ""
                facts = {name: lifecycle.fact(name, subject) for gate in gates for name in gate.facts}
            else:
                facts = {
                    "standardisation_missing": flow_rules.missing_for_leaving_initial(
                        has_customer=has_customer,
                        background="",
                        concrete_ask="",
                        expected_date=values.get("expected_date"),
                    ),
                    "priority": priority or "",
                }
                # A new requirement's other facts are only known once it is written.
                gates = [gate for gate in gates if all(name in facts for name in gate.facts)]
            note = _("导入表格第 %(row)s 行：%(status)s") % {"row": self.outcome.row, "status": target}
            refusals = flow_rules.gate_refusals(gates, lifecycle.move_between(source, step, note), facts)
        for message in refusals:
            self.error("status", message + " " + _("（若只想导入其他列，可在上传时选择不修改状态。）"))

    @classmethod
    def export_row(cls, record: Requirement) -> dict[str, Any]:
        evidence = first_feedback(record)
        requester = ""
        if evidence and evidence.customer:
            requester = evidence.customer.name
            if evidence.contact:
                requester += "、" + evidence.contact.name
        return {
            "code": record.code,
            "channel": choice_label(Channel, evidence.channel) if evidence else "",
            "requester": requester,
            "type": str(record.type) if record.type_id else "",
            "description": requirement_description(record),
            "urgency": str(record.urgency) if record.urgency_id else "",
            "priority": record.priority or "",
            "submitted_at": local_moment(record.submitted_at),
            "expected_date": record.expected_date,
            "owner": user_label(record.owner),
            "status": str(record.status),
        }

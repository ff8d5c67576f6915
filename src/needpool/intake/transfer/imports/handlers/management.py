"""客户需求管理表 (the management layout): a requirement with source, requester, owner and status."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.customers.models import Contact, Customer
from needpool.intake.transfer.imports.handlers.common import (
    CHANNEL_KEYWORDS,
    title_from,
    user_label,
)
from needpool.intake.transfer.imports.handlers.outcomes import RowFailed
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
    parse_datetime,
)
from needpool.requirements.choices import Channel, Priority
from needpool.requirements.models import Requirement, WorkflowStatus

_SEPARATOR = re.compile(r"\s*[、，,/|–—]\s*|\s+-\s+")


class ManagementRows(RequirementRows):
    """客户需求管理表: a requirement with its source, requester, classification, owner and status."""

    layout = MANAGEMENT
    fields: ClassVar[dict[str, str]] = {**RequirementRows.fields, "customer": "requester", "contact": "requester"}

    def channel(self) -> str | None:
        text = self.text("channel")
        if not text:
            return None
        found = self.lookups.channels.find(text)
        if len(found) == 1:
            return str(next(iter(found)))
        lowered = normalize(text).lower()
        for channel, words in CHANNEL_KEYWORDS:
            if any(word in lowered for word in words):
                self.outcome.warnings.append(
                    _("需求来源“%(text)s”识别为“%(channel)s”。") % {"text": text, "channel": Channel(channel).label}
                )
                return str(channel)
        self.error(
            "channel",
            _("无法识别需求来源“%(value)s”。可选：%(choices)s。")
            % {"value": text, "choices": human_join([str(label) for _v, label in Channel.choices])},
        )
        return None

    def requester(self, channel: str | None) -> tuple[Customer | None, Contact | None]:
        text = self.text("requester", max_length=300) or ""
        if not text:
            return None, None
        parts = _SEPARATOR.split(text, maxsplit=2)
        name = parts[0].strip()
        contact_name = parts[1].strip() if len(parts) > 1 else ""
        found = self.find_customers(text) or self.find_customers(name)
        if len(found) == 1:
            if normalize(text) in (normalize(found[0].name), normalize(found[0].code)):
                contact_name = ""
            return found[0], self.resolve_contact("requester", contact_name, found[0])
        if len(found) > 1:
            raise self.fail("requester", _("有多个客户名为“%(name)s”，请改填客户编号。") % {"name": name})
        if channel == Channel.INTERNAL:
            self.outcome.warnings.append(_("提出方“%(text)s”为内部部门，需求不关联客户。") % {"text": text})
            return None, None
        found_customer, missing = self.lookup_customer("requester", name)
        self.check()
        customer = self.create_customer("requester", missing) if missing else found_customer
        return customer, self.resolve_contact("requester", contact_name, customer)

    def status(self, workflow_id: int) -> WorkflowStatus | None:
        text = self.text("status")
        if not text:
            return None
        lookup, objects = self.lookups.statuses(workflow_id)
        found = lookup.find(text)
        if len(found) != 1:
            self.error(
                "status",
                _("“%(value)s”不是当前流程的状态。可选：%(choices)s。")
                % {"value": text, "choices": human_join([str(s) for s in objects.values()])},
            )
            return None
        return objects[next(iter(found))]

    def transition(self, requirement: Requirement, target: WorkflowStatus | None) -> None:
        if target is None or target.pk == requirement.status_id:
            return
        if not self.options.apply_status:
            self.outcome.warnings.append(
                _("“%(column)s”与现有状态不同：已选择不通过导入修改状态。") % {"column": self.title("status")}
            )
            return
        from needpool.requirements.services import requirement_transition

        try:
            # The sheet's status is an explicit decision (e.g. 已拒绝); its note says where it came from.
            note = _("导入表格第 %(row)s 行：%(status)s") % {"row": self.outcome.row, "status": target}
            self.call(requirement_transition, self.fields, requirement=requirement, to=target.key, note=note)
        except RowFailed:
            self.outcome.errors[-1].message += " " + _("（若只想导入其他列，可在上传时选择不修改状态。）")
            raise
        if self.outcome.action != "create":
            self.outcome.changes.append(self.title("status"))

    def handle(self) -> None:
        from needpool.requirements.services import active_workflow, requirement_create

        code = self.code()
        description = self.text("description") or ""
        channel = self.channel() if self.present("channel") else None
        values = self.read_common()
        priority = self.choice("priority", self.lookups.priorities, Priority) if self.present("priority") else None
        owner = self.user("owner") if self.present("owner") else None
        submitted_at = self.cell("submitted_at", parse_datetime)
        self.check()
        requirement = self.find_requirement(code)
        self.check_inactive(values, requirement)
        if requirement is None:
            if not description:
                raise self.fail("description", _("新需求必须填写需求描述。"))
            workflow = active_workflow()
            target = self.status(workflow.pk) if self.present("status") else None
            self.check()
            customer, contact = self.requester(channel)
            made: Requirement = self.call(
                requirement_create,
                self.fields,
                code=code,
                title=title_from(description),
                description=description,
                customer=customer,
                contact=contact,
                channel=channel or Channel.SALES,
                submitted_at=submitted_at,
                priority=priority or "",
                owner=owner,
                **{k: v for k, v in values.items() if v is not None},
            )
            self.outcome.action, self.outcome.code = "create", made.code
            self.transition(made, target)
            return
        self.outcome.code = requirement.code
        target = self.status(requirement.status.workflow_id) if self.present("status") else None
        self.check()
        self.warn_source(requirement, ("channel", "requester"), submitted_at)
        changes = {**self.description_change(requirement, description), **self.option_changes(requirement, values)}
        if self.present("priority") and self.compare("priority", priority or "", requirement.priority):
            changes["priority"] = priority or ""
        # A blank owner keeps the current one (a new requirement gets the importing user, as on the form).
        if owner is not None and self.compare("owner", owner.pk, requirement.owner_id):
            changes["owner"] = owner
        requirement = self.update_requirement(requirement, changes)
        self.transition(requirement, target)

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

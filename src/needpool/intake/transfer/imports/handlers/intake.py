"""客户需求信息表 (the intake layout): one requirement and the customer's words as its first feedback item."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needpool.customers.models import Customer
from needpool.intake.transfer.imports.handlers.common import (
    LIST_JOIN,
)
from needpool.intake.transfer.imports.handlers.requirement import (
    RequirementRows,
    first_feedback,
    requirement_description,
    requirement_tags,
)
from needpool.intake.transfer.imports.layouts import INTAKE
from needpool.intake.transfer.imports.values import (
    choice_label,
    local_moment,
)
from needpool.requirements.choices import Channel
from needpool.requirements.models import Requirement


class IntakeRows(RequirementRows):
    """客户需求信息表: one requirement and the customer's words as its first feedback item."""

    layout = INTAKE
    defer_contacts = True  # a new contact serves only the new requirements, which wait for the flush too

    def handle(self) -> None:
        code = self.code()
        description = self.text("description") or ""
        customer_text = self.text("customer", max_length=200) or ""
        contact_name = self.text("contact", max_length=60) or ""
        channel = self.choice("channel", self.lookups.channels, Channel) if self.present("channel") else None
        submitted_at = self.date_cell("submitted_at", with_time=True)
        values = self.read_common()
        # Every cell of the row is read and checked before it stops: all its errors are reported at once.
        requirement, known = self.find_target(code)
        self.check_inactive(values, requirement)
        customer: Customer | None = None
        missing = ""
        if requirement is None and known:
            customer, missing = self.lookup_customer("customer", customer_text)
            if not description:
                self.error("description", _("新需求必须填写描述内容。"))
            if contact_name and not customer_text:
                self.error("contact", _("填写联系人时必须同时填写客户。"))
        self.check()
        if requirement is None:
            if missing:
                customer = self.create_customer("customer", missing)
            contact = self.resolve_contact("contact", contact_name, customer)
            self.create_later(
                self.draft(
                    code=code,
                    description=description,
                    customer=customer,
                    contact=contact,
                    channel=channel,
                    submitted_at=submitted_at,
                    values=values,
                )
            )
            return
        self.outcome.code = requirement.code
        self.warn_source(requirement, ("customer", "contact", "channel"), submitted_at)
        changes = {**self.description_change(requirement, description), **self.option_changes(requirement, values)}
        self.update_requirement(requirement, changes)

    @classmethod
    def export_row(cls, record: Requirement) -> dict[str, Any]:
        evidence = first_feedback(record)
        return {
            "code": record.code,
            "customer": evidence.customer.name if evidence and evidence.customer else "",
            "contact": evidence.contact.name if evidence and evidence.contact else "",
            "channel": choice_label(Channel, evidence.channel) if evidence else "",
            "type": str(record.type) if record.type_id else "",
            "description": requirement_description(record),
            "expected_date": record.expected_date,
            "tags": LIST_JOIN.join(str(t) for t in requirement_tags(record)),
            "submitted_at": local_moment(record.submitted_at),
        }

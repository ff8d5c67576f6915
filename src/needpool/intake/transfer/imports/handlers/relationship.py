"""客户需求与关系管理记录表 (the relationship layout): a customer, a contact, an interaction and its needs."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar, NamedTuple

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.customers.choices import FollowStatus, InteractionChannel
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import visible_customers
from needpool.intake.transfer.imports.handlers.base import RowHandler
from needpool.intake.transfer.imports.handlers.common import (
    ASKS_JOIN,
    IMPLICIT_PREFIX,
    clean,
    interaction_asks,
    need_priority_label,
    split_asks,
    user_label,
)
from needpool.intake.transfer.imports.handlers.outcomes import RowFailed
from needpool.intake.transfer.imports.layouts import RELATIONSHIP
from needpool.intake.transfer.imports.values import (
    display,
    leading_date,
    local_moment,
    split_list,
)


class _Talk(NamedTuple):
    """The interaction cells of a row, read."""

    occurred_at: dt.datetime | None
    channel: str | None
    key_content: str
    explicit: list[str]
    implicit: list[str]
    plan: str
    importance: int | None


def interaction_importance(interaction: Interaction) -> int | None:
    items = getattr(interaction, "export_feedback", None)
    if items is None:
        items = list(interaction.feedback.all())
    values = [f.importance for f in items]
    return max(values) if values else None


def contact_details(contact: Contact | None) -> str:
    if contact is None:
        return ""
    return ASKS_JOIN.join(part for part in (contact.phone, contact.email) if part)


class RelationshipRows(RowHandler):
    """客户需求与关系管理记录表: a customer, one contact, one interaction and the needs heard in it."""

    layout = RELATIONSHIP
    cache_customers = False  # rows rename customers and add contacts
    customer_fields: ClassVar[dict[str, str]] = {
        "name": "name",
        "industry": "industry",
        "follow_status": "follow_status",
        "owner": "owner",
        "notes": "notes",
        "code": "code",
    }
    contact_fields: ClassVar[dict[str, str]] = {
        "name": "contact",
        "title": "title",
        "phone": "contact_info",
        "email": "contact_info",
    }
    interaction_fields: ClassVar[dict[str, str]] = {
        "occurred_at": "occurred_at",
        "channel": "channel",
        "key_content": "key_content",
        "key_asks": "explicit",
        "next_follow_up_plan": "next_plan",
        "next_follow_up_date": "next_plan",
        "contact": "contact",
        "index": "explicit",
        "raw_text": "explicit",
        "importance": "need_priority",
    }
    interaction_keys = ("occurred_at", "channel", "key_content", "explicit", "implicit", "next_plan")

    def contact_info(self) -> tuple[str, str] | None:
        text = self.text("contact_info")
        if text is None:
            return None
        phone = email = ""
        for part in re.split(r"\s*[;；,，/]\s*", text):
            if not part:
                continue
            if "@" in part:
                if email:
                    self.error("contact_info", _("联系方式最多填写一个电话和一个邮箱。"))
                email = part
            else:
                if phone:
                    self.error("contact_info", _("联系方式最多填写一个电话和一个邮箱。"))
                phone = part
        return phone, email

    def handle(self) -> None:
        code = self.text("code", max_length=30) or ""
        data: dict[str, Any] = {}
        for key, limit in (("name", 120), ("industry", 60), ("notes", None)):
            if self.present(key):
                data[key] = self.text(key, max_length=limit) or ""
        if self.present("follow_status"):
            data["follow_status"] = self.choice("follow_status", self.lookups.follow_statuses, FollowStatus)
        if self.present("owner"):
            data["owner"] = self.user("owner")
        contact_name = self.text("contact", max_length=60) or ""
        title = self.text("title", max_length=60)
        info = self.contact_info() if self.present("contact_info") else None
        talk = self._read_interaction()
        # Every cell of the row is read and checked before it stops (all its errors are reported at once);
        # what only a write can tell comes from the services afterwards.
        customer, known = self._find_customer(code, data.get("name") or "")
        if customer is None and known and not self.filled("name"):
            self.error("name", _("新客户必须填写客户名称。"))
        if not contact_name and (title or (info and any(info))):
            self.error("contact", _("填写职位或联系方式时必须填写对接人。"))
        if info is not None and any(info):
            existing = customer.contacts.filter(name=contact_name).order_by("id").first() if customer else None
            if existing is None or info != (existing.phone, existing.email):
                # The privacy rule of contacts (no personal mobile or mailbox), on what would be written.
                self.check_contact_details("contact_info", *info)
        self.check()
        customer = self._customer(customer, code, data)
        contact = self._contact(customer, contact_name, title, info)
        if talk is not None:
            self._interaction(customer, contact, talk)

    def _find_customer(self, code: str, name: str = "") -> tuple[Customer | None, bool]:
        """(the customer the row's code names, or None; whether that is known: a code in use elsewhere is an
        error). A row without a code names an existing customer by its name, however it is spelled
        (``company_key``); a name two customers share is an error (the code tells them apart)."""
        if not code:
            found = self.match_name(name) if name else []
            if len(found) > 1:
                self.error("name", _("有多个客户名为“%(name)s”，请改填客户编号。") % {"name": name})
                return None, False
            if found:
                self.note_spelling(name, found[0])
            return (found[0] if found else None), True
        customer = visible_customers(self.actor).filter(code__in={code, code.upper()}).first()
        if customer is None and Customer.all_objects.filter(code__in={code, code.upper()}).exists():
            self.error("code", _("客户编号“%(code)s”已被使用，或您无权修改该客户。") % {"code": code})
            return None, False
        return customer, True

    def _customer(self, customer: Customer | None, code: str, data: dict[str, Any]) -> Customer:
        from needpool.customers.services import customer_create, customer_update

        if customer is None:
            if not code and Customer.objects.filter(name=data["name"]).exists():
                self.outcome.warnings.append(_("已有同名客户；未填客户编号，将新建一个客户。"))
            elif code and (alike := self.match_name(data["name"])):
                self.outcome.warnings.append(
                    _("已有名称相同的客户“%(name)s”（%(code)s）；表中的客户编号不同，将新建一个客户。")
                    % {"name": alike[0].name, "code": alike[0].code}
                )
            fields = {k: v for k, v in data.items() if v not in (None, "")}
            made: Customer = self.call(customer_create, self.customer_fields, code=code, **fields)
            self.remember_customer(made)
            self.outcome.action, self.outcome.code = "create", made.code
            return made
        self.outcome.code = customer.code
        # Each column updates the customer by its update policy (RowHandler.decide).
        changes: dict[str, Any] = {}
        for key in ("name", "industry", "notes"):
            if key in data and self.decide(key, data[key], clean(getattr(customer, key)), text=True):
                changes[key] = data[key]
        if data.get("follow_status") and self.decide(
            "follow_status",
            data["follow_status"],
            customer.follow_status,
            new_shown=str(FollowStatus(data["follow_status"]).label),
            old_shown=customer.get_follow_status_display(),
        ):
            changes["follow_status"] = data["follow_status"]
        # A blank owner keeps the current one (a new customer gets the importing user, as on the form).
        if data.get("owner") and self.decide(
            "owner",
            data["owner"].pk,
            customer.owner_id,
            new_shown=user_label(data["owner"]),
            old_shown=user_label(customer.owner),
        ):
            changes["owner"] = data["owner"]
        if changes:
            customer = self.call(customer_update, self.customer_fields, customer=customer, **changes)
            self.remember_customer(customer)
        return customer

    def _contact(
        self, customer: Customer, name: str, title: str | None, info: tuple[str, str] | None
    ) -> Contact | None:
        from needpool.customers.services import contact_create, contact_update

        if not name:  # a title or contact details without a name were refused with the row's other cells
            return None
        existing = customer.contacts.filter(name=name).order_by("id").first()
        if existing is None:
            phone, email = info or ("", "")
            contact: Contact = self.call(
                contact_create,
                self.contact_fields,
                customer=customer,
                name=name,
                title=title or "",
                phone=phone,
                email=email,
            )
            if self.outcome.action != "create":
                self.outcome.changes.append(self.title("contact"))
            return contact
        changes: dict[str, Any] = {}
        if title is not None and self.decide("title", title, clean(existing.title), text=True):
            changes["title"] = title
        if info is not None and self.decide(
            "contact_info",
            info,
            (existing.phone, existing.email),
            new_shown=ASKS_JOIN.join(part for part in info if part),
            old_shown=contact_details(existing),
        ):
            changes["phone"], changes["email"] = info
        if changes:
            existing = self.call(contact_update, self.contact_fields, contact=existing, **changes)
        return existing

    def _read_interaction(self) -> _Talk | None:
        """The interaction cells of the row, read and checked (None when none is filled)."""
        if not any(self.filled(key) for key in self.interaction_keys):
            return None
        occurred_at = self.date_cell("occurred_at", with_time=True)
        channel = self.choice("channel", self.lookups.interaction_channels, InteractionChannel)
        key_content = self.text("key_content") or ""
        explicit = split_list(self.raw.get("explicit", ""), lines_only=True)
        implicit = split_list(self.raw.get("implicit", ""), lines_only=True)
        plan = self.text("next_plan", max_length=300) or ""
        importance = None
        if self.filled("need_priority"):
            text = self.text("need_priority") or ""
            found = self.lookups.need_priorities.find(text)
            if len(found) != 1:
                self.error("need_priority", _("需求优先级只能是高、中或低。"))
            else:
                importance = next(iter(found))
        if occurred_at is None and not self.filled("occurred_at"):
            self.error("occurred_at", _("填写了沟通内容或需求时必须填写最近接触时间。"))
        return _Talk(occurred_at, channel, key_content, explicit, implicit, plan, importance)

    def _interaction(self, customer: Customer, contact: Contact | None, talk: _Talk) -> None:
        occurred_at, channel, key_content, explicit, implicit, plan, importance = talk
        assert occurred_at is not None  # checked with the row's cells
        asks = explicit + [IMPLICIT_PREFIX + line for line in implicit]
        existing = (
            customer.interactions.filter(
                occurred_at__gte=occurred_at, occurred_at__lt=occurred_at + dt.timedelta(seconds=1)
            )
            .select_related("contact")
            .order_by("id")
            .first()
        )
        if existing is not None:
            self._same_interaction(existing, channel, key_content, explicit, implicit, plan, importance, occurred_at)
            return
        from needpool.customers.services import interaction_create

        interaction: Interaction = self.call(
            interaction_create,
            self.interaction_fields,
            customer=customer,
            contact=contact,
            occurred_at=occurred_at,
            channel=channel or "",
            key_content=key_content,
            key_asks="\n".join(asks),
            next_follow_up_plan=plan,
            next_follow_up_date=leading_date(plan),
        )
        if self.outcome.action != "create":
            self.outcome.changes.append(self.title("occurred_at"))
        if self.options.needs_to_feedback:
            from needpool.requirements.services import feedback_from_interaction_ask

            for index in range(len(interaction.key_ask_lines())):
                self.call(
                    feedback_from_interaction_ask,
                    self.interaction_fields,
                    interaction=interaction,
                    index=index,
                    importance=importance,
                )
        elif importance is not None:
            self.outcome.warnings.append(_("需求未登记为反馈，需求优先级未保存。"))

    def _same_interaction(
        self,
        existing: Interaction,
        channel: str | None,
        key_content: str,
        explicit: list[str],
        implicit: list[str],
        plan: str,
        importance: int | None,
        occurred_at: dt.datetime,
    ) -> None:
        # A sheet exported before asks were placed by their requirement's 需求来源 has them under 显性需求.
        splits = (interaction_asks(existing), split_asks(existing.key_asks))
        old_explicit, old_implicit = next((s for s in splits if s == (explicit, implicit)), splits[0])
        checks = (
            ("channel", channel, existing.channel),
            ("key_content", key_content, clean(existing.key_content)),
            ("explicit", explicit, old_explicit),
            ("implicit", implicit, old_implicit),
            ("next_plan", plan, clean(existing.next_follow_up_plan)),
            ("need_priority", importance, interaction_importance(existing)),
        )
        different = [
            self.title(key)
            for key, new, old in checks
            if self.present(key) and new != old and not (key == "need_priority" and new is None)
        ]
        if different:
            self.error(
                "occurred_at",
                _(
                    "该客户在 %(when)s 已有一条互动记录，与表中的%(columns)s不同。导入不修改已有互动记录："
                    "新的一次接触请填写新的接触时间。"
                )
                % {"when": display(local_moment(occurred_at)), "columns": human_join(different)},
            )
            raise RowFailed

    @classmethod
    def export_row(cls, record: tuple[Customer, Contact | None, Interaction | None]) -> dict[str, Any]:
        customer, contact, interaction = record
        explicit, implicit = interaction_asks(interaction) if interaction else ([], [])
        return {
            "code": customer.code,
            "name": customer.name,
            "industry": customer.industry,
            "contact": contact.name if contact else "",
            "title": contact.title if contact else "",
            "contact_info": contact_details(contact),
            "occurred_at": local_moment(interaction.occurred_at) if interaction else None,
            "channel": interaction.get_channel_display() if interaction else "",
            "key_content": clean(interaction.key_content) if interaction else "",
            "explicit": ASKS_JOIN.join(explicit),
            "implicit": ASKS_JOIN.join(implicit),
            "need_priority": need_priority_label(interaction_importance(interaction)) if interaction else "",
            "follow_status": customer.get_follow_status_display(),
            "owner": user_label(customer.owner),
            "next_plan": clean(interaction.next_follow_up_plan) if interaction else "",
            "notes": clean(customer.notes),
        }

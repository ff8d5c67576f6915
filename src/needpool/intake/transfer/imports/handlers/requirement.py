"""What the three requirement layouts share: reading ahead, comparing and updating a requirement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.customers.models import Contact, Customer
from needpool.intake.transfer.imports.handlers.base import RowHandler
from needpool.intake.transfer.imports.handlers.common import (
    clean,
    same_moment,
    title_from,
)
from needpool.intake.transfer.imports.handlers.outcomes import RowFailed, RowOutcome
from needpool.intake.transfer.imports.values import (
    display,
    parse_text,
)
from needpool.requirements import workflow
from needpool.requirements.choices import Channel, Dimension
from needpool.requirements.models import ClassOption, Feedback, Requirement
from needpool.requirements.services.pool import NewRequirement


def first_feedback(requirement: Requirement) -> Feedback | None:
    """The requirement's first evidence (prefetched as ``export_feedback`` by the export, else queried)."""
    items = getattr(requirement, "export_feedback", None)
    if items is not None:
        return items[0] if items else None
    return requirement.feedback_items.select_related("customer", "contact").order_by("received_at", "id").first()


def requirement_description(requirement: Requirement) -> str:
    return clean(requirement.description) or clean(requirement.title)


def requirement_tags(requirement: Requirement) -> list[ClassOption]:
    return sorted(requirement.tags.all(), key=lambda t: (t.sort_order, t.pk))  # prefetched by callers


class RequirementRows(RowHandler):
    """What the three requirement layouts share."""

    fields: ClassVar[dict[str, str]] = {
        "title": "description",
        "description": "description",
        "code": "code",
        "expected_date": "expected_date",
        "type": "type",
        "urgency": "urgency",
        "tags": "tags",
        "owner": "owner",
        "priority": "priority",
        "customer": "customer",
        "contact": "contact",
        "submitted_at": "submitted_at",
        "to": "status",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # New requirements wait here and are created together (``flush``): a few queries per chunk, not per row.
        self._pending: list[tuple[RowOutcome, dict[str, Any], NewRequirement]] = []
        self._pending_codes: set[str] = set()
        # A preview only checks its new requirements (``check_only``); those with a code wait here, in case a later
        # row names the code: then that one is created first, so the later row updates it as the import will.
        self._checked: dict[str, NewRequirement] = {}

    def draft(
        self,
        *,
        code: str,
        description: str,
        customer: Customer | None,
        contact: Contact | None,
        channel: str | None,
        submitted_at: dt.datetime | None,
        values: dict[str, Any],
        **more: Any,
    ) -> NewRequirement:
        """The new requirement a row describes (its title taken from the description)."""
        return NewRequirement(
            code=code,
            title=title_from(description),
            description=description,
            customer=customer,
            contact=contact,
            channel=channel or Channel.SALES,
            submitted_at=submitted_at,
            **{k: v for k, v in values.items() if v is not None},
            **more,
        )

    def create_later(self, draft: NewRequirement) -> None:
        """Note the row's new requirement for the next ``flush``; the row counts as created unless that refuses it."""
        self.outcome.action, self.outcome.code = "create", draft.code
        self._pending.append((self.outcome, self.raw, draft))
        if draft.code:
            self._pending_codes.update((draft.code, draft.code.upper()))
        self.flag_missing(
            workflow.missing_for_leaving_initial(
                has_customer=draft.customer is not None,
                background=draft.background,
                concrete_ask=draft.concrete_ask,
                expected_date=draft.expected_date,
            )
        )

    def _row_code(self, raw: dict[str, Any]) -> str:
        return parse_text(self._unquote(raw.get("code", "")))

    def write_named(self, raw: dict[str, Any]) -> None:
        """In a preview, a row naming the code of a requirement an earlier chunk only checked finds it written,
        so the row is previewed as the update the import will make."""
        code = self._row_code(raw)
        checked = (self._checked.pop(code, None) or self._checked.pop(code.upper(), None)) if code else None
        if checked is not None:
            self._write([checked])
            self._existing_add(checked.code)

    def wants_flush(self, raw: dict[str, Any]) -> bool:
        """A row naming the code of a requirement still waiting to be created finds it created."""
        code = self._row_code(raw)
        return bool(code) and code in self._pending_codes

    def flush(self, *, write: bool | None = None) -> None:
        """Create the waiting requirements at once (``requirements_create_many``); a refused one turns its row into
        an error, as a refusal by ``requirement_create`` would. A preview (``check_only``) only checks them, unless
        ``write``."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._pending_codes.clear()
        drafts = [draft for _o, _r, draft in pending]
        if write is None:
            write = not self.check_only
        made = self._write(drafts) if write else self._check(drafts)
        own_outcome, own_raw = self.outcome, self.raw
        try:
            for (outcome, raw, _draft), item in zip(pending, made, strict=True):
                self.outcome, self.raw = outcome, raw
                if isinstance(item, ValidationError):
                    outcome.action = "error"
                    self.note_refusal(item, self.fields)
                elif isinstance(item, DatabaseError):
                    outcome.action = "error"
                    self.error("", _("数据库拒绝了这一行：%(error)s") % {"error": item}, value="")
                elif isinstance(item, PermissionDenied):
                    outcome.action = "error"
                    self.error("", str(item), value="")
                elif write:
                    outcome.code = item.code
                    self._existing_add(item.code)
        finally:
            self.outcome, self.raw = own_outcome, own_raw

    def _existing_add(self, code: str) -> None:
        if hasattr(self, "_existing"):
            self._existing.add(code)

    def _write(self, drafts: list[NewRequirement]) -> list[Any]:
        """Create ``drafts``, with the new contacts they name first; what refuses the whole chunk is given for each."""
        from needpool.customers.services import contacts_create_many
        from needpool.requirements.services import requirements_create_many

        contacts: dict[int, Contact] = {}
        for draft in drafts:
            if draft.contact is not None and draft.contact.pk is None:
                contacts[id(draft.contact)] = draft.contact
        try:
            with transaction.atomic():
                contacts_create_many(actor=self.actor, contacts=list(contacts.values()))
                return list(requirements_create_many(actor=self.actor, drafts=drafts))
        except (DatabaseError, PermissionDenied) as exc:
            return [exc] * len(drafts)

    def _check(self, drafts: list[NewRequirement]) -> list[Any]:
        """Check ``drafts`` as the import will create them, writing nothing (a preview)."""
        from needpool.requirements.services import requirements_create_many

        made = requirements_create_many(actor=self.actor, drafts=drafts, check_only=True)
        for draft, item in zip(drafts, made, strict=True):
            if draft.code and not isinstance(item, Exception):
                self._checked[draft.code] = draft
        return made

    def prepare(self, raws: list[dict[str, Any]]) -> None:
        """Read the requirements a chunk of rows names in a few queries, instead of a few queries per row."""
        codes: set[str] = set()
        for raw in raws:
            code = parse_text(self._unquote(raw.get("code", "")))
            if code:
                codes.update((code, code.upper()))
        self._existing = set(Requirement.all_objects.filter(code__in=codes).values_list("code", flat=True))
        self._prepared = {r.code: r for r in self._requirements().filter(code__in=codes)}

    def update_requirement(self, requirement: Requirement, changes: dict[str, Any]) -> Requirement:
        from needpool.requirements.services import requirement_update

        if not changes:
            return requirement
        updated: Requirement = self.call(requirement_update, self.fields, requirement=requirement, **changes)
        return updated

    def description_change(self, requirement: Requirement, description: str | None) -> dict[str, Any]:
        # A blank description keeps the record's; the title is never rewritten from the sheet on update.
        if description and self.decide("description", description, requirement_description(requirement), text=True):
            return {"description": description}
        return {}

    def option_changes(self, requirement: Requirement, values: dict[str, Any]) -> dict[str, Any]:
        """What the sheet changes of a requirement's classification, by each column's update policy."""
        changes: dict[str, Any] = {}
        for key in ("type", "urgency"):
            if key in values:
                current = getattr(requirement, key) if getattr(requirement, f"{key}_id") else None
                if self.decide(
                    key,
                    getattr(values[key], "pk", None),
                    getattr(current, "pk", None),
                    new_shown=str(values[key] or ""),
                    old_shown=str(current or ""),
                ):
                    changes[key] = values[key]
        if "tags" in values and values["tags"] is not None:
            new = sorted(t.pk for t in values["tags"])
            tags = requirement_tags(requirement)
            if self.decide(
                "tags",
                new,
                sorted(t.pk for t in tags),
                new_shown="/".join(str(t) for t in values["tags"]),
                old_shown="/".join(str(t) for t in tags),
            ):
                changes["tags"] = values["tags"]
        if "expected_date" in values:
            if self.decide("expected_date", values["expected_date"], requirement.expected_date):
                changes["expected_date"] = values["expected_date"]
            elif getattr(self, "_past_date", "") in self.outcome.warnings:
                self.outcome.warnings.remove(self._past_date)
        return changes

    def read_common(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.present("type"):
            values["type"] = self.option("type", Dimension.TYPE)
        if self.present("urgency"):
            values["urgency"] = self.option("urgency", Dimension.URGENCY)
        if self.present("tags"):
            values["tags"] = self.tags("tags")
        if self.present("expected_date"):
            values["expected_date"] = self.date_cell("expected_date")
            day = values["expected_date"]
            if day is not None and day < timezone.localdate():
                # Old sheets hold old dates: imported as written, but nobody is surprised later (an existing
                # requirement that already has this date is not flagged: see option_changes).
                self._past_date = _("%(column)s %(day)s 已经过去：按表格导入，请确认。") % {
                    "column": self.title("expected_date"),
                    "day": day.isoformat(),
                }
                self.outcome.warnings.append(self._past_date)
        return values

    def code(self) -> str:
        return self.text("code", max_length=40) or ""

    def find_target(self, code: str) -> tuple[Requirement | None, bool]:
        """(the requirement the row's code names or None, whether that is known): an unusable code is noted as
        an error and the row's other cells are still checked."""
        try:
            return self.find_requirement(code), True
        except RowFailed:
            return None, False

    def flag_not_standardised(self, requirement: Requirement) -> None:
        """Flag a new requirement the standardisation gate (信息标准化) would still stop, and what it misses."""
        from needpool.requirements.lifecycle import standardisation_missing

        self.flag_missing(standardisation_missing(requirement))

    def flag_missing(self, missing: list[str]) -> None:
        from needpool.requirements.lifecycle import GATE_LABELS

        if missing:
            self.outcome.flags.append(
                {
                    "kind": "not_standardised",
                    "missing": missing,
                    "message": _("新需求尚未标准化：缺少%(missing)s，离开初始状态前需补齐。")
                    % {"missing": human_join([GATE_LABELS[m]() for m in missing])},
                }
            )

    def check_inactive(self, values: dict[str, Any], requirement: Requirement | None) -> None:
        """A disabled option may stay where it already is (so old records round-trip), not be newly chosen."""
        for key in ("type", "urgency"):
            option = values.get(key)
            kept = requirement is not None and getattr(requirement, f"{key}_id") == getattr(option, "pk", None)
            if option is not None and not option.is_active and not kept:
                self.error(key, _("选项“%(value)s”已停用。") % {"value": str(option)})
        current_tags = {t.pk for t in requirement.tags.all()} if requirement is not None else set()
        for tag in values.get("tags") or []:
            if not tag.is_active and tag.pk not in current_tags:
                self.error("tags", _("标签“%(value)s”已停用。") % {"value": str(tag)})

    def warn_source(self, requirement: Requirement, keys: Iterable[str], submitted_at: dt.datetime | None) -> None:
        """Where an existing requirement came from is not rewritten by an import: differences are warnings."""
        row = self.export_row(requirement)
        evidence = first_feedback(requirement)
        customer = evidence.customer if evidence else None
        also = [customer.code, f"{customer.code} {customer.name}"] if customer else []
        why = _("导入不修改已有需求的来源信息。")
        for key in keys:
            self.warn_if_different(key, row[key], why, also=also if key in ("customer", "requester") else ())
        if self.present("submitted_at") and not same_moment(submitted_at, requirement.submitted_at):
            self.outcome.warnings.append(
                _("“%(column)s”与现有记录不同（表中“%(sheet)s”，现为“%(current)s”）：%(why)s")
                % {
                    "column": self.title("submitted_at"),
                    "sheet": display(self.raw["submitted_at"]),
                    "current": display(row["submitted_at"]),
                    "why": why,
                }
            )

"""The base handler: reading cells, calling services as the importing user, finding records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.text import human_join
from needpool.customers.models import Contact, Customer
from needpool.customers.permissions import visible_customers
from needpool.intake.transfer.imports.handlers.lookups import CREATE, IGNORE, Lookups
from needpool.intake.transfer.imports.handlers.outcomes import (
    OVERWRITE,
    SKIP,
    CellError,
    ImportOptions,
    RowFailed,
    RowOutcome,
)
from needpool.intake.transfer.imports.layouts import Layout
from needpool.intake.transfer.imports.reading import Header
from needpool.intake.transfer.imports.values import (
    CellProblem,
    Lookup,
    company_key,
    display,
    is_blank,
    is_shortened,
    local_moment,
    normalize,
    parse_date_ex,
    parse_datetime_ex,
    parse_text,
    pick_one,
    split_list,
)
from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassOption, Feedback, Requirement
from needpool.requirements.permissions import visible_requirements

CONTACT_NAME_MAX = 60  # Contact.name


def _empty(value: Any) -> bool:
    """A record's field with nothing in it (None, "", no tags; a contact without phone and mail)."""
    if isinstance(value, list | tuple):
        return all(_empty(v) for v in value)
    return value is None or value == ""


class RowHandler:
    layout: ClassVar[Layout]

    def __init__(self, *, actor: User, header: Header, options: ImportOptions, lookups: Lookups) -> None:
        self.actor = actor
        self.header = header
        self.options = options
        self.lookups = lookups
        self.outcome = RowOutcome(row=0)
        self.raw: dict[str, Any] = {}
        self._customers: dict[str, Customer] = {}
        self._contacts: dict[tuple[int, str], Contact] = {}
        self._contacts_read: set[int] = set()  # customers whose contacts are all in ``_contacts``
        self._may_add_contacts: dict[int, bool] = {}
        # A preview: what waits for ``flush`` is only checked there, not written (see RequirementRows).
        self.check_only = False
        self._mapped_customers: dict[str, Customer | None] = {}

    # Requirement sheets never rename customers or contacts, so what a query found stays right for the run.
    cache_customers: ClassVar[bool] = True
    # New contacts wait for the handler's flush (only where everything that uses them waits too).
    defer_contacts: ClassVar[bool] = False

    def prepare(self, raws: list[dict[str, Any]]) -> None:
        """Read ahead what a chunk of rows names (optional)."""

    def write_named(self, raw: dict[str, Any]) -> None:
        """Before the row ``raw`` is read: write what a preview only checked and that row names (optional)."""

    def wants_flush(self, raw: dict[str, Any]) -> bool:
        """Whether what earlier rows left to ``flush`` must be written before the row ``raw`` is read."""
        return False

    def flush(self, *, write: bool | None = None) -> None:
        """Write what the rows since the last flush left to be written together (optional: see RequirementRows)."""

    # -- reading cells

    def present(self, key: str) -> bool:
        return key in self.raw

    def filled(self, key: str) -> bool:
        return key in self.raw and not is_blank(self.raw[key])

    def title(self, key: str) -> str:
        return self.header.title(key) if key else ""

    def error(self, key: str, message: str, value: Any = None) -> None:
        shown = display(self.raw.get(key, "")) if value is None and key else display(value)
        self.outcome.errors.append(
            CellError(row=self.outcome.row, column=self.title(key), value=shown, message=str(message))
        )

    def fail(self, key: str, message: str) -> RowFailed:
        self.error(key, message)
        return RowFailed()

    def cell(self, key: str, parser: Callable[..., Any], **kwargs: Any) -> Any:
        """The parsed cell, or None when the column is absent or the cell unreadable (then an error is noted)."""
        if key not in self.raw:
            return None
        try:
            return parser(self._unquote(self.raw[key]), **kwargs)
        except CellProblem as problem:
            self.error(key, problem.message)
            return None

    def date_cell(self, key: str, *, with_time: bool = False) -> Any:
        """The date (``with_time``: aware date-time) a cell holds, or None; a value read by interpretation
        (a quarter, a month, a year, an Excel serial) is flagged for the preview."""
        if key not in self.raw:
            return None
        raw = self._unquote(self.raw[key])
        value: dt.date | dt.datetime | None
        try:
            if with_time:
                value, note = parse_datetime_ex(raw)
                shown = display(local_moment(value))
            else:
                value, note = parse_date_ex(raw)
                shown = display(value)
        except CellProblem as problem:
            self.error(key, problem.message)
            return None
        if note and value is not None:
            self.flag_interpreted(key, shown, note)
        return value

    def flag_interpreted(self, key: str, read_as: str, why: str) -> None:
        """Note for the preview that the cell ``key`` was read as ``read_as`` by interpretation (``why``)."""
        column, value = self.title(key), display(self._unquote(self.raw.get(key, "")))
        self.outcome.flags.append(
            {
                "kind": "interpreted",
                "column": column,
                "value": value,
                "read_as": read_as,
                "message": _("%(column)s“%(value)s”读作“%(read_as)s”：%(why)s。")
                % {"column": column, "value": value, "read_as": read_as, "why": why},
            }
        )

    def check_contact_details(self, key: str, phone: str, email: str) -> None:
        """The contact privacy rule (work phone, no personal mobile or mailbox) on a cell, without writing."""
        from needpool.core.config import personal_email_domains
        from needpool.customers.privacy import check_contact_privacy

        try:
            check_contact_privacy(phone=phone, email=email, personal_domains=personal_email_domains())
        except ValidationError as exc:
            for message in exc.messages:
                self.error(key, message)

    def check_contact_name(self, key: str, name: str) -> bool:
        """A contact name fits the record (noted as an error otherwise)."""
        if len(name) > CONTACT_NAME_MAX:
            self.error(
                key,
                _("联系人姓名最多 %(limit)s 个字，现在 %(length)s 个。")
                % {"limit": CONTACT_NAME_MAX, "length": len(name)},
            )
            return False
        return True

    @staticmethod
    def _unquote(raw: Any) -> Any:
        """A CSV export guards text starting with = + - @ with a quote (so Excel does not run it); drop it."""
        if isinstance(raw, str) and len(raw) > 1 and raw[0] == "'" and raw[1] in "=+-@":
            return raw[1:]
        return raw

    def text(self, key: str, max_length: int | None = None) -> str | None:
        return self.cell(key, parse_text, max_length=max_length)

    def option(self, key: str, dimension: str) -> ClassOption | None:
        """The option a cell names (active or not: see ``check_inactive``)."""
        text = self.text(key)
        if not text:
            return None
        try:
            pk = pick_one(
                self.lookups.by_dimension.get(dimension, Lookup()).find(text),
                text,
                unknown=lambda: (
                    _("“%(value)s”不是可选的%(dimension)s。可选：%(choices)s。")
                    % {
                        "value": text,
                        "dimension": Dimension(dimension).label,
                        "choices": human_join(
                            [str(o) for o in self.lookups.options.values() if o.dimension == dimension and o.is_active]
                        ),
                    }
                ),
                ambiguous=lambda: _("“%(value)s”对应多个选项。") % {"value": text},
            )
        except CellProblem as problem:
            self.error(key, problem.message)
            return None
        if pk == IGNORE:  # mapped to "leave empty" in the mapping step
            return None
        return self.lookups.options[pk]

    def tags(self, key: str) -> list[ClassOption] | None:
        if key not in self.raw:
            return None
        found: list[ClassOption] = []
        lookup = self.lookups.by_dimension.get(Dimension.TAG, Lookup())
        for name in split_list(self._unquote(self.raw[key])):
            pks = lookup.find(name)
            if pks == {IGNORE}:
                continue
            if len(pks) != 1:
                choices = human_join(
                    [str(o) for o in self.lookups.options.values() if o.dimension == Dimension.TAG and o.is_active]
                )
                self.error(key, _("“%(value)s”不是已有标签。可选：%(choices)s。") % {"value": name, "choices": choices})
                continue
            option = self.lookups.options[next(iter(pks))]
            if option not in found:
                found.append(option)
        return found

    def choice(self, key: str, lookup: Lookup, choices: Any) -> str | None:
        text = self.text(key)
        if not text:
            return None
        try:
            value = pick_one(
                lookup.find(text),
                text,
                unknown=lambda: (
                    _("“%(value)s”无法识别。可选：%(choices)s。")
                    % {"value": text, "choices": human_join([str(label) for _v, label in choices.choices])}
                ),
                ambiguous=lambda: _("“%(value)s”对应多个选项。") % {"value": text},
            )
        except CellProblem as problem:
            self.error(key, problem.message)
            return None
        return None if value == IGNORE else value

    def user(self, key: str) -> User | None:
        text = self.text(key)
        if not text:
            return None
        try:
            pk = pick_one(
                self.lookups.users.find(text),
                text,
                unknown=lambda: _("找不到用户“%(value)s”：请填写系统中的用户名或姓名。") % {"value": text},
                ambiguous=lambda: _("有多个用户叫“%(value)s”，请改填用户名。") % {"value": text},
            )
        except CellProblem as problem:
            self.error(key, problem.message)
            return None
        if pk == IGNORE:  # mapped to "nobody" in the mapping step
            self.unassigned = True
            return None
        return self.lookups.user_objects[pk]

    # -- calling services

    def call(self, service: Callable[..., Any], fields: dict[str, str], **kwargs: Any) -> Any:
        """Call a service as the importing user; its validation errors land on the columns they concern."""
        try:
            return service(actor=self.actor, **kwargs)
        except PermissionDenied as exc:
            self.error("", str(exc) or _("您没有执行此操作的权限。"), value="")
            raise RowFailed from exc
        except ValidationError as exc:
            self.note_refusal(exc, fields)
            raise RowFailed from exc

    def note_refusal(self, exc: ValidationError, fields: dict[str, str]) -> None:
        """A service's validation errors, each on the column it concerns (``fields``: service field → column)."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                key = fields.get(name, "")
                for error in errors:
                    for message in error.messages:
                        self.error(key, message, value=None if key else "")
        else:
            for message in exc.messages:
                self.error("", message, value="")

    def compare(self, key: str, new: Any, current: Any) -> bool:
        """Note ``key`` as changed when the sheet's value differs from the record's."""
        if self.present(key) and new != current:
            self.outcome.changes.append(self.title(key))
            return True
        return False

    def decide(
        self,
        key: str,
        new: Any,
        current: Any,
        *,
        new_shown: str | None = None,
        old_shown: str | None = None,
        text: bool = False,
        policy: str = "",
    ) -> bool:
        """Whether the sheet's ``new`` value of column ``key`` replaces the record's ``current`` one.

        The column's update policy decides (``ImportOptions.update_policy``; ``policy`` is the default for a
        column nobody chose for): "fill" (the default) fills an empty field and keeps a filled one,
        "overwrite" replaces it, "skip" leaves it alone. A text (``text``) never replaces a longer text it
        is a shortened form of (``is_shortened``), whatever the policy. Every difference is noted in
        ``outcome.diffs`` with what was done and why; an applied one also in ``outcome.changes``.
        """
        if not self.present(key) or new == current:
            return False
        chosen = self.options.policy(key, policy) if policy else self.options.policy(key)
        shortened = text and isinstance(new, str) and isinstance(current, str) and is_shortened(new, current)
        if chosen == SKIP:
            applied, reason = False, _("按所选方式跳过此列。")
        elif _empty(current):
            applied, reason = True, _("原为空，已填入。")
        elif shortened:
            applied, reason = False, _("表中内容是现有内容的缩写：较短的内容不会替换较长的内容。")
            if chosen == OVERWRITE:
                self.outcome.warnings.append(
                    _("“%(column)s”未覆盖：表中“%(sheet)s”是现有内容的缩写。")
                    % {"column": self.title(key), "sheet": display(new)}
                )
        elif chosen == OVERWRITE:
            applied, reason = True, _("按所选方式覆盖原值。")
        else:
            applied, reason = False, _("已有值：只填空值时保留原值。")
        self.outcome.diffs.append(
            {
                "column": self.title(key),
                "key": key,
                "old": display(current) if old_shown is None else old_shown,
                "new": display(new) if new_shown is None else new_shown,
                "applied": applied,
                "reason": reason,
                "policy": chosen,
            }
        )
        if applied:
            self.outcome.changes.append(self.title(key))
        return applied

    def warn_if_different(self, key: str, shown: str, message: str, *, also: Iterable[str] = ()) -> None:
        if not self.present(key):
            return
        sheet = normalize(parse_text(self._unquote(self.raw[key])))
        if sheet not in {normalize(shown), *(normalize(a) for a in also)}:
            self.outcome.warnings.append(
                _("“%(column)s”与现有记录不同（表中“%(sheet)s”，现为“%(current)s”）：%(why)s")
                % {"column": self.title(key), "sheet": sheet, "current": shown, "why": message}
            )

    # -- records

    def mapped_customer(self, text: str) -> Customer | str | None:
        """The customer the mapping step chose for ``text``, CREATE when it is to be created, else None."""
        alias = self.lookups.customer_aliases.get(company_key(text)) if self.lookups.customer_aliases else None
        if alias is None or alias == CREATE:
            return alias
        # A customer chosen on the mapping form existed before the run: read once, not once per row.
        if alias not in self._mapped_customers:
            self._mapped_customers[alias] = visible_customers(self.actor).filter(pk=int(alias)).first()
        return self._mapped_customers[alias]

    def find_customers(self, text: str) -> list[Customer]:
        mapped = self.mapped_customer(text)
        if isinstance(mapped, Customer):
            return [mapped]
        token = text.split()[0] if text.split() else text
        codes = {token, token.upper()}
        if text in self._customers:
            found = [self._customers[text]]
        else:
            # A code ("C2024001" or "C2024001 A科技公司") wins over a name; a name matches by its company_key.
            found = list(visible_customers(self.actor).filter(code__in=codes).order_by("id")[:2])
            found = found or self.match_name(text)
        if len(found) == 1 and self.cache_customers:
            # Found by a query, so it exists in the transaction for good (not created by a row rolled back later).
            self._customers[text] = found[0]
        if len(found) == 1 and found[0].code not in codes:
            self.note_spelling(text, found[0])
        return found

    # The company_key of every visible customer's name → their ids, read once per run (see customer_names).
    _customer_names: dict[str, set[int]] | None = None

    def customer_names(self) -> dict[str, set[int]]:
        """Visible customers by the company_key of their name: one query per run instead of one per row;
        customers a row creates or renames are added (``remember_customer``)."""
        if self._customer_names is None:
            names: dict[str, set[int]] = {}
            for pk, name in visible_customers(self.actor).values_list("pk", "name").iterator(chunk_size=5000):
                names.setdefault(company_key(name), set()).add(pk)
            self._customer_names = names
        return self._customer_names

    def remember_customer(self, customer: Customer) -> None:
        if self._customer_names is not None:
            self._customer_names.setdefault(company_key(customer.name), set()).add(customer.pk)

    def match_name(self, text: str) -> list[Customer]:
        """The visible customers ``text`` names, however it is spelled (``company_key``): one, or two or more
        when it is ambiguous. A customer written exactly as ``text`` (width and spaces aside) wins over the
        other spellings."""
        key = company_key(text)
        ids = self.customer_names().get(key)
        if not key or not ids:
            return []
        # A row rolled back takes the customer it created with it, a renamed one keeps its old key: re-check.
        candidates = visible_customers(self.actor).filter(pk__in=ids).order_by("id")
        found = [c for c in candidates if company_key(c.name) == key]
        exact = [c for c in found if normalize(c.name) == normalize(text)]
        return exact if len(exact) == 1 else found

    def note_spelling(self, text: str, customer: Customer) -> None:
        """A customer matched by a different spelling of its name is named in a warning."""
        if normalize(text) != normalize(customer.name):
            self.outcome.warnings.append(
                _("“%(text)s”按名称匹配到已有客户“%(name)s”（%(code)s）。")
                % {"text": text, "name": customer.name, "code": customer.code}
            )

    def lookup_customer(self, key: str, text: str) -> tuple[Customer | None, str]:
        """(the customer ``text`` names, or "" ; the name to create when it is missing and creating is allowed).

        Only reads: an unknown or ambiguous customer is noted as an error together with the row's other errors.
        """
        if not text:
            return None, ""
        found = self.find_customers(text)
        if len(found) == 1:
            return found[0], ""
        if len(found) > 1:
            self.error(key, _("有多个客户名为“%(name)s”，请改填客户编号。") % {"name": text})
        elif self.options.create_customers or self.mapped_customer(text) == CREATE:
            return None, text
        else:
            self.error(key, _("客户不存在或您无权访问。可勾选“自动新建不存在的客户”。"))
        return None, ""

    def create_customer(self, key: str, name: str) -> Customer:
        from needpool.customers.services import customer_create

        created: Customer = self.call(customer_create, {"name": key}, name=name)
        self.remember_customer(created)
        self.outcome.warnings.append(
            _("新建客户“%(name)s”（%(code)s）。") % {"name": created.name, "code": created.code}
        )
        return created

    def resolve_contact(self, key: str, name: str, customer: Customer | None) -> Contact | None:
        if not name:
            return None
        if customer is None:
            raise self.fail(key, _("填写联系人时必须同时填写客户。"))
        if not self.check_contact_name(key, name):
            raise RowFailed
        cached = self._contacts.get((customer.pk, name))
        if cached is not None:
            return cached
        if self.cache_customers and customer.pk not in self._contacts_read:
            # The customer's contacts are read once for the run (a sheet names the same few again and again).
            self._contacts_read.add(customer.pk)
            for known in customer.contacts.order_by("-id"):
                self._contacts[(customer.pk, known.name)] = known  # the first of a name wins, as below
            cached = self._contacts.get((customer.pk, name))
            if cached is not None:
                return cached
        # A customer whose contacts were read holds, besides them, the contacts rows of this run created (those
        # that went through: ``process``), so a name not among them is new; otherwise ask the database.
        read = self.cache_customers and customer.pk in self._contacts_read
        found = None if read else customer.contacts.filter(name=name).order_by("id").first()
        if found is not None:
            if self.cache_customers:
                self._contacts[(customer.pk, name)] = found
            return found
        if self.defer_contacts:
            contact = self.contact_later(key, customer, name)
        else:
            from needpool.customers.services import contact_create

            contact = self.call(contact_create, {"name": key}, customer=customer, name=name)
        self._row_contacts.append(contact)  # known to later rows once this row has gone through (``process``)
        self.outcome.warnings.append(
            _("为客户“%(customer)s”新建联系人“%(name)s”。") % {"customer": customer.name, "name": name}
        )
        return contact

    def contact_later(self, key: str, customer: Customer, name: str) -> Contact:
        """A new contact checked now (permission, fields) and saved with the new requirements that name it
        (``flush``)."""
        from needpool.customers.permissions import can_write_customer
        from needpool.customers.services import contact_prepare

        allowed = self._may_add_contacts.get(customer.pk)
        if allowed is None:
            allowed = self._may_add_contacts[customer.pk] = can_write_customer(self.actor, customer)
        if not allowed:
            raise self.fail("", _("您没有维护该客户的权限。"))
        try:
            return contact_prepare(customer=customer, name=name)
        except ValidationError as exc:
            self.note_refusal(exc, {"name": key})
            raise RowFailed from exc

    def _requirements(self) -> QuerySet[Requirement]:
        return (
            visible_requirements(self.actor)
            .select_related("merged_into", "type", "urgency", "status", "owner")
            .prefetch_related(
                Prefetch("tags", queryset=ClassOption.objects.order_by("sort_order", "id")),
                Prefetch(
                    "feedback_items",
                    queryset=Feedback.objects.select_related("customer", "contact").order_by("received_at", "id"),
                    to_attr="all_feedback",
                ),
            )
        )

    def find_requirement(self, code: str) -> Requirement | None:
        if not code:
            return None
        codes = {code, code.upper()}
        prepared = getattr(self, "_prepared", {})
        # Each prepared record serves one row; a code named again (or created by an earlier row) is read anew.
        found = next((prepared.pop(c) for c in codes if c in prepared), None)
        if found is None:
            if not codes & getattr(self, "_existing", codes):
                return None
            found = self._requirements().filter(code__in=codes).first()
        if found is None:
            if Requirement.all_objects.filter(code__in=codes).exists():  # a deleted one keeps its code
                raise self.fail(
                    self.layout.code_column, _("需求编号“%(code)s”已被使用，或您无权修改该需求。") % {"code": code}
                )
            return None
        found.export_feedback = found.all_feedback[:1]  # type: ignore[union-attr]
        if found.merged_into_id:
            raise self.fail(
                self.layout.code_column,
                _("需求 %(code)s 已合并到 %(survivor)s，请改用 %(survivor)s。")
                % {"code": found.code, "survivor": found.merged_into.code if found.merged_into else ""},
            )
        return found

    def process(self, number: int, raw: dict[str, Any]) -> RowOutcome:
        """Handle one row; raises RowFailed (after noting errors) so the caller rolls the row back."""
        self.outcome = RowOutcome(row=number)
        self.raw = raw
        self.unassigned = False
        self._row_contacts: list[Contact] = []
        try:
            self.handle()
        finally:
            # Errors in the order of the sheet's columns (row-wide ones first), whatever order they were found in.
            order = {self.header.titles[p]: p for p in self.header.columns}
            self.outcome.errors.sort(key=lambda e: order.get(e.column, -1))
        if self.outcome.errors:
            raise RowFailed
        for contact in self._row_contacts:
            if contact.customer_id in self._contacts_read:
                self._contacts.setdefault((contact.customer_id, contact.name), contact)
        if not self.outcome.action:
            self.outcome.action = "update" if self.outcome.changes else "unchanged"
        if self.outcome.action == "create" and hasattr(self, "_existing"):
            self._existing.add(self.outcome.code)
        return self.outcome

    def check(self) -> None:
        if self.outcome.errors:
            raise RowFailed

    def handle(self) -> None:
        raise NotImplementedError

    # -- export

    @classmethod
    def export_row(cls, record: Any) -> dict[str, Any]:
        raise NotImplementedError

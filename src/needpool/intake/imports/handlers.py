"""One handler per layout: read a row, find what it names, and write it through the domain services.

A row's code decides: a code that exists (and the user may see) → update; a new code → create with
that code; no code → create with a new code. On update only the columns present in the sheet are
compared, each against the value the export would write for it (``current``), so exporting and
importing the same sheet changes nothing. Columns that describe where a requirement came from (its
first feedback item: customer, contact, source, submitted at) are set on create and only compared on
update: a difference is a warning, not a change.

Every handler also knows how to turn a record into a row (``export_row``): the export and the
comparison share the same code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis.models import RequirementAnalysis
from needpool.core.text import human_join
from needpool.customers.choices import FollowStatus, InteractionChannel
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import visible_customers
from needpool.intake.imports.layouts import INTAKE, MANAGEMENT, PRIORITY, RELATIONSHIP, Layout
from needpool.intake.imports.reading import Header
from needpool.intake.imports.values import (
    CellProblem,
    Lookup,
    choice_label,
    choice_lookup,
    display,
    is_blank,
    leading_date,
    local_moment,
    normalize,
    parse_date,
    parse_datetime,
    parse_text,
    parse_whole,
    pick_one,
    split_list,
)
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.models import ClassOption, Feedback, Requirement, WorkflowStatus
from needpool.requirements.permissions import visible_requirements

IMPLICIT_PREFIX = "隐性："
IMPLICIT_SOURCE = "implicit"  # the 需求来源 option of an implicit need
LIST_JOIN = "/"
ASKS_JOIN = "；"
TITLE_LENGTH = 60

# Free-text sources ("客户A电话反馈", "销售部门提案") → channel, first match wins (internal before sales).
CHANNEL_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (Channel.INTERNAL, ("内部", "部门", "提案", "internal")),
    (Channel.AFTER_SALES, ("售后", "after-sales", "aftersales")),
    (Channel.TICKET, ("工单", "客服", "ticket")),
    (Channel.WEBSITE_FORM, ("官网", "网站", "表单", "website")),
    (Channel.APP_FEEDBACK, ("app", "反馈入口", "小程序")),
    (Channel.SOCIAL_MEDIA, ("社交", "微博", "微信", "抖音", "小红书", "社群", "social")),
    (Channel.ECOMMERCE_REVIEW, ("电商", "评价", "淘宝", "京东", "review")),
    (Channel.INTERVIEW, ("访谈", "interview")),
    (Channel.FOCUS_GROUP, ("焦点小组", "focus")),
    (Channel.SURVEY, ("问卷", "调研", "调查", "survey")),
    (Channel.INDUSTRY_EVENT, ("展会", "行业活动", "行业会议", "峰会", "event")),
    (Channel.USAGE_DATA, ("使用数据", "埋点", "usage")),
    (Channel.SALES, ("销售", "电话", "拜访", "面谈", "sales", "phone", "call")),
)
INTERACTION_SYNONYMS = {
    InteractionChannel.PHONE: ("电话沟通", "电话联系", "致电", "Phone call", "Call"),
    InteractionChannel.VISIT: ("线下会议", "上门拜访", "面谈", "拜访客户", "现场", "Meeting", "On-site visit"),
    InteractionChannel.ONLINE_MEETING: ("视频会议", "在线会议", "腾讯会议", "Video call", "Online meeting"),
    InteractionChannel.EMAIL: ("电子邮件", "Email", "E-mail"),
    InteractionChannel.IM: ("微信", "企业微信", "钉钉", "飞书", "WeChat", "IM", "Chat"),
    InteractionChannel.EVENT: ("展会", "行业会议", "Event"),
}
FOLLOW_SYNONYMS = {
    FollowStatus.TODO: ("待处理", "To follow up", "To do", "Pending"),
    FollowStatus.ONGOING: ("处理中", "进行中", "In progress", "Ongoing"),
    FollowStatus.RESOLVED: ("已完成", "已关闭", "Resolved", "Done", "Closed"),
    FollowStatus.PAUSED: ("暂缓", "Paused", "On hold"),
}
URGENCY_SYNONYMS = {"normal": ("常规", "普通", "Regular"), "urgent": ("加急",), "important": ()}
NEED_PRIORITY = ((3, ("高", "High", "H")), (2, ("中", "Medium", "Mid", "M")), (1, ("低", "Low", "L")))


def need_priority_label(importance: int | None) -> str:
    if importance is None:
        return ""
    return {3: _("高"), 2: _("中")}.get(importance, _("低"))


def title_from(text: str) -> str:
    """A requirement title from its description: the first line, at most 60 characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:TITLE_LENGTH]


def split_asks(key_asks: str, implicit_lines: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """An interaction's key asks as (explicit, implicit) needs: implicit lines carry IMPLICIT_PREFIX or are
    among ``implicit_lines`` (see ``interaction_asks``)."""
    explicit: list[str] = []
    implicit: list[str] = []
    for line in key_asks.splitlines():
        line = line.strip()
        if not line:
            continue
        bare = normalize(line)
        if bare.startswith(("隐性:", "隐性：")):
            implicit.append(line[3:].strip())
        elif line in implicit_lines:
            implicit.append(line)
        else:
            explicit.append(line)
    return explicit, implicit


def with_requirement_source(feedback: QuerySet[Feedback]) -> QuerySet[Feedback]:
    """Feedback with ``requirement_source``: the 需求来源 key of the requirement it went into."""
    return feedback.annotate(requirement_source=F("requirement__source__key"))


def interaction_asks(interaction: Interaction) -> tuple[list[str], list[str]]:
    """The key asks as (explicit, implicit) needs. An ask is implicit when written with IMPLICIT_PREFIX,
    or when its feedback went into a requirement whose 需求来源 is 隐性 (the export prefetches the
    feedback as ``export_feedback``, with ``requirement_source``)."""
    items = getattr(interaction, "export_feedback", None)
    if items is None:
        items = list(with_requirement_source(interaction.feedback.only("id", "raw_text")))
    implicit = {f.raw_text.strip() for f in items if getattr(f, "requirement_source", None) == IMPLICIT_SOURCE}
    return split_asks(interaction.key_asks, implicit)


def clean(text: str | None) -> str:
    """Stored text as a sheet cell shows it (line ends unified, trimmed)."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def same_moment(sheet: dt.datetime | None, record: dt.datetime | None) -> bool:
    """Equal to the second; a sheet value without a time of day only has to match the record's date."""
    if sheet is None:
        return True
    sheet_local, record_local = local_moment(sheet), local_moment(record)
    if sheet_local is None or record_local is None:
        return sheet_local == record_local
    if sheet_local.time() == dt.time():
        return sheet_local.date() == record_local.date()
    return sheet_local == record_local


def user_label(user: User | None) -> str:
    return str(user) if user is not None else ""


# ---------------------------------------------------------------- outcomes


@dataclass
class CellError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class RowOutcome:
    row: int
    action: str = ""  # create, update, unchanged, error
    code: str = ""
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "action": self.action,
            "code": self.code,
            "changes": self.changes,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in self.errors],
        }


class RowFailed(Exception):
    """The row has errors: its writes are rolled back (the savepoint) and the next row is read."""


@dataclass
class ImportOptions:
    create_customers: bool = False  # a customer named in a requirement row that does not exist is created
    apply_status: bool = True  # 当前状态 moves the requirement through the workflow (else only compared)
    needs_to_feedback: bool = True  # 显性/隐性需求 become feedback items in the pool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(**{k: bool(v) for k, v in data.items() if k in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, bool]:
        return {
            "create_customers": self.create_customers,
            "apply_status": self.apply_status,
            "needs_to_feedback": self.needs_to_feedback,
        }


# ---------------------------------------------------------------- lookups shared by a whole run


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


# ---------------------------------------------------------------- the base handler

_SEPARATOR = re.compile(r"\s*[、，,/|–—]\s*|\s+-\s+")


class RowHandler:
    layout: ClassVar[Layout]

    def __init__(self, *, actor: Any, header: Header, options: ImportOptions, lookups: Lookups) -> None:
        self.actor = actor
        self.header = header
        self.options = options
        self.lookups = lookups
        self.outcome = RowOutcome(row=0)
        self.raw: dict[str, Any] = {}
        self._customers: dict[str, Customer] = {}
        self._contacts: dict[tuple[int, str], Contact] = {}

    # Requirement sheets never rename customers or contacts, so what a query found stays right for the run.
    cache_customers: ClassVar[bool] = True

    def prepare(self, raws: list[dict[str, Any]]) -> None:
        """Read ahead what a chunk of rows names (optional)."""

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
        return self.lookups.options[pk]

    def tags(self, key: str) -> list[ClassOption] | None:
        if key not in self.raw:
            return None
        found: list[ClassOption] = []
        lookup = self.lookups.by_dimension.get(Dimension.TAG, Lookup())
        for name in split_list(self._unquote(self.raw[key])):
            pks = lookup.find(name)
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
            return pick_one(
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
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    key = fields.get(name, "")
                    for error in errors:
                        for message in error.messages:
                            self.error(key, message, value=None if key else "")
            else:
                for message in exc.messages:
                    self.error("", message, value="")
            raise RowFailed from exc

    def compare(self, key: str, new: Any, current: Any) -> bool:
        """Note ``key`` as changed when the sheet's value differs from the record's."""
        if self.present(key) and new != current:
            self.outcome.changes.append(self.title(key))
            return True
        return False

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

    def find_customers(self, text: str) -> list[Customer]:
        if text in self._customers:
            return [self._customers[text]]
        token = text.split()[0] if text.split() else text
        codes = {token, token.upper()}
        # One query for both readings; a code ("C2024001" or "C2024001 A科技公司") wins over a name.
        candidates = list(visible_customers(self.actor).filter(Q(code__in=codes) | Q(name=text)).order_by("id")[:3])
        found = [c for c in candidates if c.code in codes] or [c for c in candidates if c.name == text][:2]
        if len(found) == 1 and self.cache_customers:
            # Found by a query, so it exists in the transaction for good (not created by a row rolled back later).
            self._customers[text] = found[0]
        return found

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
        elif self.options.create_customers:
            return None, text
        else:
            self.error(key, _("客户不存在或您无权访问。可勾选“自动新建不存在的客户”。"))
        return None, ""

    def create_customer(self, key: str, name: str) -> Customer:
        from needpool.customers.services import customer_create

        created: Customer = self.call(customer_create, {"name": key}, name=name)
        self.outcome.warnings.append(
            _("新建客户“%(name)s”（%(code)s）。") % {"name": created.name, "code": created.code}
        )
        return created

    def resolve_contact(self, key: str, name: str, customer: Customer | None) -> Contact | None:
        if not name:
            return None
        if customer is None:
            raise self.fail(key, _("填写联系人时必须同时填写客户。"))
        cached = self._contacts.get((customer.pk, name))
        if cached is not None:
            return cached
        found = customer.contacts.filter(name=name).order_by("id").first()
        if found is not None:
            if self.cache_customers:
                self._contacts[(customer.pk, name)] = found
            return found
        from needpool.customers.services import contact_create

        contact: Contact = self.call(contact_create, {"name": key}, customer=customer, name=name)
        self.outcome.warnings.append(
            _("为客户“%(customer)s”新建联系人“%(name)s”。") % {"customer": customer.name, "name": name}
        )
        return contact

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
            if Requirement.objects.filter(code__in=codes).exists():
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
        try:
            self.handle()
        finally:
            # Errors in the order of the sheet's columns (row-wide ones first), whatever order they were found in.
            order = {self.header.titles[p]: p for p in self.header.columns}
            self.outcome.errors.sort(key=lambda e: order.get(e.column, -1))
        if self.outcome.errors:
            raise RowFailed
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


# ---------------------------------------------------------------- requirement rows (shared helpers)


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

    def prepare(self, raws: list[dict[str, Any]]) -> None:
        """Read the requirements a chunk of rows names in a few queries, instead of a few queries per row."""
        codes: set[str] = set()
        for raw in raws:
            code = parse_text(self._unquote(raw.get("code", "")))
            if code:
                codes.update((code, code.upper()))
        self._existing = set(Requirement.objects.filter(code__in=codes).values_list("code", flat=True))
        self._prepared = {r.code: r for r in self._requirements().filter(code__in=codes)}

    def update_requirement(self, requirement: Requirement, changes: dict[str, Any]) -> Requirement:
        from needpool.requirements.services import requirement_update

        if not changes:
            return requirement
        updated: Requirement = self.call(requirement_update, self.fields, requirement=requirement, **changes)
        return updated

    def description_change(self, requirement: Requirement, description: str | None) -> dict[str, Any]:
        # A blank description keeps the record's; the title is never rewritten from the sheet on update.
        if description and self.compare("description", description, requirement_description(requirement)):
            return {"description": description}
        return {}

    def option_changes(self, requirement: Requirement, values: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for key in ("type", "urgency"):
            if key in values and self.compare(key, getattr(values[key], "pk", None), getattr(requirement, f"{key}_id")):
                changes[key] = values[key]
        if "tags" in values and values["tags"] is not None:
            new = sorted(t.pk for t in values["tags"])
            if self.compare("tags", new, sorted(t.pk for t in requirement.tags.all())):
                changes["tags"] = values["tags"]
        if "expected_date" in values and self.compare(
            "expected_date", values["expected_date"], requirement.expected_date
        ):
            changes["expected_date"] = values["expected_date"]
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
            values["expected_date"] = self.cell("expected_date", parse_date)
        return values

    def code(self) -> str:
        return self.text("code", max_length=40) or ""

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


class IntakeRows(RequirementRows):
    """客户需求信息表: one requirement and the customer's words as its first feedback item."""

    layout = INTAKE

    def handle(self) -> None:
        code = self.code()
        description = self.text("description") or ""
        customer_text = self.text("customer", max_length=200) or ""
        contact_name = self.text("contact", max_length=60) or ""
        channel = self.choice("channel", self.lookups.channels, Channel) if self.present("channel") else None
        submitted_at = self.cell("submitted_at", parse_datetime)
        values = self.read_common()
        requirement = self.find_requirement(code)
        self.check_inactive(values, requirement)
        if requirement is None:
            customer, missing = self.lookup_customer("customer", customer_text)
            if not description:
                self.error("description", _("新需求必须填写描述内容。"))
            self.check()
            if missing:
                customer = self.create_customer("customer", missing)
            contact = self.resolve_contact("contact", contact_name, customer)
            from needpool.requirements.services import requirement_create

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
                **{k: v for k, v in values.items() if v is not None and k != "urgency"},
            )
            self.outcome.action, self.outcome.code = "create", made.code
            return
        self.check()
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
        self.check()
        requirement = self.find_requirement(code)
        if requirement is None:
            if not description:
                raise self.fail("description", _("新需求必须填写需求描述。"))
            from needpool.requirements.services import requirement_create

            requirement = self.call(
                requirement_create, self.fields, code=code, title=title_from(description), description=description
            )
            self.outcome.action = "create"
            current: dict[str, Any] = {"priority": ""}
            analysis_changes = {k: v for k, v in {**scores, **insights}.items() if v not in (None, "")}
        else:
            current = self.export_row(requirement)
            changes = self.description_change(requirement, description)
            self.update_requirement(requirement, changes)
            analysis_changes = {}
            for key, value in {**scores, **insights}.items():
                if self.compare(key, value, current[key]):
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
            return found[0], self.resolve_contact("requester", contact_name[:60], found[0])
        if len(found) > 1:
            raise self.fail("requester", _("有多个客户名为“%(name)s”，请改填客户编号。") % {"name": name})
        if channel == Channel.INTERNAL:
            self.outcome.warnings.append(_("提出方“%(text)s”为内部部门，需求不关联客户。") % {"text": text})
            return None, None
        found_customer, missing = self.lookup_customer("requester", name)
        self.check()
        customer = self.create_customer("requester", missing) if missing else found_customer
        return customer, self.resolve_contact("requester", contact_name[:60], customer)

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


# ---------------------------------------------------------------- customer rows


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
        self.check()
        customer = self._customer(code, data)
        contact = self._contact(customer, contact_name, title, info)
        self._interaction(customer, contact)

    def _customer(self, code: str, data: dict[str, Any]) -> Customer:
        from needpool.customers.services import customer_create, customer_update

        customer = None
        if code:
            visible = visible_customers(self.actor)
            customer = visible.filter(code__in={code, code.upper()}).first()
            if customer is None and Customer.objects.filter(code__in={code, code.upper()}).exists():
                raise self.fail("code", _("客户编号“%(code)s”已被使用，或您无权修改该客户。") % {"code": code})
        if customer is None:
            if not data.get("name"):
                raise self.fail("name", _("新客户必须填写客户名称。"))
            if not code and Customer.objects.filter(name=data["name"]).exists():
                self.outcome.warnings.append(_("已有同名客户；未填客户编号，将新建一个客户。"))
            fields = {k: v for k, v in data.items() if v not in (None, "")}
            made: Customer = self.call(customer_create, self.customer_fields, code=code, **fields)
            self.outcome.action, self.outcome.code = "create", made.code
            return made
        self.outcome.code = customer.code
        changes: dict[str, Any] = {}
        for key in ("name", "industry", "notes"):
            if key in data and self.compare(key, data[key], clean(getattr(customer, key))):
                changes[key] = data[key]
        if data.get("follow_status") and self.compare("follow_status", data["follow_status"], customer.follow_status):
            changes["follow_status"] = data["follow_status"]
        # A blank owner keeps the current one (a new customer gets the importing user, as on the form).
        if data.get("owner") and self.compare("owner", data["owner"].pk, customer.owner_id):
            changes["owner"] = data["owner"]
        if changes:
            customer = self.call(customer_update, self.customer_fields, customer=customer, **changes)
        return customer

    def _contact(
        self, customer: Customer, name: str, title: str | None, info: tuple[str, str] | None
    ) -> Contact | None:
        from needpool.customers.services import contact_create, contact_update

        if not name:
            if title or (info and any(info)):
                raise self.fail("contact", _("填写职位或联系方式时必须填写对接人。"))
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
        if title is not None and self.compare("title", title, clean(existing.title)):
            changes["title"] = title
        if info is not None and self.compare("contact_info", info, (existing.phone, existing.email)):
            changes["phone"], changes["email"] = info
        if changes:
            existing = self.call(contact_update, self.contact_fields, contact=existing, **changes)
        return existing

    def _interaction(self, customer: Customer, contact: Contact | None) -> None:
        if not any(self.filled(key) for key in self.interaction_keys):
            return
        occurred_at = self.cell("occurred_at", parse_datetime)
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
        self.check()
        if occurred_at is None:
            raise self.fail("occurred_at", _("填写了沟通内容或需求时必须填写最近接触时间。"))
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


HANDLERS: dict[str, type[RowHandler]] = {
    handler.layout.key: handler for handler in (IntakeRows, PriorityRows, ManagementRows, RelationshipRows)
}


def when_text(value: dt.datetime | None) -> str:
    return display(local_moment(value)) if value else ""


__all__ = [
    "HANDLERS",
    "CellError",
    "ImportOptions",
    "Lookups",
    "RowFailed",
    "RowHandler",
    "RowOutcome",
    "timezone",
]

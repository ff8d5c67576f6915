"""The mapping step of an import: every value the pool does not know yet, with what to do about it.

After upload and before the row-by-row preview, ``scan`` lists per column each distinct value that no
option, choice, user, status or customer answers to, with a proposed action (best guess preselected by
synonym, keyword and similarity):

* options (标签, 需求类型, 紧急程度): map to an existing option, create it (administrators), or leave empty;
* choices (需求来源, 优先级, 接触方式, 当前状态 of a relationship row, 需求优先级): map to one, or leave empty;
* statuses (当前状态 of a requirement): the nearest status of the active flow (a status of the other
  default flow goes to the status of the same kind: 待分析 → 待处理, 开发中 → 处理中); the import then
  moves the requirement there along the flow's allowed moves;
* owners (负责人): a user, a team (its lead), or nobody;
* customers (客户名称, 提出方信息): an existing customer, or a new one.

The user's choices (``Mapping``: column → value key → ``Choice``) are checked against what the user may
see and do (``clean_mapping``), remembered per layout (``ImportValueMapping``) and applied to a run by
``apply_mapping``, which adds the mapped names to the run's lookups and creates what is to be created
inside the run's transaction (so a preview or a failed import leaves nothing).
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.accounts.models import Team, User
from needpool.customers.choices import FollowStatus, InteractionChannel
from needpool.customers.permissions import visible_customers
from needpool.intake.transfer.imports.handlers.common import CHANNEL_KEYWORDS, NEED_PRIORITY
from needpool.intake.transfer.imports.handlers.lookups import CREATE, IGNORE, Lookups
from needpool.intake.transfer.imports.reading import Header
from needpool.intake.transfer.imports.values import (
    Lookup,
    company_key,
    is_blank,
    normalize,
    parse_text,
    split_list,
    value_key,
)
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.models import Workflow, WorkflowStatus

SHOWN_VALUES = 300  # distinct values listed one by one per column; the rest follow the column's bulk action
GUESS_FLOOR = 0.6  # similarity from which an existing option is proposed instead of a new one

MAP, NEW, SKIP, TEAM = "map", "create", "ignore", "team"

# Column key → domain, per layout (the columns whose values must name something the pool knows).
COLUMN_DOMAINS: dict[str, dict[str, str]] = {
    "intake": {"customer": "customer", "channel": "channel", "type": "type", "urgency": "urgency", "tags": "tag"},
    "management": {
        "channel": "channel",
        "requester": "customer",
        "type": "type",
        "urgency": "urgency",
        "priority": "priority",
        "owner": "owner",
        "status": "status",
    },
    "priority": {"priority": "priority"},
    "relationship": {
        "channel": "interaction_channel",
        "need_priority": "need_priority",
        "follow_status": "follow_status",
        "owner": "owner",
    },
}
OPTION_DOMAINS = {"tag": Dimension.TAG, "type": Dimension.TYPE, "urgency": Dimension.URGENCY}
CHOICE_DOMAINS: dict[str, Any] = {
    "channel": Channel,
    "priority": Priority,
    "interaction_channel": InteractionChannel,
    "follow_status": FollowStatus,
}
DOMAIN_ACTIONS: dict[str, tuple[str, ...]] = {
    "tag": (NEW, MAP, SKIP),
    "type": (MAP, NEW, SKIP),
    "urgency": (MAP, NEW, SKIP),
    "channel": (MAP, SKIP),
    "priority": (MAP, SKIP),
    "interaction_channel": (MAP, SKIP),
    "follow_status": (MAP, SKIP),
    "need_priority": (MAP, SKIP),
    "status": (MAP, SKIP),
    "owner": (MAP, TEAM, SKIP),
    "customer": (NEW, MAP),
}
ACTION_LABELS = {
    MAP: gettext_lazy("对应到"),
    NEW: gettext_lazy("新建"),
    SKIP: gettext_lazy("留空"),
    TEAM: gettext_lazy("交给团队负责人"),
}
# Words people write for an existing value (keys of options, values of choices).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "type": {
        "function": ("新功能", "功能需求", "功能新增", "新增功能", "feature"),
        "function_improvement": ("功能改进", "功能优化需求", "改进", "优化", "improvement"),
        "experience": ("体验优化", "用户体验", "交互", "界面", "ui", "ux"),
        "bug": ("缺陷", "故障", "bug", "问题", "报错", "异常"),
        "service": ("服务需求", "售后", "培训", "实施"),
        "price": ("价格需求", "报价", "折扣", "优惠", "费用"),
    },
    "urgency": {
        "urgent": ("非常紧急", "很急", "加急", "特急", "高", "紧迫", "high", "p0"),
        "important": ("较急", "中", "中等", "较高", "medium", "p1"),
        "normal": ("不急", "低", "普通", "常规", "一般性", "low", "p2", "p3"),
    },
    "priority": {
        "P0": ("最高", "紧急", "极高"),
        "P1": ("高",),
        "P2": ("中", "普通"),
        "P3": ("低", "最低"),
    },
    "need_priority": {"3": ("紧急", "很高", "最高", "重要"), "2": ("一般", "普通", "中等"), "1": ("较低", "不急")},
}


@dataclass(frozen=True)
class Choice:
    action: str
    target: str = ""  # option / user / team / status / customer id, or a choice value

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "target": self.target}


Mapping = dict[str, dict[str, Choice]]  # column key → value key → choice


def mapping_from_params(data: Any) -> Mapping:
    mapping: Mapping = {}
    for column, values in (data or {}).items():
        if isinstance(values, dict):
            mapping[str(column)] = {
                str(k): Choice(str(v.get("action", "")), str(v.get("target", "")))
                for k, v in values.items()
                if isinstance(v, dict)
            }
    return mapping


def mapping_to_params(mapping: Mapping) -> dict[str, dict[str, dict[str, str]]]:
    return {column: {k: c.as_dict() for k, c in values.items()} for column, values in mapping.items()}


# ---------------------------------------------------------------- similarity


def similarity(a: str, b: str) -> float:
    a, b = value_key(a), value_key(b)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    if a in b or b in a:
        ratio = max(ratio, 0.6 + 0.4 * min(len(a), len(b)) / max(len(a), len(b)))
    return ratio


def _best(text: str, candidates: Iterable[tuple[str, Iterable[str]]]) -> tuple[str, float]:
    best, score = "", 0.0
    for target, names in candidates:
        for name in names:
            s = similarity(text, name)
            if s > score:
                best, score = target, s
    return best, score


# ---------------------------------------------------------------- what exists


@dataclass
class Target:
    id: str
    label: str


class Catalogue:
    """What values of each domain may be mapped to, for one user; and what is known already."""

    def __init__(self, actor: User, lookups: Lookups) -> None:
        from needpool.requirements.services import active_workflow
        from needpool.requirements.services.classification import may_configure

        self.actor = actor
        self.lookups = lookups
        self.may_create_options = may_configure(actor)
        self.may_create_customers = _may_create_customers(actor)
        self.workflow: Workflow = active_workflow()
        self._customers: dict[str, set[int]] | None = None
        self._customer_labels: dict[int, str] = {}
        self._other_statuses: list[WorkflowStatus] | None = None

    # -- targets per domain

    def targets(self, domain: str) -> list[Target]:
        if domain in OPTION_DOMAINS:
            return [
                Target(str(o.pk), str(o))
                for o in sorted(self.lookups.options.values(), key=lambda o: (o.sort_order, o.pk))
                if o.dimension == OPTION_DOMAINS[domain] and o.is_active
            ]
        if domain in CHOICE_DOMAINS:
            return [Target(str(v), str(label)) for v, label in CHOICE_DOMAINS[domain].choices]
        if domain == "need_priority":
            labels = {3: _("高"), 2: _("中"), 1: _("低")}
            return [Target(str(v), str(labels[v])) for v, _names in NEED_PRIORITY]
        if domain == "status":
            _lookup, objects = self.lookups.statuses(self.workflow.pk)
            return [Target(str(s.pk), str(s)) for s in sorted(objects.values(), key=lambda s: (s.order, s.pk))]
        if domain == "owner":
            return [Target(str(u.pk), str(u)) for u in sorted(self.lookups.user_objects.values(), key=str)]
        return []

    def teams(self) -> list[Target]:
        return [Target(str(t.pk), str(t)) for t in Team.objects.filter(lead__is_active=True).order_by("name")]

    # -- known values

    def lookup(self, domain: str) -> Lookup | None:
        return domain_lookup(self.lookups, domain, self.workflow.pk)

    def known(self, domain: str, text: str) -> bool:
        if domain == "customer":
            return len(self.customers_named(text)) == 1
        lookup = self.lookup(domain)
        return lookup is not None and len(lookup.find(text)) == 1

    def customers_named(self, text: str) -> set[int]:
        """Visible customers ``text`` names: by code, else by company name (suffixes and width folded)."""
        if self._customers is None:
            self._customers = {}
            for pk, code, name in visible_customers(self.actor).values_list("pk", "code", "name"):
                self._customers.setdefault("code:" + value_key(code), set()).add(pk)
                self._customers.setdefault(company_key(name), set()).add(pk)
                self._customer_labels[pk] = f"{code} {name}"
        token = text.split()[0] if text.split() else text
        return self._customers.get("code:" + value_key(token)) or self._customers.get(company_key(text), set())

    def customer_label(self, pk: int) -> str:
        return self._customer_labels.get(pk, "")

    # -- the best guess

    def guess(self, domain: str, text: str) -> Choice:
        if domain == "customer":
            found = self.customers_named(text)
            return Choice(MAP, str(next(iter(found)))) if len(found) == 1 else Choice(NEW)
        if domain == "owner":
            return self._guess_owner(text)
        if domain == "status":
            return self._guess_status(text)
        if domain == "channel":
            lowered = normalize(text).lower()
            for channel, words in CHANNEL_KEYWORDS:
                if any(word in lowered for word in words):
                    return Choice(MAP, str(channel))
        lookup = self.lookup(domain)
        ambiguous = lookup.find(text) if lookup is not None else set()
        targets = self.targets(domain)
        if len(ambiguous) > 1:
            return Choice(MAP, str(sorted(ambiguous, key=str)[0]))
        synonyms = SYNONYMS.get(domain, {})
        key = value_key(text)
        for target in targets:
            target_key = self._target_key(domain, target)
            if any(value_key(word) == key for word in synonyms.get(target_key, ())):
                return Choice(MAP, target.id)
        best, score = _best(text, ((t.id, (t.label, *synonyms.get(self._target_key(domain, t), ()))) for t in targets))
        if best and score >= GUESS_FLOOR:
            return Choice(MAP, best)
        if domain in OPTION_DOMAINS and self.may_create_options:
            return Choice(NEW)
        return Choice(SKIP)

    def _target_key(self, domain: str, target: Target) -> str:
        if domain in OPTION_DOMAINS:
            option = self.lookups.options.get(int(target.id))
            return option.key if option is not None else ""
        return target.id

    def _guess_owner(self, text: str) -> Choice:
        found = self.lookups.users.find(text)
        if len(found) > 1:
            return Choice(MAP, str(sorted(found)[0]))
        best, score = _best(
            text,
            ((str(u.pk), (str(u), u.username, u.get_full_name())) for u in self.lookups.user_objects.values()),
        )
        if best and score >= 0.8:
            return Choice(MAP, best)
        team, team_score = _best(text, ((t.id, (t.label,)) for t in self.teams()))
        if team and team_score >= GUESS_FLOOR:
            return Choice(TEAM, team)
        return Choice(SKIP)

    def other_statuses(self) -> list[WorkflowStatus]:
        """The statuses of the flows that are not active, in each flow's order (read once per scan)."""
        if self._other_statuses is None:
            self._other_statuses = list(
                WorkflowStatus.objects.exclude(workflow=self.workflow).order_by("workflow_id", "order", "pk")
            )
        return self._other_statuses

    def _guess_status(self, text: str) -> Choice:
        _lookup, objects = self.lookups.statuses(self.workflow.pk)
        active = sorted(objects.values(), key=lambda s: (s.order, s.pk))
        key = value_key(text)
        # A status of another flow: the active flow's status of the same kind, nearest in its place.
        others = self.other_statuses()
        for other in others:
            if key in {value_key(other.label), value_key(other.label_en), value_key(other.key)}:
                same = [s for s in active if s.category == other.category]
                if same:
                    siblings = [o for o in others if (o.workflow_id, o.category) == (other.workflow_id, other.category)]
                    place = siblings.index(other) / max(len(siblings) - 1, 1)
                    index = round(place * (len(same) - 1))
                    return Choice(MAP, str(same[index].pk))
        best, score = _best(text, ((str(s.pk), (s.label, s.label_en)) for s in active))
        if best and score >= GUESS_FLOOR:
            return Choice(MAP, best)
        return Choice(SKIP)


def _may_create_customers(actor: User) -> bool:
    from needpool.core.permissions import user_can

    return user_can(actor, "customer.write")


# ---------------------------------------------------------------- the scan


@dataclass
class UnknownValue:
    key: str
    text: str
    count: int
    first_row: int
    proposal: Choice
    remembered: bool
    target_label: str = ""  # the proposed customer (customers are not listed as targets)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target_label": self.target_label,
            "key": self.key,
            "text": self.text,
            "count": self.count,
            "first_row": self.first_row,
            "action": self.proposal.action,
            "target": self.proposal.target,
            "remembered": self.remembered,
        }


def mapping_key(domain: str, text: str) -> str:
    """How a value is told apart from others: a customer by its company name (two spellings of one new
    company are one value), anything else as the lookups match names."""
    return company_key(text) if domain == "customer" else value_key(text)


def cell_values(column: str, domain: str, raw: Any) -> Iterator[str]:
    """The values one cell names for ``domain`` (a tag list gives each tag; a requester its company)."""
    if is_blank(raw):
        return
    if isinstance(raw, str) and len(raw) > 1 and raw[0] == "'" and raw[1] in "=+-@":
        raw = raw[1:]
    if domain == "tag":
        yield from split_list(raw)
        return
    text = parse_text(raw)
    if column == "requester":
        from needpool.intake.transfer.imports.handlers.management import requester_company

        text = requester_company(text)
    if text:
        yield text


def scan(
    *,
    actor: User,
    header: Header,
    rows: list[tuple[int, dict[str, Any]]],
    lookups: Lookups,
    remembered: Mapping,
) -> list[dict[str, Any]]:
    """Every distinct unknown value per mapped column, with its proposal (remembered choice first)."""
    catalogue = Catalogue(actor, lookups)
    domains = COLUMN_DOMAINS.get(header.layout.key, {})
    present = set(header.columns.values())
    columns: list[dict[str, Any]] = []
    for column, domain in domains.items():
        if column not in present:
            continue
        counts: Counter[str] = Counter()
        first: dict[str, tuple[int, str]] = {}
        for number, raw in rows:
            if column == "requester" and _internal_row(raw, lookups):
                continue
            for text in cell_values(column, domain, raw.get(column)):
                key = mapping_key(domain, text)
                if not key:
                    continue
                counts[key] += 1
                first.setdefault(key, (number, text))
        unknown: list[UnknownValue] = []
        for key, count in counts.most_common():
            number, text = first[key]
            if catalogue.known(domain, text):
                continue
            memory = remembered.get(column, {}).get(key)
            if memory is not None and _still_valid(catalogue, domain, memory):
                unknown.append(UnknownValue(key, text, count, number, memory, True))
            else:
                unknown.append(UnknownValue(key, text, count, number, catalogue.guess(domain, text), False))
        if not unknown:
            continue
        if domain == "customer":
            for value in unknown:
                if value.proposal.action == MAP and value.proposal.target.isdigit():
                    value.target_label = catalogue.customer_label(int(value.proposal.target))
        actions = [
            a
            for a in DOMAIN_ACTIONS[domain]
            if not (a == NEW and domain in OPTION_DOMAINS and not catalogue.may_create_options)
            and not (a == NEW and domain == "customer" and not catalogue.may_create_customers)
        ]
        columns.append(
            {
                "column": column,
                "domain": domain,
                "header": header.title(column),
                "actions": actions,
                "targets": [t.__dict__ for t in catalogue.targets(domain)],
                "teams": [t.__dict__ for t in catalogue.teams()] if domain == "owner" else [],
                "values": [u.as_dict() for u in unknown],
                "total": len(unknown),
                "all_remembered": all(u.remembered for u in unknown),
            }
        )
    return columns


def _internal_row(raw: dict[str, Any], lookups: Lookups) -> bool:
    text = parse_text(raw.get("channel")) if "channel" in raw and not is_blank(raw.get("channel")) else ""
    if not text:
        return False
    found = lookups.channels.find(text)
    if found:
        return found == {Channel.INTERNAL}
    lowered = normalize(text).lower()
    for channel, words in CHANNEL_KEYWORDS:
        if any(word in lowered for word in words):
            return bool(channel == Channel.INTERNAL)
    return False


def needs_confirmation(columns: list[dict[str, Any]]) -> bool:
    return any(not c["all_remembered"] for c in columns)


def proposals(columns: list[dict[str, Any]]) -> Mapping:
    """The scan's proposals as a mapping (what is applied when every value was remembered)."""
    return {
        c["column"]: {v["key"]: Choice(v["action"], v["target"]) for v in c["values"]} for c in columns if c["values"]
    }


# ---------------------------------------------------------------- checking the user's choices


def _still_valid(catalogue: Catalogue, domain: str, choice: Choice) -> bool:
    try:
        _check_choice(catalogue, domain, choice)
    except ValidationError:
        return False
    return True


def _check_choice(catalogue: Catalogue, domain: str, choice: Choice) -> None:
    allowed = DOMAIN_ACTIONS.get(domain, ())
    if choice.action not in allowed:
        raise ValidationError(_("不支持的处理方式。"))
    if choice.action == NEW:
        if domain in OPTION_DOMAINS and not catalogue.may_create_options:
            raise ValidationError(_("只有管理员可以新建分类选项。"))
        if domain == "customer" and not catalogue.may_create_customers:
            raise ValidationError(_("您没有新建客户的权限。"))
        return
    if choice.action == SKIP:
        return
    if choice.action == TEAM:
        if choice.target not in {t.id for t in catalogue.teams()}:
            raise ValidationError(_("团队不存在或没有负责人。"))
        return
    if domain == "customer":
        if not choice.target.isdigit() or not visible_customers(catalogue.actor).filter(pk=int(choice.target)).exists():
            raise ValidationError(_("客户不存在或您无权访问。"))
        return
    if choice.target not in {t.id for t in catalogue.targets(domain)}:
        raise ValidationError(_("所选的对应值不存在或已停用。"))


def clean_mapping(*, actor: User, layout: str, data: Mapping, lookups: Lookups | None = None) -> Mapping:
    """The user's choices, each checked (an unknown column, action or target raises ValidationError)."""
    catalogue = Catalogue(actor, lookups or Lookups())
    domains = COLUMN_DOMAINS.get(layout, {})
    errors: list[str] = []
    cleaned: Mapping = {}
    for column, values in data.items():
        if column not in domains:
            errors.append(_("未知的列“%(column)s”。") % {"column": column})
            continue
        for key, choice in values.items():
            if len(key) > 200:
                errors.append(_("值过长。"))
                continue
            try:
                _check_choice(catalogue, domains[column], choice)
            except ValidationError as exc:
                errors.append(f"{key}：{' '.join(exc.messages)}")
                continue
            cleaned.setdefault(column, {})[key] = choice
    if errors:
        raise ValidationError(errors)
    return cleaned


# ---------------------------------------------------------------- applying a mapping to a run


def _option_key(dimension: str, label: str) -> str:
    return "imp-" + hashlib.sha256(f"{dimension}:{label}".encode()).hexdigest()[:10]


def apply_mapping(*, actor: User, layout: str, mapping: Mapping, lookups: Lookups, texts: dict[str, str]) -> None:
    """Teach ``lookups`` the mapped names; create the options to be created (call inside the run's transaction).

    ``texts`` gives, per value key, the value as written (the label of a created option)."""
    from needpool.requirements.services import active_workflow, option_create

    domains = COLUMN_DOMAINS.get(layout, {})
    workflow_id = active_workflow().pk
    for column, values in mapping.items():
        domain = domains.get(column)
        if domain is None:
            continue
        for key, choice in values.items():
            if domain == "customer":
                lookups.customer_aliases[key] = CREATE if choice.action == NEW else choice.target
                continue
            if domain == "owner":
                if choice.action == TEAM:
                    team = Team.objects.filter(pk=int(choice.target)).select_related("lead").first()
                    lead = team.lead if team is not None else None
                    if lead is not None and lead.is_active:
                        lookups.user_objects.setdefault(lead.pk, lead)
                        lookups.users.entries[key] = {lead.pk}
                    continue
                lookups.users.entries[key] = {IGNORE} if choice.action == SKIP else {int(choice.target)}
                continue
            lookup = domain_lookup(lookups, domain, workflow_id)
            if lookup is None:
                continue
            if choice.action == SKIP:
                lookup.entries[key] = {IGNORE}
            elif choice.action == NEW and domain in OPTION_DOMAINS:
                dimension = OPTION_DOMAINS[domain]
                label = texts.get(f"{column}:{key}") or key
                existing = next(
                    (o for o in lookups.options.values() if o.dimension == dimension and value_key(o.label) == key),
                    None,
                )
                option = existing or option_create(
                    actor=actor, dimension=dimension, key=_option_key(dimension, label), label=label[:40]
                )
                lookups.options[option.pk] = option
                lookup.entries[key] = {option.pk}
            elif domain in OPTION_DOMAINS or domain == "status" or domain == "need_priority":
                lookup.entries[key] = {int(choice.target)}
            else:
                lookup.entries[key] = {choice.target}


def domain_lookup(lookups: Lookups, domain: str, workflow_id: int) -> Lookup | None:
    """The run's lookup that answers for ``domain`` (statuses: those of the flow ``workflow_id``); None for
    customers, which are not matched by a lookup."""
    if domain in OPTION_DOMAINS:
        return lookups.by_dimension.setdefault(OPTION_DOMAINS[domain], Lookup())
    if domain == "status":
        return lookups.statuses(workflow_id)[0]
    return {
        "channel": lookups.channels,
        "priority": lookups.priorities,
        "interaction_channel": lookups.interaction_channels,
        "follow_status": lookups.follow_statuses,
        "need_priority": lookups.need_priorities,
        "owner": lookups.users,
    }.get(domain)


def scanned_texts(columns: list[dict[str, Any]]) -> dict[str, str]:
    """The first spelling of each unknown value as the scan found it in the sheet (``column:key`` → text)."""
    return {f"{c['column']}:{v['key']}": v["text"] for c in columns for v in c["values"]}


def remembered_mapping(layout: str) -> Mapping:
    """The choices made for ``layout`` in earlier imports (checked again before use: see ``scan``)."""
    from needpool.intake.transfer.models import ImportValueMapping

    mapping: Mapping = {}
    for column, key, action, target in ImportValueMapping.objects.filter(layout=layout).values_list(
        "column", "value_key", "action", "target"
    ):
        mapping.setdefault(column, {})[key] = Choice(action, target)
    return mapping

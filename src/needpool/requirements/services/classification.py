"""The classification rules (分类规则): admins edit the option lists; every change is audited and makes a new
rule version; the rules are reviewed each quarter.

Decisions
- Only admins (``is_admin``: CONFIGURE or superuser) write. An option is never deleted, only deactivated:
  requirements and feedback keep what they were classified with (PROTECT foreign keys), and new ones can no
  longer pick it.
- Every write bumps the option's ``version`` (If-Match / stale form) and makes the next
  ``ClassificationRuleVersion`` (who, when, what). A requirement records the version current when it was
  classified (``stamp_rule_version``, called by the requirement services on create and on a change of type,
  urgency, nature, source, category or tags — imports go through the same services).
- A new SLA for an urgency applies to requirements classified from then on (new ones, or an urgency changed
  later). Existing requirements keep the first-response deadline they were given: the promise made when the
  need was submitted, under the rule version they record. The page says so.
- The quarterly review reminder goes to every active admin once per quarter (``ClassificationReminder`` row,
  unique by quarter), on the quarter's first day or when the last review is older than 90 days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version, retry_on_conflict
from needpool.core.models import AuditEntry, SiteConfig
from needpool.core.permissions import is_admin
from needpool.core.txcache import forget_on_change, transaction_cached
from needpool.notify.kinds import EventKind
from needpool.notify.services import emit
from needpool.requirements.choices import Dimension
from needpool.requirements.models import (
    ClassificationReminder,
    ClassificationReview,
    ClassificationRuleVersion,
    ClassOption,
    Requirement,
)

OPTION_FIELDS = ("key", "label", "label_en", "sla_hours", "parent", "sort_order", "is_active", "description")
# The dimensions whose options may sit under another (功能优化 under 功能; 非功能-性能 under a group).
PARENT_DIMENSIONS = frozenset({Dimension.TYPE, Dimension.CATEGORY})
SLA_MAX_HOURS = 8760  # one year
SORT_MAX = 32767
REVIEW_EVERY_DAYS = 90
CLASSIFYING_FIELDS = frozenset({"type", "urgency", "nature", "source", "category", "tags"})
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def may_configure(user: Any) -> bool:
    return is_admin(user) and bool(getattr(user, "is_active", False))


def _require_admin(actor: Any) -> None:
    if not may_configure(actor):
        raise PermissionDenied(_("只有管理员可以修改分类规则。"))


# ---------------------------------------------------------------- the rule version


def current_rule_version() -> int:
    return int(ClassificationRuleVersion.objects.aggregate(n=Max("number"))["n"] or 1)


RULE_VERSION_KEY = "requirements.rule_version"
forget_on_change(ClassificationRuleVersion, RULE_VERSION_KEY)


def stamp_rule_version(requirement: Requirement) -> int:
    """Record on ``requirement`` (in memory; the caller saves) the rule version it is classified under now.

    The number is read once per transaction (``core.txcache``; a new version made in it is seen at once)."""
    requirement.rule_version = transaction_cached(RULE_VERSION_KEY, current_rule_version)
    return requirement.rule_version


def _next_version(actor: User, summary: str) -> ClassificationRuleVersion:
    # One writer at a time: the site settings row is the lock, so two admins never take the same number.
    SiteConfig.objects.get_or_create(pk=1)
    list(SiteConfig.objects.select_for_update().filter(pk=1))
    number = current_rule_version() + 1
    return ClassificationRuleVersion.objects.create(
        number=number, summary=summary[:300], created_by=actor if getattr(actor, "pk", None) else None
    )


# ---------------------------------------------------------------- checks


def _field_label(name: str) -> str:
    return str(getattr(ClassOption._meta.get_field(name), "verbose_name", name))


def _clean(dimension: str, data: dict[str, Any], option: ClassOption | None) -> dict[str, Any]:
    """Normalise and check the given fields of an option of ``dimension``; a ValidationError names each problem."""
    errors: dict[str, str] = {}
    siblings = ClassOption.objects.filter(dimension=dimension)
    if option is not None:
        siblings = siblings.exclude(pk=option.pk)
    dimension_label = Dimension(dimension).label
    if "key" in data:
        key = str(data["key"] or "").strip().lower()
        data["key"] = key
        if not key:
            errors["key"] = _("请填写键。")
        elif len(key) > 40 or not _KEY.match(key):
            errors["key"] = _("键只能包含小写英文字母、数字、下划线和连字符，以字母或数字开头，最多 40 个字符。")
        elif siblings.filter(key=key).exists():
            errors["key"] = _("键“%(key)s”已在“%(dimension)s”中使用。") % {"key": key, "dimension": dimension_label}
    for name, limit in (("label", 60), ("label_en", 60), ("description", 200)):
        if name in data:
            data[name] = str(data[name] or "").strip()
            if len(data[name]) > limit:
                errors[name] = _("%(field)s最多 %(limit)s 个字。") % {"field": _field_label(name), "limit": limit}
    if "label" in data and "label" not in errors:
        if not data["label"]:
            errors["label"] = _("请填写名称。")
        elif siblings.filter(label__iexact=data["label"]).exists():
            errors["label"] = _("名称“%(label)s”已在“%(dimension)s”中使用。") % {
                "label": data["label"],
                "dimension": dimension_label,
            }
    if (
        data.get("label_en")
        and "label_en" not in errors
        and siblings.filter(label_en__iexact=data["label_en"]).exists()
    ):
        errors["label_en"] = _("英文名称“%(label)s”已在“%(dimension)s”中使用。") % {
            "label": data["label_en"],
            "dimension": dimension_label,
        }
    if data.get("sla_hours") is not None:
        hours = data["sla_hours"]
        if dimension != Dimension.URGENCY:
            errors["sla_hours"] = _("只有紧急程度可以设置首次响应时限。")
        elif isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= SLA_MAX_HOURS:
            errors["sla_hours"] = _("首次响应时限须为 1 到 %(max)s 之间的整数小时；留空表示不设时限。") % {
                "max": SLA_MAX_HOURS
            }
    if "sort_order" in data:
        order = data["sort_order"]
        if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= SORT_MAX:
            errors["sort_order"] = _("排序须为 0 到 %(max)s 之间的整数。") % {"max": SORT_MAX}
    if data.get("parent") is not None:
        errors.update(_check_parent(dimension, data["parent"], option))
    if data.get("is_active") is False and option is not None and option.is_active:
        errors.update(_check_deactivate(option))
    if errors:
        raise ValidationError(errors)
    return data


def _check_parent(dimension: str, parent: Any, option: ClassOption | None) -> dict[str, str]:
    if dimension not in PARENT_DIMENSIONS:
        return {"parent": _("只有需求类型和功能/非功能/业务可以设置上级。")}
    if not isinstance(parent, ClassOption) or parent.dimension != dimension:
        return {"parent": _("上级必须是同一分类中的选项。")}
    if option is not None:
        seen: set[int] = set()
        current: ClassOption | None = parent
        while current is not None and current.pk not in seen:
            if current.pk == option.pk:
                return {"parent": _("不能把“%(label)s”设为自己或自己下级的下级。") % {"label": option.label}}
            seen.add(current.pk)
            current = ClassOption.objects.filter(pk=current.parent_id).first() if current.parent_id else None
    return {}


def _check_deactivate(option: ClassOption) -> dict[str, str]:
    if option.children.filter(is_active=True).exists():
        return {"is_active": _("“%(label)s”下还有启用的下级选项，请先停用它们。") % {"label": option.label}}
    others = ClassOption.objects.filter(dimension=option.dimension, is_active=True).exclude(pk=option.pk)
    if not others.exists():
        return {
            "is_active": _("“%(dimension)s”至少要保留一个启用的选项。")
            % {"dimension": Dimension(option.dimension).label}
        }
    return {}


def _describe(option: ClassOption, changes: dict[str, tuple[Any, Any]]) -> str:
    head = _("%(dimension)s“%(label)s”") % {"dimension": Dimension(option.dimension).label, "label": option.label}
    parts = [
        (_("停用") if new is False else _("重新启用"))
        if name == "is_active"
        else f"{_field_label(name)} {_shown(old)} → {_shown(new)}"
        for name, (old, new) in changes.items()
    ]
    return f"{head}：{'；'.join(parts)}"


def _shown(value: Any) -> str:
    if value is None or value == "":
        return _("（空）")
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    return str(value)


# ---------------------------------------------------------------- writes


@retry_on_conflict()
@transaction.atomic
def option_create(
    *,
    actor: User,
    dimension: str,
    key: str,
    label: str,
    label_en: str = "",
    sla_hours: int | None = None,
    parent: ClassOption | None = None,
    sort_order: int | None = None,
    is_active: bool = True,
    description: str = "",
) -> ClassOption:
    """Add an option to ``dimension`` (at the end unless ``sort_order`` is given)."""
    _require_admin(actor)
    if dimension not in Dimension.values:
        raise ValidationError({"dimension": _("未知的分类。")})
    data: dict[str, Any] = {
        "key": key,
        "label": label,
        "label_en": label_en,
        "sla_hours": sla_hours,
        "parent": parent,
        "is_active": is_active,
        "description": description,
    }
    if sort_order is not None:
        data["sort_order"] = sort_order
    _clean(dimension, data, None)
    if sort_order is None:
        last = ClassOption.objects.filter(dimension=dimension).aggregate(n=Max("sort_order"))["n"] or 0
        data["sort_order"] = min(SORT_MAX, last + 10)
    try:
        with transaction.atomic():
            option = ClassOption.objects.create(dimension=dimension, **data)
    except IntegrityError as exc:  # another admin added the same key a moment ago
        raise ValidationError({"key": _("键“%(key)s”已在使用。") % {"key": data["key"]}}) from exc
    changes = snapshot(option, OPTION_FIELDS)
    audit_record(actor=actor, obj=option, action=AuditEntry.Action.CREATE, changes=changes)
    summary = _("新增%(dimension)s“%(label)s”") % {"dimension": Dimension(dimension).label, "label": option.label}
    _next_version(actor, summary)
    return option


@retry_on_conflict()
@transaction.atomic
def option_update(*, actor: User, option: ClassOption, expected_version: int | None = None, **data: Any) -> ClassOption:
    """Change the given fields of ``option``; ``expected_version`` refuses a stale edit (``StaleVersion``)."""
    _require_admin(actor)
    unknown = set(data) - set(OPTION_FIELDS)
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    option = ClassOption.objects.select_for_update().get(pk=option.pk)
    check_version(option.version, expected_version)
    _clean(option.dimension, data, option)
    before = snapshot(option, OPTION_FIELDS)
    for name, value in data.items():
        setattr(option, name, value)
    changes = diff(before, snapshot(option, OPTION_FIELDS))
    if not changes:
        return option
    option.version += 1
    try:
        with transaction.atomic():
            option.save()
    except IntegrityError as exc:
        raise ValidationError({"key": _("键“%(key)s”已在使用。") % {"key": option.key}}) from exc
    audit_record(actor=actor, obj=option, action=AuditEntry.Action.UPDATE, changes=changes)
    _next_version(actor, _describe(option, changes))
    return option


def option_set_active(
    *, actor: User, option: ClassOption, active: bool, expected_version: int | None = None
) -> ClassOption:
    """Deactivate (停用) or reactivate an option; a deactivated one stays on what it classified."""
    return option_update(actor=actor, option=option, expected_version=expected_version, is_active=active)


@retry_on_conflict()
@transaction.atomic
def options_reorder(*, actor: User, dimension: str, ordered_ids: Sequence[int]) -> list[ClassOption]:
    """Put the options of ``dimension`` in the given order (every option of the dimension, each once)."""
    _require_admin(actor)
    if dimension not in Dimension.values:
        raise ValidationError({"dimension": _("未知的分类。")})
    ids = [int(pk) for pk in ordered_ids]
    rows = {o.pk: o for o in ClassOption.objects.select_for_update().filter(dimension=dimension)}
    if len(set(ids)) != len(ids) or set(ids) != set(rows):
        raise ValidationError({"ids": _("排序须恰好列出该分类的每个选项各一次。")})
    before = [rows[pk].label for pk in sorted(rows, key=lambda pk: (rows[pk].sort_order, pk))]
    moved: list[ClassOption] = []
    for index, pk in enumerate(ids, start=1):
        option = rows[pk]
        if option.sort_order != index * 10:
            ClassOption.objects.filter(pk=pk).update(sort_order=index * 10, version=F("version") + 1)
            audit_record(
                actor=actor,
                obj=option,
                action=AuditEntry.Action.UPDATE,
                changes={"sort_order": (option.sort_order, index * 10)},
            )
            option.sort_order = index * 10
            option.version += 1
            moved.append(option)
    after = [rows[pk].label for pk in ids]
    if moved:
        summary = _("调整%(dimension)s的顺序：%(before)s → %(after)s") % {
            "dimension": Dimension(dimension).label,
            "before": "、".join(before),
            "after": "、".join(after),
        }
        _next_version(actor, summary)
    return [rows[pk] for pk in ids]


def option_move(*, actor: User, option: ClassOption, offset: int) -> list[ClassOption]:
    """Move ``option`` up (-1) or down (+1) one place within its dimension."""
    order = list(
        ClassOption.objects.filter(dimension=option.dimension).order_by("sort_order", "id").values_list("pk", flat=True)
    )
    index = order.index(option.pk)
    target = max(0, min(len(order) - 1, index + offset))
    order.insert(target, order.pop(index))
    return options_reorder(actor=actor, dimension=option.dimension, ordered_ids=order)


# ---------------------------------------------------------------- the quarterly review


@transaction.atomic
def rules_review_mark(*, actor: User, note: str = "") -> ClassificationReview:
    """Record that an admin reviewed the rules (标记为已复核) at the current rule version."""
    _require_admin(actor)
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("复核说明最多 300 个字。")})
    review = ClassificationReview.objects.create(rule_version=current_rule_version(), note=note, reviewed_by=actor)
    audit_record(
        actor=actor,
        obj=review,
        action=AuditEntry.Action.CREATE,
        changes={"rule_version": review.rule_version, "note": note},
    )
    return review


def quarter_of(day: dt.date) -> tuple[str, dt.date]:
    """The quarter's key (2026Q4) and its first day."""
    index = (day.month - 1) // 3
    return f"{day.year}Q{index + 1}", dt.date(day.year, index * 3 + 1, 1)


def review_due(today: dt.date) -> bool:
    """Is a review due ``today``: the quarter's first day, or the last review (or the rules' start) > 90 days ago,
    unless the rules were already reviewed this quarter."""
    _key, first_day = quarter_of(today)
    last = ClassificationReview.objects.order_by("-reviewed_at").values_list("reviewed_at", flat=True).first()
    if last is not None and timezone.localdate(last) >= first_day:
        return False
    if today == first_day:
        return True
    since = last or ClassificationRuleVersion.objects.order_by("number").values_list("created_at", flat=True).first()
    return since is None or (today - timezone.localdate(since)).days > REVIEW_EVERY_DAYS


@transaction.atomic
def rules_review_remind(*, today: dt.date | None = None) -> int:
    """Tell every active admin, once per quarter, to review the classification rules; returns how many."""
    today = today or timezone.localdate()
    if not review_due(today):
        return 0
    key, _first_day = quarter_of(today)
    reminder, created = ClassificationReminder.objects.get_or_create(quarter=key)
    if not created:
        return 0
    admins = [u for u in User.objects.filter(is_active=True).order_by("pk") if may_configure(u)]
    event = emit(
        kind=EventKind.FOLLOW_UP,
        key=f"classification-review:{key}",
        message=gettext_noop(
            "请复核分类规则（%(quarter)s）：类型、紧急程度与 SLA、标签、来源、性质、功能分类是否仍然合适。"
        ),
        params={"quarter": key},
        url=reverse("classification:index"),
        recipients=admins,
        subject={"type": "classification_rules", "id": None, "code": key, "title": ""},
        data={"quarter": key},
    )
    told = event.recipients if event is not None else []
    reminder.recipients = len(told)
    reminder.save(update_fields=["recipients"])
    return len(told)

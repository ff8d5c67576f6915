"""Bulk edit of selected requirements: one change (owner, urgency, a tag added or removed, a status move) applied
row by row through the same services and gates as a single edit, each row with its own result.

Every row is its own transaction: a refused row (no permission, a workflow gate, changed since the page was
read) leaves the others applied. ``versions`` carries the version each row had on the caller's page; a row
edited since then is refused, never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.accounts.models import User
from needpool.core.concurrency import StaleVersion
from needpool.core.validation import parse_id
from needpool.requirements.choices import Dimension
from needpool.requirements.filters import IDS_MAX
from needpool.requirements.models import ClassOption, Requirement
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.services.life import requirement_transition
from needpool.requirements.services.pool import requirement_update

MAX_SELECTION = IDS_MAX
ACTIONS = {
    "owner": gettext_lazy("负责人"),
    "urgency": gettext_lazy("紧急程度"),
    "tag_add": gettext_lazy("添加标签"),
    "tag_remove": gettext_lazy("移除标签"),
    "status": gettext_lazy("状态"),
}


@dataclass(frozen=True)
class BulkRow:
    """The result of one selected row: ``ok`` and, when refused, why (in the user's words)."""

    id: int
    code: str
    title: str
    ok: bool
    message: str


def clean_ids(raw: Iterable[Any]) -> list[int]:
    """The selected ids in order, each once; a value that is not an id is refused with the selection."""
    ids: list[int] = []
    for value in raw:
        for part in str(value).split(","):
            if not part.strip():
                continue
            pk = parse_id(part.strip())
            if pk is None:
                raise ValidationError({"ids": _("“%(value)s”不是有效的需求编号。") % {"value": part.strip()[:20]}})
            if pk not in ids:
                ids.append(pk)
    if not ids:
        raise ValidationError({"ids": _("请先勾选要修改的需求。")})
    if len(ids) > MAX_SELECTION:
        raise ValidationError(
            {
                "ids": _("一次最多处理 %(max)s 条需求，您选择了 %(n)s 条：请缩小筛选范围后分批处理。")
                % {"max": MAX_SELECTION, "n": len(ids)}
            }
        )
    return ids


def _option(dimension: str, value: Any, field: str, label: str) -> ClassOption:
    text = str(value or "").strip()
    options = ClassOption.objects.filter(dimension=dimension, is_active=True)
    pk = parse_id(text)
    found = (options.filter(pk=pk).first() if pk is not None else None) or options.filter(key=text).first()
    if found is None:
        raise ValidationError({field: _("%(label)s“%(value)s”不存在或已停用。") % {"label": label, "value": text[:40]}})
    return found


def _owner(value: Any) -> User | None:
    text = str(value or "").strip()
    if text in ("", "none"):
        return None  # no owner
    pk = parse_id(text)
    users = User.objects.filter(is_active=True)
    found = (users.filter(pk=pk).first() if pk is not None else None) or users.filter(username=text).first()
    if found is None:
        raise ValidationError({"value": _("负责人“%(value)s”不存在或已停用。") % {"value": text[:40]}})
    return found


def resolve_value(action: str, value: Any) -> Any:
    """The new value named by ``value`` (a key, id or username), checked once for the whole selection."""
    if action not in ACTIONS:
        raise ValidationError({"action": _("不支持的批量操作“%(action)s”。") % {"action": str(action)[:40]}})
    if action == "owner":
        return _owner(value)
    if action == "urgency":
        return _option(Dimension.URGENCY, value, "value", _("紧急程度"))
    if action in ("tag_add", "tag_remove"):
        return _option(Dimension.TAG, value, "value", _("标签"))
    status = str(value or "").strip()
    if not status or len(status) > 40:
        raise ValidationError({"value": _("请选择要流转到的状态。")})
    return status


def _refusal(exc: Exception) -> str:
    if isinstance(exc, StaleVersion):
        return _("此需求在您打开列表后已被他人修改，未做更改：请刷新后重试。")
    if isinstance(exc, PermissionDenied):
        return str(exc) or _("您没有执行此操作的权限。")
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    raise exc


def _apply(actor: User, requirement: Requirement, action: str, value: Any, expected: int | None) -> str:
    if action == "status":
        requirement_transition(actor=actor, requirement=requirement, to=value, expected_version=expected)
        return ""
    if action in ("tag_add", "tag_remove"):
        tags = list(requirement.tags.all())
        has = any(t.pk == value.pk for t in tags)
        if has == (action == "tag_add"):
            return _("无需更改")
        tags = [*tags, value] if action == "tag_add" else [t for t in tags if t.pk != value.pk]
        # The tags were read just now: a concurrent edit of the row between that read and the write is refused.
        version = expected if expected is not None else requirement.version
        requirement_update(actor=actor, requirement=requirement, expected_version=version, tags=tags)
        return ""
    requirement_update(actor=actor, requirement=requirement, expected_version=expected, **{action: value})
    return ""


def requirements_bulk_edit(
    *,
    actor: User,
    ids: Iterable[Any],
    action: str,
    value: Any,
    versions: Mapping[int, int] | None = None,
) -> list[BulkRow]:
    """Apply one change to each selected requirement ``actor`` may see, row by row, and say how each went.

    Each applied row tells its owner and watchers through the same services as a single edit; the owners and
    watchers of the whole selection are read once here."""
    selected = clean_ids(ids)
    new_value = resolve_value(action, value)
    found = {
        r.pk: r
        for r in visible_requirements(actor)
        .filter(pk__in=selected)
        .select_related("status", "owner")
        .prefetch_related("tags", "watchers")
    }
    results: list[BulkRow] = []
    for pk in selected:
        requirement = found.get(pk)
        if requirement is None:
            results.append(BulkRow(pk, "", "", False, _("需求不存在或您无权查看。")))
            continue
        expected = (versions or {}).get(pk)
        try:
            note = _apply(actor, requirement, action, new_value, expected)
        except (StaleVersion, PermissionDenied, ValidationError) as exc:
            results.append(BulkRow(pk, requirement.code, requirement.title, False, _refusal(exc)))
        else:
            results.append(BulkRow(pk, requirement.code, requirement.title, True, note or _("已修改")))
    return results

"""The write use-cases of merging: merge, undo a merge, watch and unwatch a requirement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry, Notification
from needpool.core.text import human_join
from needpool.core.validation import parse_id
from needpool.notify.services import emit
from needpool.requirements import lifecycle
from needpool.requirements.events import name_of, subject_of, teams_of, watchers_of
from needpool.requirements.merging.permissions import deny, may_merge, may_merge_requirement, may_undo_merge, may_watch
from needpool.requirements.merging.selectors import MAX_MERGED, MOVED_RELATIONS
from needpool.requirements.models import NOTE_MAX_LENGTH, Feedback, Requirement, RequirementMerge
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.services import _index_text, requirements_refresh_customer_value

MERGE_ACTION = AuditEntry.Action.MERGE
UNMERGE_ACTION = AuditEntry.Action.UNMERGE
WATCH_ACTION = AuditEntry.Action.WATCH
MERGE_NOTICE = Notification.Kind.MERGE


def _not_found(pk: Any) -> str:
    return _("需求 #%(id)s 不存在或您无权访问。") % {"id": pk}


def _code_of(pk: int | None) -> str:
    if pk is None:
        return ""
    return Requirement.objects.filter(pk=pk).values_list("code", flat=True).first() or f"#{pk}"


def _ids(values: Iterable[Any], name: str = "merged") -> list[int]:
    """Distinct ids in the given order; anything that is not a whole number is refused."""
    seen: dict[int, None] = {}
    for value in values:
        number = parse_id(value)
        if number is None:
            raise ValidationError({name: _("需求编号“%(value)s”无效。") % {"value": value}})
        seen.setdefault(number, None)
    return list(seen)


# ---------------------------------------------------------------- merge


def _merge_summary(moved: dict[str, Any], codes: Sequence[str]) -> str:
    counts = {name: sum(len(ids) for ids in moved.get(name, {}).values()) for name in MOVED_RELATIONS}
    text = _("合并了 %(codes)s：反馈 %(feedback)s 条、评论 %(comments)s 条、附件 %(attachments)s 个、")
    text += _("新增关注人 %(watchers)s 人")
    return text % {
        "codes": human_join(list(codes)),
        "feedback": counts["feedback"],
        "comments": counts["comments"],
        "attachments": counts["attachments"],
        "watchers": len(moved.get("watchers", [])),
    }


def _notify_merge(actor: User, survivor: Requirement, merged: Sequence[Requirement], merge_id: int) -> None:
    """Tell the owners and watchers of every requirement involved (not the actor), once per merge."""
    owners = {r.owner_id for r in [survivor, *merged] if r.owner_id}
    people = list(User.objects.filter(pk__in=owners)) + watchers_of(survivor)
    owner = next((u for u in people if u.pk == survivor.owner_id), None)
    emit(
        kind=MERGE_NOTICE,
        key=f"merge:{merge_id}",
        message=gettext_noop("%(actor)s 将需求 %(merged)s 合并到了 %(code)s"),
        params={"actor": name_of(actor), "merged": human_join([r.code for r in merged]), "code": survivor.code},
        url=f"/requirements/{survivor.pk}/",
        actor=actor,
        recipients=people,
        teams=teams_of(owner),
        subject=subject_of(survivor),
        data={"merged": [{"id": r.pk, "code": r.code} for r in merged]},
    )


@transaction.atomic
def requirements_merge(
    *, actor: User, survivor_id: int | str | None, merged_ids: Sequence[int | str], note: str = ""
) -> RequirementMerge:
    """Merge ``merged_ids`` into ``survivor_id``: move their evidence, point them to the survivor, record it."""
    if not may_merge(actor):
        raise deny(_("您没有合并需求的权限。"))
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": _("说明不能超过 %(n)s 个字符。") % {"n": NOTE_MAX_LENGTH}})
    if survivor_id in (None, ""):
        raise ValidationError({"survivor": _("请选择保留的需求。")})
    survivor_pk = _ids([survivor_id], "survivor")[0]
    ids = _ids(merged_ids)
    if survivor_pk in ids:
        raise ValidationError({"merged": _("不能把需求合并到它自己。")})
    if not ids:
        raise ValidationError({"merged": _("请至少选择一个要合并的需求。")})
    if len(ids) > MAX_MERGED:
        raise ValidationError({"merged": _("一次最多合并 %(n)s 个需求。") % {"n": MAX_MERGED}})

    every = [survivor_pk, *ids]
    visible = set(visible_requirements(actor).filter(pk__in=every).values_list("pk", flat=True))
    for pk in every:
        if pk not in visible:
            raise ValidationError({"survivor" if pk == survivor_pk else "merged": _not_found(pk)})
    rows = {r.pk: r for r in Requirement.objects.select_for_update().filter(pk__in=every).order_by("pk")}
    survivor = rows[survivor_pk]
    merged = [rows[pk] for pk in ids]
    for requirement in [survivor, *merged]:
        if not may_merge_requirement(actor, requirement):
            raise deny(_("您没有编辑需求 %(code)s 的权限，不能合并。") % {"code": requirement.code})
    if survivor.merged_into_id:
        raise ValidationError(
            {
                "survivor": _("需求 %(code)s 已合并到 %(target)s，不能作为保留需求。")
                % {"code": survivor.code, "target": _code_of(survivor.merged_into_id)}
            }
        )
    for requirement in merged:
        if requirement.merged_into_id:
            raise ValidationError(
                {
                    "merged": _("需求 %(code)s 已合并到 %(target)s。")
                    % {"code": requirement.code, "target": _code_of(requirement.merged_into_id)}
                }
            )

    now = timezone.now()
    moved: dict[str, Any] = {}
    for name, (model, fk) in MOVED_RELATIONS.items():
        by_origin: dict[str, list[int]] = {}
        for pk, origin in model.objects.filter(**{f"{fk}__in": ids}).order_by("pk").values_list("pk", fk):
            by_origin.setdefault(str(origin), []).append(pk)
        moved_ids = [pk for group in by_origin.values() for pk in group]
        if moved_ids:
            extra = {"updated_at": now} if model is Feedback else {}
            model.objects.filter(pk__in=moved_ids).update(**{fk: survivor.pk}, **extra)
        moved[name] = by_origin
    through = Requirement.watchers.through
    already = set(through.objects.filter(requirement_id=survivor.pk).values_list("user_id", flat=True))
    new_watchers = sorted(
        set(through.objects.filter(requirement_id__in=ids).values_list("user_id", flat=True)) - already
    )
    if new_watchers:
        survivor.watchers.add(*new_watchers)
    moved["watchers"] = new_watchers
    for participant in lifecycle.merge_participants():
        moved.update(participant.move(survivor, ids))

    Requirement.objects.filter(pk__in=ids).update(
        merged_into=survivor, merged_at=now, updated_at=now, version=F("version") + 1
    )
    merge = RequirementMerge.objects.create(
        survivor=survivor, moved=moved, note=note, actor=actor if getattr(actor, "pk", None) else None
    )
    merge.merged.set(ids)

    requirements_refresh_customer_value(requirement_ids=every)
    Requirement.objects.filter(pk=survivor.pk).update(
        search_text=_index_text(survivor), updated_at=now, version=F("version") + 1
    )

    codes = [r.code for r in merged]
    audit_record(
        actor=actor,
        obj=survivor,
        action=MERGE_ACTION,
        changes={"merge": _merge_summary(moved, codes), **({"note": note} if note else {})},
    )
    for requirement in merged:
        audit_record(
            actor=actor,
            obj=requirement,
            action=MERGE_ACTION,
            changes={"merged_into": ("", survivor.code), **({"note": note} if note else {})},
        )
    _notify_merge(actor, survivor, merged, merge.pk)
    return merge


# ---------------------------------------------------------------- undo


@dataclass(frozen=True)
class MergeUndone:
    """An undone merge, and what had moved on since and so stayed where it is (relation → ids)."""

    merge: RequirementMerge
    left: dict[str, list[int]] = field(default_factory=dict)

    @property
    def left_count(self) -> int:
        return sum(len(ids) for ids in self.left.values())


@transaction.atomic
def requirements_merge_undo(*, actor: User, merge: RequirementMerge) -> MergeUndone:
    """Undo a merge (admins only): move back exactly what moved, unless it moved on since; re-open the merged."""
    if not may_undo_merge(actor):
        raise deny(_("只有管理员可以撤销合并。"))
    merge = RequirementMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError(
            _("该合并已于 %(at)s 撤销，不能重复撤销。")
            % {"at": timezone.localtime(merge.undone_at).strftime("%Y-%m-%d %H:%M")}
        )
    survivor = Requirement.objects.select_for_update().get(pk=merge.survivor_id)
    if survivor.merged_into_id:
        raise ValidationError(
            _("保留需求 %(code)s 之后又合并到了 %(target)s：请先撤销那次合并。")
            % {"code": survivor.code, "target": _code_of(survivor.merged_into_id)}
        )
    merged = list(merge.merged.select_for_update().order_by("pk"))
    merged_ids = [r.pk for r in merged]
    moved: dict[str, Any] = merge.moved or {}
    left: dict[str, list[int]] = {}
    for name, (model, fk) in MOVED_RELATIONS.items():
        for origin, ids in (moved.get(name) or {}).items():
            still_here = list(model.objects.filter(pk__in=ids, **{fk: survivor.pk}).values_list("pk", flat=True))
            if still_here:
                extra = {"updated_at": timezone.now()} if model is Feedback else {}
                model.objects.filter(pk__in=still_here).update(**{fk: int(origin)}, **extra)
            stayed = sorted(set(ids) - set(still_here))
            if stayed:
                left.setdefault(name, []).extend(stayed)
    if moved.get("watchers"):
        survivor.watchers.remove(*moved["watchers"])
    for participant in lifecycle.merge_participants():
        participant.undo(survivor, moved, left)

    now = timezone.now()
    Requirement.objects.filter(pk__in=merged_ids).update(
        merged_into=None, merged_at=None, updated_at=now, version=F("version") + 1
    )
    merge.undone_at = now
    merge.undone_by = actor if getattr(actor, "pk", None) else None
    merge.moved = {**moved, "left": left}
    merge.save(update_fields=["undone_at", "undone_by", "moved"])

    requirements_refresh_customer_value(requirement_ids=[survivor.pk, *merged_ids])
    Requirement.objects.filter(pk=survivor.pk).update(
        search_text=_index_text(survivor), updated_at=now, version=F("version") + 1
    )

    codes = human_join([r.code for r in merged])
    left_text = {"left": _("已转到其他需求、留在原处的：%(items)s") % {"items": _left_text(left)}} if left else {}
    audit_record(
        actor=actor,
        obj=survivor,
        action=UNMERGE_ACTION,
        changes={"unmerge": _("撤销合并：%(codes)s 已恢复") % {"codes": codes}, **left_text},
    )
    for requirement in merged:
        audit_record(actor=actor, obj=requirement, action=UNMERGE_ACTION, changes={"merged_into": (survivor.code, "")})
    return MergeUndone(merge=merge, left=left)


_LEFT_LABELS: dict[str, Callable[[], str]] = {
    "feedback": lambda: _("反馈"),
    "comments": lambda: _("评论"),
    "attachments": lambda: _("附件"),
}


def _left_text(left: dict[str, list[int]]) -> str:
    labels = {**_LEFT_LABELS, **{k: v for p in lifecycle.merge_participants() for k, v in p.labels.items()}}
    return "；".join(f"{labels[name]()} " + ", ".join(f"#{pk}" for pk in ids) for name, ids in left.items() if ids)


def left_message(undone: MergeUndone) -> str:
    """The user-facing sentence about items that had moved on and were left where they are ("" if none)."""
    if not undone.left:
        return ""
    return _("以下内容在合并后已转到其他需求，保留在原处：%(items)s。") % {"items": _left_text(undone.left)}


# ---------------------------------------------------------------- watching


def _check_watchable(actor: User, requirement: Requirement) -> None:
    if not may_watch(actor, requirement):
        raise deny(_("需求不存在或您无权访问。"))
    if requirement.merged_into_id:
        raise ValidationError(
            _("需求 %(code)s 已合并到 %(target)s，请关注合并后的需求。")
            % {"code": requirement.code, "target": _code_of(requirement.merged_into_id)}
        )


@transaction.atomic
def requirement_watch(*, actor: User, requirement: Requirement) -> bool:
    """Start watching (notified of merges); False when already watching (nothing written)."""
    _check_watchable(actor, requirement)
    if requirement.watchers.filter(pk=actor.pk).exists():
        return False
    requirement.watchers.add(actor)
    audit_record(actor=actor, obj=requirement, action=WATCH_ACTION, changes={"watchers": ("", str(actor))})
    return True


@transaction.atomic
def requirement_unwatch(*, actor: User, requirement: Requirement) -> bool:
    """Stop watching; False when not watching (nothing written). Allowed on a merged requirement too."""
    if not may_watch(actor, requirement):
        raise deny(_("需求不存在或您无权访问。"))
    if not requirement.watchers.filter(pk=actor.pk).exists():
        return False
    requirement.watchers.remove(actor)
    audit_record(actor=actor, obj=requirement, action=WATCH_ACTION, changes={"watchers": (str(actor), "")})
    return True

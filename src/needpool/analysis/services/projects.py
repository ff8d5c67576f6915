"""Analysis projects: create and edit, with their scope and members."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.analysis import permissions
from needpool.analysis.models import AnalysisProject, ProjectMember
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.models import AuditEntry

SCOPE_KEYS = ("industries", "regions", "segments", "top_n_by_order", "period_start", "period_end")


def _clean_scope(scope: dict[str, Any]) -> dict[str, Any]:
    unknown = set(scope) - set(SCOPE_KEYS)
    if unknown:
        raise ValidationError({"scope": _("未知的范围条件：%(keys)s。") % {"keys": ", ".join(sorted(unknown))}})
    cleaned: dict[str, Any] = {}
    for key in ("industries", "regions", "segments"):
        values = scope.get(key) or []
        if isinstance(values, str):
            values = [v for v in values.replace("，", ",").split(",")]
        cleaned[key] = sorted({str(v).strip() for v in values if str(v).strip()})
    top_n = scope.get("top_n_by_order")
    if top_n not in (None, ""):
        try:
            cleaned["top_n_by_order"] = int(top_n)
            if not 1 <= cleaned["top_n_by_order"] <= 10000:
                raise ValueError
        except (TypeError, ValueError) as exc:
            raise ValidationError({"scope": _("按订单金额取前 N 名：N 必须在 1 到 10000 之间。")}) from exc
    for key in ("period_start", "period_end"):
        value = scope.get(key)
        if value in (None, ""):
            continue
        try:
            cleaned[key] = (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()
        except ValueError as exc:
            raise ValidationError({"scope": _("日期格式应为 YYYY-MM-DD。")}) from exc
    if cleaned.get("period_start") and cleaned.get("period_end") and cleaned["period_start"] > cleaned["period_end"]:
        raise ValidationError({"scope": _("范围的开始日期不能晚于结束日期。")})
    return {k: v for k, v in cleaned.items() if v not in ([], None, "")}


def _clean_members(members: Iterable[tuple[User, str]]) -> list[tuple[User, str]]:
    seen: dict[int, tuple[User, str]] = {}
    for user, duty in members:
        if len((duty or "").strip()) > 200:
            raise ValidationError({"members": _("职责不能超过 200 个字符。")})
        seen[user.pk] = (user, (duty or "").strip())
    return list(seen.values())


@transaction.atomic
def project_create(
    *,
    actor: User,
    name: str,
    goal: str,
    leader: User,
    start_date: dt.date,
    end_date: dt.date,
    scope: dict[str, Any] | None = None,
    members: Iterable[tuple[User, str]] = (),
) -> AnalysisProject:
    if not permissions.can_create_project(actor):
        raise permissions.deny(_("只有经理和产品经理可以创建分析项目。"))
    project = AnalysisProject(
        name=(name or "").strip(),
        goal=(goal or "").strip(),
        leader=leader,
        start_date=start_date,
        end_date=end_date,
        scope=_clean_scope(scope or {}),
        created_by=actor,
    )
    if start_date and end_date and end_date < start_date:
        raise ValidationError({"end_date": _("结束日期不能早于开始日期。")})
    project.full_clean(exclude=["created_by"])
    project.save()
    ProjectMember.objects.bulk_create(
        ProjectMember(project=project, user=u, duty=d) for u, d in _clean_members(members)
    )
    audit_record(
        actor=actor,
        obj=project,
        action=AuditEntry.Action.CREATE,
        changes={"name": project.name, "scope": project.scope, "leader": str(leader)},
    )
    return project


@transaction.atomic
def project_update(*, actor: User, project: AnalysisProject, **data: Any) -> AnalysisProject:
    """Change a project's name, goal, dates, leader, scope or members; scope changes are recorded."""
    if not permissions.can_edit_project(actor, project):
        raise permissions.deny()
    allowed = {"name", "goal", "leader", "start_date", "end_date", "scope", "members"}
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: _("未知字段。") for name in sorted(unknown)})
    project = AnalysisProject.objects.select_for_update().get(pk=project.pk)
    fields = ("name", "goal", "leader", "start_date", "end_date", "scope")
    before = snapshot(project, fields)
    members = data.pop("members", None)
    if "scope" in data:
        data["scope"] = _clean_scope(data["scope"] or {})
    for name, value in data.items():
        setattr(project, name, value.strip() if isinstance(value, str) else value)
    project.clean_fields(exclude=["created_by"])
    if project.end_date < project.start_date:
        raise ValidationError({"end_date": _("结束日期不能早于开始日期。")})
    project.full_clean(exclude=["created_by"])
    project.save()
    changes: dict[str, Any] = dict(diff(before, snapshot(project, fields)))
    if members is not None:
        old = sorted(f"{m.user}:{m.duty}" for m in project.members.select_related("user"))
        ProjectMember.objects.filter(project=project).delete()
        cleaned = _clean_members(members)
        ProjectMember.objects.bulk_create(ProjectMember(project=project, user=u, duty=d) for u, d in cleaned)
        new = sorted(f"{u}:{d}" for u, d in cleaned)
        if old != new:
            changes["members"] = (", ".join(old), ", ".join(new))
    if changes:
        audit_record(actor=actor, obj=project, action=AuditEntry.Action.UPDATE, changes=changes)
    return project

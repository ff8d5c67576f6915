"""Meetings, attendees, agenda, material and minutes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.core.permissions import user_can
from needpool.core.validation import check_date, parse_id
from needpool.requirements.permissions import visible_requirements
from needpool.reviews.models import AgendaItem, Decision, ReviewAttendee, ReviewMaterial, ReviewMeeting
from needpool.reviews.permissions import can_review, deny
from needpool.reviews.services.invitation import meeting_send_invitation

MEETING_FIELDS = ("title", "starts_at", "ends_at", "place", "link", "chair", "status", "solution", "summary")
SCHEDULE_FIELDS = ("title", "starts_at", "ends_at", "place", "link", "chair")
TEXT_MAX = 20000
AGENDA_MAX = 200


def _require_review(actor: User, message: str | None = None) -> None:
    if not can_review(actor):
        raise deny(message or _("只有经理和产品经理可以组织评审。"))


def _clean_link(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) > 500:
        raise ValidationError({field: _("链接最多 500 个字符。")})
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError as exc:
        raise ValidationError({field: _("请输入以 http:// 或 https:// 开头的有效链接。")}) from exc
    return value


def _clean(fields: dict[str, Any], current: ReviewMeeting | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}

    def value(name: str) -> Any:
        return fields[name] if name in fields else (getattr(current, name) if current else None)

    if "title" in fields or current is None:
        title = " ".join(str(fields.get("title") or "").split())
        if not title:
            errors["title"] = _("请填写会议主题。")
        elif len(title) > 200:
            errors["title"] = _("会议主题最多 200 个字符。")
        fields["title"] = title
    for name in ("starts_at", "ends_at"):
        moment = value(name)
        if not isinstance(moment, dt.datetime):
            errors[name] = _("请填写开始时间。") if name == "starts_at" else _("请填写结束时间。")
            continue
        try:
            check_date(moment)
        except ValidationError as exc:
            errors[name] = " ".join(exc.messages)
    start, end = value("starts_at"), value("ends_at")
    if (
        isinstance(start, dt.datetime)
        and isinstance(end, dt.datetime)
        and not errors.keys() & {"starts_at", "ends_at"}
        and end < start
    ):
        errors["ends_at"] = _("结束时间不能早于开始时间。")
    if "place" in fields:
        fields["place"] = str(fields["place"] or "").strip()
        if len(fields["place"]) > 200:
            errors["place"] = _("地点最多 200 个字符。")
    if "link" in fields:
        try:
            fields["link"] = _clean_link(str(fields["link"] or ""), "link")
        except ValidationError as exc:
            errors["link"] = " ".join(exc.messages)
    if "chair" in fields or current is None:
        chair = fields.get("chair")
        if not isinstance(chair, User) or not chair.is_active or not user_can(chair, Cap.REVIEW):
            errors["chair"] = _("主持人须为可以组织评审的在职员工（产品经理或经理）。")
    if "status" in fields and fields["status"] not in ReviewMeeting.Status.values:
        errors["status"] = _("无效的会议状态。")
    for name in ("solution", "summary"):
        if name in fields:
            fields[name] = str(fields[name] or "").strip()
            if len(fields[name]) > TEXT_MAX:
                errors[name] = _("内容过长（最多 %(n)s 个字符）。") % {"n": TEXT_MAX}
    if errors:
        raise ValidationError(errors)
    return fields


def _clean_attendees(attendees: Iterable[tuple[User, str]]) -> list[tuple[User, str]]:
    seen: dict[int, tuple[User, str]] = {}
    for user, role in attendees:
        if not isinstance(user, User) or not user.is_active:
            raise ValidationError({"attendees": _("参会人须为在职用户。")})
        role = role or ReviewAttendee.Role.OTHER
        if role not in ReviewAttendee.Role.values:
            raise ValidationError({"attendees": _("无效的参会角色“%(role)s”。") % {"role": role}})
        seen[user.pk] = (user, role)
    if len(seen) > 200:
        raise ValidationError({"attendees": _("参会人最多 200 位。")})
    return list(seen.values())


@transaction.atomic
def meeting_create(*, actor: User, attendees: Iterable[tuple[User, str]] = (), **fields: Any) -> ReviewMeeting:
    _require_review(actor)
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError({name: _("不能设置此字段。") for name in sorted(unknown)})
    cleaned = _clean(dict(fields))
    seats = _clean_attendees(attendees)
    meeting = ReviewMeeting.objects.create(created_by=actor, **cleaned)
    ReviewAttendee.objects.bulk_create(ReviewAttendee(meeting=meeting, user=u, role=r) for u, r in seats)
    audit_record(
        actor=actor,
        obj=meeting,
        action=AuditEntry.Action.CREATE,
        changes={"title": meeting.title, "attendees": ", ".join(str(u) for u, _r in seats)},
    )
    meeting_send_invitation(meeting, actor=actor)
    return meeting


@transaction.atomic
def meeting_update(
    *, actor: User, meeting: ReviewMeeting, expected_version: int | None = None, **fields: Any
) -> ReviewMeeting:
    """Change a meeting (schedule, status, minutes text); a changed schedule mails the updated invitation."""
    _require_review(actor)
    unknown = set(fields) - set(MEETING_FIELDS)
    if unknown:
        raise ValidationError({name: _("不能设置此字段。") for name in sorted(unknown)})
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    check_version(meeting.version, expected_version)
    fields = _clean(dict(fields), meeting)
    before = snapshot(meeting, fields)
    for name, new in fields.items():
        setattr(meeting, name, new)
    changes = diff(before, snapshot(meeting, fields))
    if not changes:
        return meeting
    meeting.version += 1
    meeting.save()
    audit_record(actor=actor, obj=meeting, action=AuditEntry.Action.UPDATE, changes=changes)
    if set(changes) & set(SCHEDULE_FIELDS):
        meeting_send_invitation(meeting, actor=actor)
    return meeting


@transaction.atomic
def attendees_set(*, actor: User, meeting: ReviewMeeting, attendees: Iterable[tuple[User, str]]) -> ReviewMeeting:
    """Replace the attendee list (user and role); newcomers get the current invitation."""
    _require_review(actor)
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    seats = _clean_attendees(attendees)
    old = sorted(f"{a.user}:{a.role}" for a in meeting.attendees.select_related("user"))
    ReviewAttendee.objects.filter(meeting=meeting).exclude(user__in=[u.pk for u, _r in seats]).delete()
    current = {a.user_id: a for a in meeting.attendees.all()}
    for user, role in seats:
        seat = current.get(user.pk)
        if seat is None:
            ReviewAttendee.objects.create(meeting=meeting, user=user, role=role)
        elif seat.role != role:
            seat.role = role
            seat.save(update_fields=["role"])
    new = sorted(f"{u}:{r}" for u, r in seats)
    if old != new:
        audit_record(
            actor=actor,
            obj=meeting,
            action=AuditEntry.Action.UPDATE,
            changes={"attendees": (", ".join(old), ", ".join(new))},
        )
    meeting_send_invitation(meeting, actor=actor)
    return meeting


@transaction.atomic
def agenda_add(*, actor: User, meeting: ReviewMeeting, requirement_ids: Sequence[Any]) -> list[AgendaItem]:
    """Put requirements on the agenda (in the order given); those already on it are left where they are.

    Every id must be a requirement the actor sees that has not been merged; otherwise nothing is added.
    """
    _require_review(actor)
    ids: list[int] = []
    for raw in requirement_ids:
        pk = parse_id(raw)
        if pk is None:
            raise ValidationError({"requirements": _("无效的需求编号“%(id)s”。") % {"id": str(raw)[:20]}})
        if pk not in ids:
            ids.append(pk)
    if not ids:
        raise ValidationError({"requirements": _("请选择要加入议程的需求。")})
    if len(ids) > AGENDA_MAX:
        raise ValidationError({"requirements": _("一次最多加入 %(n)s 条需求。") % {"n": AGENDA_MAX}})
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.status == ReviewMeeting.Status.CLOSED:
        raise ValidationError({"requirements": _("会议已结束，不能再加入议题。")})
    found = {r.pk: r for r in visible_requirements(actor).filter(pk__in=ids).only("id", "code", "merged_into")}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ValidationError(
            {"requirements": _("需求 #%(ids)s 不存在或您无权查看，未加入议程。") % {"ids": "、#".join(missing)}}
        )
    merged = [found[pk].code for pk in ids if found[pk].merged_into_id]
    if merged:
        raise ValidationError(
            {"requirements": _("需求 %(codes)s 已合并到其他需求，请加入合并后的需求。") % {"codes": "、".join(merged)}}
        )
    present = set(meeting.items.filter(requirement_id__in=ids).values_list("requirement_id", flat=True))
    position = (meeting.items.aggregate(m=Max("position"))["m"] or 0) + 1
    added: list[AgendaItem] = []
    for pk in ids:
        if pk in present:
            continue
        added.append(AgendaItem.objects.create(meeting=meeting, requirement_id=pk, position=position))
        position += 1
    if added:
        audit_record(
            actor=actor,
            obj=meeting,
            action=AuditEntry.Action.UPDATE,
            changes={"agenda_added": ", ".join(found[i.requirement_id].code for i in added)},
        )
    return added


@transaction.atomic
def agenda_remove(*, actor: User, item: AgendaItem) -> None:
    _require_review(actor)
    item = AgendaItem.objects.select_for_update(of=("self",)).select_related("requirement", "meeting").get(pk=item.pk)
    if item.decision != Decision.PENDING:
        raise ValidationError({"item": _("已决策的议题不能移出议程。")})
    code = item.requirement.code
    meeting = item.meeting
    item.delete()
    audit_record(actor=actor, obj=meeting, action=AuditEntry.Action.UPDATE, changes={"agenda_removed": code})


@transaction.atomic
def agenda_reorder(*, actor: User, meeting: ReviewMeeting, item_ids: Sequence[Any]) -> None:
    """Set the agenda order: ``item_ids`` lists the meeting's items in their new order (others go last)."""
    _require_review(actor)
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    items = {i.pk: i for i in meeting.items.all()}
    order: list[int] = []
    for raw in item_ids:
        pk = parse_id(raw)
        if pk is None or pk not in items:
            raise ValidationError({"items": _("议题不属于此会议。")})
        if pk not in order:
            order.append(pk)
    order += [pk for pk in sorted(items, key=lambda p: (items[p].position, p)) if pk not in order]
    changed = []
    for position, pk in enumerate(order, start=1):
        if items[pk].position != position:
            items[pk].position = position
            changed.append(items[pk])
    AgendaItem.objects.bulk_update(changed, ["position"])


def _check_upload(upload: UploadedFile[Any]) -> str:
    name = PurePath(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.NEEDPOOL_ATTACHMENT_EXTENSIONS
    if not name or ext not in allowed:
        raise ValidationError(
            {
                "file": _("不支持的文件类型“%(ext)s”。允许：%(allowed)s。")
                % {"ext": ext or "?", "allowed": ", ".join(allowed)}
            }
        )
    limit = settings.NEEDPOOL_ATTACHMENT_MAX_BYTES
    if (upload.size or 0) > limit:
        raise ValidationError({"file": _("文件过大：最大 %(mb)s MB。") % {"mb": round(limit / 1024 / 1024, 1)}})
    if not upload.size:
        raise ValidationError({"file": _("文件为空。")})
    return name


@transaction.atomic
def material_add(
    *,
    actor: User,
    meeting: ReviewMeeting,
    title: str,
    link: str = "",
    upload: UploadedFile[Any] | None = None,
    sent_at: dt.datetime | None = None,
) -> ReviewMaterial:
    """Record material sent to the attendees: a link or an uploaded file (at ``sent_at``, default now)."""
    _require_review(actor)
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": _("请填写材料标题。")})
    if len(title) > 200:
        raise ValidationError({"title": _("材料标题最多 200 个字符。")})
    link = _clean_link(link, "link")
    if not link and upload is None:
        raise ValidationError({"link": _("请填写材料链接或上传文件。")})
    moment = sent_at or timezone.now()
    check_date(moment)
    material = ReviewMaterial(meeting=meeting, title=title, link=link, sent_at=moment, sent_by=actor)
    if upload is not None:
        name = _check_upload(upload)
        material.name, material.size = name[:200], int(upload.size or 0)
        material.file.save(name, upload, save=False)
    material.save()
    audit_record(actor=actor, obj=meeting, action=AuditEntry.Action.ATTACH, changes={"material": title})
    return material


@transaction.atomic
def minutes_update(
    *,
    actor: User,
    meeting: ReviewMeeting,
    expected_version: int | None = None,
    solution: str | None = None,
    summary: str | None = None,
    items: Sequence[dict[str, Any]] = (),
) -> ReviewMeeting:
    """The minutes 评审纪要: solution and summary, and per agenda item its notes, owner and due date."""
    _require_review(actor)
    fields: dict[str, Any] = {}
    if solution is not None:
        fields["solution"] = solution
    if summary is not None:
        fields["summary"] = summary
    meeting = ReviewMeeting.objects.select_for_update().get(pk=meeting.pk)
    check_version(meeting.version, expected_version)
    by_id = {i.pk: i for i in meeting.items.select_related("requirement", "owner")}
    changes: dict[str, Any] = {}
    for row in items:
        item = by_id.get(parse_id(row.get("id")) or 0)
        if item is None:
            raise ValidationError({"items": _("议题不属于此会议。")})
        before = snapshot(item, ("notes", "owner", "due_date"))
        if "notes" in row:
            notes = str(row["notes"] or "").strip()
            if len(notes) > TEXT_MAX:
                raise ValidationError({"items": _("内容过长（最多 %(n)s 个字符）。") % {"n": TEXT_MAX}})
            item.notes = notes
        if "owner" in row:
            owner = row["owner"]
            if owner is not None and (not isinstance(owner, User) or not owner.is_active):
                raise ValidationError({"items": _("负责人须为在职用户。")})
            item.owner = owner
        if "due_date" in row:
            due = row["due_date"]
            if due is not None:
                if not isinstance(due, dt.date):
                    raise ValidationError({"items": _("请填写有效的完成日期。")})
                check_date(due)
            item.due_date = due
        item_changes = diff(before, snapshot(item, ("notes", "owner", "due_date")))
        if item_changes:
            item.version += 1
            item.save(update_fields=["notes", "owner", "due_date", "version"])
            changes.update({f"{item.requirement.code}.{k}": v for k, v in item_changes.items()})
    if fields:
        fields = _clean(fields, meeting)
        before = snapshot(meeting, fields)
        for name, new in fields.items():
            setattr(meeting, name, new)
        changes.update(diff(before, snapshot(meeting, fields)))
    if changes:
        meeting.version += 1
        meeting.save()
        audit_record(actor=actor, obj=meeting, action=AuditEntry.Action.UPDATE, changes=changes)
    return meeting

"""Release notes 更新日志: a draft when a requirement launches; staff edit and publish it for the portal.

The public changelog never names a customer: the draft replaces the names of the requirement's customers by
“客户”, and publishing is refused while the title or text still names one of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.models import AuditEntry
from needpool.loop import permissions
from needpool.loop.models import ReleaseNote
from needpool.loop.services.privacy import requirement_customer_names, scrub_names
from needpool.requirements.models import Requirement

FIELDS = ("title", "body", "is_public")


def release_note_draft(*, requirement_id: int) -> tuple[ReleaseNote | None, bool]:
    """The release note of a launched requirement, created as a draft the first time (safe to run twice)."""
    requirement = Requirement.objects.filter(pk=requirement_id).first()
    if requirement is None:
        return None, False
    existing = ReleaseNote.objects.filter(requirement=requirement).first()
    if existing is not None:
        return existing, False
    names = requirement_customer_names(requirement.pk)
    body = requirement.description.strip() or requirement.concrete_ask.strip()
    try:
        with transaction.atomic():
            note = ReleaseNote.objects.create(
                requirement=requirement,
                title=scrub_names(requirement.title, names)[:200],
                body=scrub_names(body, names)[:10000],
                is_public=True,
            )
    except IntegrityError:  # drafted at the same moment by the listener's job and the periodic one
        return ReleaseNote.objects.filter(requirement=requirement).first(), False
    return note, True


def _clean(title: Any, body: Any) -> tuple[str, str]:
    title, body = " ".join(str(title or "").split()), str(body or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("请填写标题。")
    elif len(title) > 200:
        errors["title"] = _("标题不能超过 200 个字符。")
    if len(body) > 10000:
        errors["body"] = _("内容不能超过 10000 个字符。")
    if errors:
        raise ValidationError(errors)
    return title, body


@transaction.atomic
def release_note_create(*, actor: User, title: str, body: str = "", is_public: bool = True) -> ReleaseNote:
    """A release note not tied to one requirement (e.g. a round-up of several)."""
    if not permissions.can_close_loop(actor):
        raise permissions.deny(_("只有经理、产品经理和管理员可以编写更新日志。"))
    title, body = _clean(title, body)
    note = ReleaseNote.objects.create(title=title, body=body, is_public=bool(is_public))
    audit_record(actor=actor, obj=note, action=AuditEntry.Action.CREATE, changes=snapshot(note, FIELDS))
    return note


@transaction.atomic
def release_note_update(*, actor: User, note: ReleaseNote, version: int | None = None, **changes: Any) -> ReleaseNote:
    if not permissions.can_close_loop(actor):
        raise permissions.deny(_("只有经理、产品经理和管理员可以编写更新日志。"))
    locked = ReleaseNote.objects.select_for_update().get(pk=note.pk)
    check_version(locked.version, version)
    title, body = _clean(changes.get("title", locked.title), changes.get("body", locked.body))
    before = snapshot(locked, FIELDS)
    locked.title, locked.body = title, body
    if "is_public" in changes:
        locked.is_public = bool(changes["is_public"])
    if locked.is_published:
        _refuse_customer_names(locked)
    locked.version += 1
    locked.save()
    audit_record(
        actor=actor, obj=locked, action=AuditEntry.Action.UPDATE, changes=diff(before, snapshot(locked, FIELDS))
    )
    return locked


def _refuse_customer_names(note: ReleaseNote) -> None:
    for name in requirement_customer_names(note.requirement_id):
        if name in note.title or name in note.body:
            raise ValidationError(
                {"body": _("更新日志中不能出现客户名称（%(name)s），请改写后再发布。") % {"name": name}}
            )


@transaction.atomic
def release_note_publish(
    *, actor: User, note: ReleaseNote, publish: bool = True, now: dt.datetime | None = None
) -> ReleaseNote:
    """Publish (or withdraw) a release note on the portal's changelog."""
    if not permissions.can_close_loop(actor):
        raise permissions.deny(_("只有经理、产品经理和管理员可以发布更新日志。"))
    locked = ReleaseNote.objects.select_for_update().get(pk=note.pk)
    if publish:
        _refuse_customer_names(locked)
        if locked.published_at is None:
            locked.published_at, locked.published_by = now or timezone.now(), actor
    else:
        locked.published_at, locked.published_by = None, None
    locked.version += 1
    locked.save()
    audit_record(
        actor=actor,
        obj=locked,
        action=AuditEntry.Action.UPDATE,
        changes={"published": (not publish, publish)},
    )
    return locked


def release_notes_catch_up(*, now: dt.datetime | None = None, days: int = 7) -> int:
    """Draft the release notes of recent launches whose job was lost; returns how many were drafted."""
    from needpool.requirements.choices import StatusCategory
    from needpool.requirements.models import StatusChange

    now = now or timezone.now()
    launched = (
        StatusChange.objects.filter(at__gte=now - dt.timedelta(days=days), target__category=StatusCategory.DONE)
        .exclude(target__key="closed")
        .exclude(requirement__release_note__isnull=False)
        .values_list("requirement_id", flat=True)
        .distinct()
    )
    return sum(release_note_draft(requirement_id=pk)[1] for pk in sorted(set(launched))[:500])

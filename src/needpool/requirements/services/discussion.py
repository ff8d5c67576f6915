"""Comments (with @mentions) and attachments on a requirement."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.requirements.events import tell_commented
from needpool.requirements.models import (
    Attachment,
    Comment,
    Requirement,
)
from needpool.requirements.permissions import (
    can_comment,
)
from needpool.requirements.services.common import _MENTION, _deny
from needpool.requirements.services.life import _mark_responded


def _mentioned_users(body: str) -> list[User]:
    names = {m.rstrip(".,，。") for m in _MENTION.findall(body)}
    if not names:
        return []
    return list(User.objects.filter(username__in=names, is_active=True))


@transaction.atomic
def comment_create(*, actor: User, requirement: Requirement, body: str) -> Comment:
    if not can_comment(actor, requirement):
        raise _deny()
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("评论内容不能为空。")})
    if len(body) > 5000:
        raise ValidationError({"body": _("评论不能超过 5000 个字符。")})
    comment = Comment.objects.create(requirement=requirement, author=actor, body=body)
    mentioned = [u for u in _mentioned_users(body) if u.pk != actor.pk]
    if mentioned:
        comment.mentions.set(mentioned)
    tell_commented(actor=actor, requirement=requirement, comment=comment, mentioned=mentioned)
    if actor.pk != requirement.created_by_id:
        fields = _mark_responded(requirement, timezone.now())
        if fields:
            requirement.save(update_fields=fields)
            Requirement.objects.filter(pk=requirement.pk).update(version=F("version") + 1)
    audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.COMMENT, changes={"comment": body[:200]})
    return comment


@transaction.atomic
def attachment_add(*, actor: User, requirement: Requirement, upload: UploadedFile[Any]) -> Attachment:
    if not can_comment(actor, requirement):
        raise _deny()
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
    attachment = Attachment(
        requirement=requirement,
        name=name[:200],
        size=upload.size,
        content_type=(upload.content_type or "")[:100],
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit_record(actor=actor, obj=requirement, action=AuditEntry.Action.ATTACH, changes={"file": name})
    return attachment

"""What the staff pages under /portal/staff/ share: the tabs (submissions, channels) and the audit history."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from needpool.core.audit import audit_for
from needpool.intake.channels.permissions import can_manage_channels
from needpool.intake.models import IntakeChannel, Submission

_HISTORY_LABELS = {
    "token": lambda: _("API 令牌"),
    "access_code": lambda: _("访问码"),
    "via": lambda: _("提交方式"),
    "channel": lambda: _("渠道"),
    "feedback": lambda: _("反馈"),
    "files": lambda: _("附件数"),
    "external_id": lambda: _("外部编号"),
    "message": lambda: _("给提交人的留言"),
}


def history_rows(obj: IntakeChannel | Submission) -> list[dict[str, Any]]:
    """Audit rows for includes/audit_log.html: field names and choice values in the user's language."""

    def field_of(name: str) -> Any:
        try:
            return obj._meta.get_field(name)
        except Exception:  # a key that is not a model field
            return None

    def label(name: str) -> str:
        if name in _HISTORY_LABELS:
            return str(_HISTORY_LABELS[name]())
        return str(getattr(field_of(name), "verbose_name", name))

    def shown(name: str, value: Any) -> Any:
        if isinstance(value, bool):
            return _("是") if value else _("否")
        choices = dict(getattr(field_of(name), "choices", None) or ())
        return choices.get(value, value)

    return [
        {
            "entry": entry,
            "rows": [
                {
                    **row,
                    "label": label(row["field"]),
                    "old": shown(row["field"], row["old"]),
                    "new": shown(row["field"], row["new"]),
                }
                for row in entry.change_rows()
            ],
        }
        for entry in audit_for(obj, limit=50)
    ]


def staff_tabs(request: HttpRequest, active: str) -> dict[str, Any]:
    return {"active_tab": active, "can_manage": can_manage_channels(request.user)}

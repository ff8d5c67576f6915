"""Loop settings and the customer mail templates: plain ``{name}`` substitution, never a template language.

An admin edits the subject and body of the mail for each event; only the variables in ``VARIABLES`` may
appear, and anything that looks like template syntax (``{{ }}``, ``{% %}``, ``{# #}``) is refused on save, so
nobody can make the server run template code through a notice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.accounts.models import User
from needpool.core.audit import audit_record, diff, snapshot
from needpool.core.concurrency import check_version
from needpool.core.links import absolute
from needpool.core.models import AuditEntry
from needpool.loop import permissions
from needpool.loop.models import LoopSettings, NoticeEvent, NoticeTemplate

VARIABLES: dict[str, Callable[[], str]] = {
    "code": lambda: _("需求编号"),
    "title": lambda: _("需求标题"),
    "status": lambda: _("新状态"),
    "note": lambda: _("说明（流转备注）"),
    "link": lambda: _("链接"),
}

DEFAULT_TEMPLATES: dict[str, tuple[Any, Any]] = {
    NoticeEvent.LAUNCHED: (
        gettext_lazy("您提出的需求已上线：{title}"),
        gettext_lazy(
            "您好！\n\n感谢您的反馈。您提出的需求“{title}”（编号 {code}）已经上线，当前状态：{status}。\n"
            "{note}\n\n查看更新日志：{link}\n\n如有任何问题，欢迎随时联系我们。"
        ),
    ),
    NoticeEvent.CLOSED: (
        gettext_lazy("您提出的需求已完成：{title}"),
        gettext_lazy(
            "您好！\n\n您提出的需求“{title}”（编号 {code}）已处理完毕，当前状态：{status}。\n{note}\n\n"
            "稍后我们会邀请您为本次服务打分，感谢您的支持。"
        ),
    ),
    NoticeEvent.REJECTED: (
        gettext_lazy("关于您提出的需求：{title}"),
        gettext_lazy(
            "您好！\n\n感谢您的反馈。经过评估，您提出的需求“{title}”（编号 {code}）暂不安排实现，"
            "当前状态：{status}。\n原因：{note}\n\n我们会继续关注您的需要，如有补充信息，欢迎随时联系我们。"
        ),
    ),
}

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_TEMPLATE_SYNTAX = ("{{", "}}", "{%", "%}", "{#", "#}")


def template_check(text: str) -> None:
    """Refuse template syntax and unknown or malformed ``{…}`` placeholders, with one clear message."""
    if any(token in text for token in _TEMPLATE_SYNTAX):
        raise ValidationError(
            _("不支持模板语法（{{ }}、{%% %%}、{# #}）；请只使用变量：%(names)s。") % {"names": variable_list()}
        )
    names = _PLACEHOLDER.findall(text)
    unknown = sorted({name for name in names if name not in VARIABLES})
    if unknown:
        raise ValidationError(
            _("未知变量：%(unknown)s。可用变量：%(names)s。")
            % {"unknown": "、".join("{" + n + "}" for n in unknown), "names": variable_list()}
        )
    leftover = _PLACEHOLDER.sub("", text)
    if "{" in leftover or "}" in leftover:
        raise ValidationError(_("花括号不成对：变量请写成 {title} 这样的形式。"))


def variable_list() -> str:
    return "、".join("{" + name + "}" for name in VARIABLES)


def template_render(text: str, values: Mapping[str, str]) -> str:
    """Replace each known ``{name}`` by its value once (values are not scanned again)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def notice_template(event: str) -> tuple[str, str]:
    """Subject and body for ``event``: the admin's version, else the Chinese default."""
    stored = NoticeTemplate.objects.filter(event=event).first()
    if stored is not None:
        return stored.subject, stored.body
    subject, body = DEFAULT_TEMPLATES[event]
    return str(subject), str(body)


def notice_templates() -> list[dict[str, Any]]:
    """Every event with its current subject and body and whether it is the default."""
    stored = {t.event: t for t in NoticeTemplate.objects.all()}
    rows = []
    for event, label in NoticeEvent.choices:
        subject, body = (stored[event].subject, stored[event].body) if event in stored else notice_template(event)
        sample = sample_values(str(label))
        rows.append(
            {
                "event": event,
                "label": str(label),
                "subject": subject,
                "body": body,
                "custom": event in stored,
                "preview_subject": template_render(subject, sample),
                "preview_body": template_render(body, sample),
            }
        )
    return rows


def sample_values(status: str) -> dict[str, str]:
    """Example values for the settings page's preview (worked example 1)."""
    return {
        "code": "DEM20240301001",
        "title": _("按客户等级设置批量订单折扣规则"),
        "status": status,
        "note": _("已完成验收，操作指南已随邮件发送。"),
        "link": site_link(reverse("loop_public:changelog")),
    }


@transaction.atomic
def notice_template_update(*, actor: User, event: str, subject: str, body: str) -> NoticeTemplate:
    """Save the mail of ``event``; refused for unknown variables or template syntax (nothing saved)."""
    if not permissions.can_configure(actor):
        raise permissions.deny(_("只有管理员可以修改客户通知模板。"))
    if event not in NoticeEvent.values:
        raise ValidationError({"event": _("未知的通知事件。")})
    subject, body = " ".join((subject or "").split()), (body or "").strip()
    errors: dict[str, Any] = {}
    for field, text, limit in (("subject", subject, 200), ("body", body, 5000)):
        if not text:
            errors[field] = _("此项不能为空。")
            continue
        if len(text) > limit:
            errors[field] = _("不能超过 %(limit)s 个字符。") % {"limit": limit}
            continue
        try:
            template_check(text)
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    template, created = NoticeTemplate.objects.select_for_update().get_or_create(
        event=event, defaults={"subject": subject, "body": body}
    )
    before = snapshot(template, ("subject", "body"))
    if not created:
        template.subject, template.body = subject, body
        template.save(update_fields=["subject", "body", "updated_at"])
    changes = diff({} if created else before, snapshot(template, ("subject", "body")))
    audit_record(
        actor=actor,
        obj=template,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        changes=changes,
    )
    return template


@transaction.atomic
def notice_template_reset(*, actor: User, event: str) -> None:
    """Go back to the default mail of ``event``."""
    if not permissions.can_configure(actor):
        raise permissions.deny(_("只有管理员可以修改客户通知模板。"))
    template = NoticeTemplate.objects.filter(event=event).first()
    if template is not None:
        audit_record(actor=actor, obj=template, action=AuditEntry.Action.DELETE)
        template.delete()


def loop_settings() -> LoopSettings:
    config, _created = LoopSettings.objects.get_or_create(pk=1)
    return config


SETTINGS_FIELDS = ("notify_customers", "csat_enabled", "csat_expiry_days", "nps_expiry_days", "site_url")


@transaction.atomic
def loop_settings_update(*, actor: User, version: int | None = None, **changes: Any) -> LoopSettings:
    if not permissions.can_configure(actor):
        raise permissions.deny(_("只有管理员可以修改闭环设置。"))
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(_("未知的设置项：%(names)s") % {"names": ", ".join(sorted(unknown))})
    loop_settings()
    config = LoopSettings.objects.select_for_update().get(pk=1)
    if version is not None:
        check_version(config.version, version)
    errors: dict[str, str] = {}
    for field in ("csat_expiry_days", "nps_expiry_days"):
        if field in changes:
            try:
                value = int(changes[field])
            except (TypeError, ValueError):
                value = 0
            if not 1 <= value <= 365:
                errors[field] = _("有效天数必须是 1 到 365 之间的整数。")
            changes[field] = value
    if "site_url" in changes:
        url = (changes["site_url"] or "").strip().rstrip("/")
        if url and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
            errors["site_url"] = _("请输入以 http:// 或 https:// 开头的站点地址。")
        changes["site_url"] = url
    if errors:
        raise ValidationError(errors)
    before = snapshot(config, SETTINGS_FIELDS)
    for field, value in changes.items():
        setattr(config, field, bool(value) if field in ("notify_customers", "csat_enabled") else value)
    config.version += 1
    config.save()
    audit_record(
        actor=actor,
        obj=config,
        action=AuditEntry.Action.UPDATE,
        changes=diff(before, snapshot(config, SETTINGS_FIELDS)),
    )
    return config


def site_link(path: str) -> str:
    """``path`` as an absolute link for a customer's mail (the setting, else the first trusted origin)."""
    base = loop_settings().site_url
    return base.rstrip("/") + path if base else absolute(path)

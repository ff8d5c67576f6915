"""Forms of the review pages."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.accounts.roles import ROLE_CAPS, Cap
from needpool.core.concurrency import VersionedForm
from needpool.core.validation import DateFormField, DateTimeFormField
from needpool.delivery.models import Iteration
from needpool.reviews.models import AgendaItem, Decision, ReviewAttendee, ReviewMeeting

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
DATETIME_FORMATS = [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_LINE = re.compile(r"^\s*@?([\w.@+-]+)\s*(?:[:：]\s*(.*?))?\s*$")


def role_from_text(text: str) -> str | None:
    """An attendee role from what a person typed: its key, or its name in any of the site's languages
    (研发 and R&D alike, whichever language the page is in)."""
    wanted = text.strip().casefold()
    if wanted in ReviewAttendee.Role.values:
        return wanted
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for value, label in ReviewAttendee.Role.choices:
                if str(label).casefold() == wanted:
                    return str(value)
    return None


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def chairs() -> QuerySet[User]:
    roles = [role for role, caps in ROLE_CAPS.items() if Cap.REVIEW in caps]
    return active_users().filter(role__in=roles)


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("会议主题"), max_length=200)
    starts_at = DateTimeFormField(label=_("开始时间"), input_formats=DATETIME_FORMATS, widget=DATETIME_WIDGET)
    ends_at = DateTimeFormField(label=_("结束时间"), input_formats=DATETIME_FORMATS, widget=DATETIME_WIDGET)
    place = forms.CharField(label=_("地点"), max_length=200, required=False)
    link = forms.URLField(label=_("会议链接"), max_length=500, required=False, assume_scheme="https")
    chair = forms.ModelChoiceField(label=_("主持人"), queryset=User.objects.none())
    status = forms.ChoiceField(label=_("状态"), choices=ReviewMeeting.Status.choices, initial="preparing")
    attendees = forms.CharField(
        label=_("参会人与角色"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("engineer: 研发\ndesigner: 设计\nsales: 销售")}),
        help_text=_("每行一位：用户名: 角色（研发、设计、运营、销售、产品、其他）"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, meeting: ReviewMeeting | None = None, **kwargs: Any) -> None:
        if meeting is not None:
            kwargs.setdefault(
                "initial",
                {
                    "title": meeting.title,
                    "starts_at": meeting.starts_at,
                    "ends_at": meeting.ends_at,
                    "place": meeting.place,
                    "link": meeting.link,
                    "chair": meeting.chair_id,
                    "status": meeting.status,
                    "version": meeting.version,
                    "attendees": "\n".join(
                        f"{a.user.get_username()}: {a.get_role_display()}" for a in meeting.attendees.all()
                    ),
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = chairs()  # type: ignore[attr-defined]

    def clean_attendees(self) -> list[tuple[User, str]]:
        text = self.cleaned_data.get("attendees") or ""
        wanted: list[tuple[str, str]] = []
        for raw in text.splitlines():
            if not raw.strip():
                continue
            match = _LINE.match(raw)
            role = role_from_text((match.group(2) or "").strip() or "other") if match else None
            if match is None or role is None:
                raise forms.ValidationError(_("无法识别这一行：“%(line)s”。格式：用户名: 角色") % {"line": raw[:60]})
            wanted.append((match.group(1), role))
        found = {u.get_username(): u for u in active_users().filter(username__in=[n for n, _r in wanted])}
        missing = [n for n, _r in wanted if n not in found]
        if missing:
            raise forms.ValidationError(_("找不到用户：%(names)s。") % {"names": "、".join(missing)})
        return [(found[n], r) for n, r in wanted]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class AgendaAddForm(forms.Form):
    codes = forms.CharField(
        label=_("需求编号"),
        max_length=2000,
        help_text=_("多个编号用逗号、空格或换行分隔"),
        widget=forms.TextInput(attrs={"placeholder": _("需求编号，多个用逗号分隔")}),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("决策"), choices=[c for c in Decision.choices if c[0] != Decision.PENDING], widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("说明 / 理由"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("拒绝须写理由；需修改须写明改什么"),
    )
    revisit_date = DateFormField(label=_("重新评审日期（暂缓）"), required=False, widget=DATE_WIDGET)
    iteration = forms.ModelChoiceField(label=_("排入迭代（通过）"), queryset=Iteration.objects.none(), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args: Any, iterations: QuerySet[Iteration] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if iterations is not None:
            self.fields["iteration"].queryset = iterations  # type: ignore[attr-defined]


class MaterialForm(forms.Form):
    title = forms.CharField(label=_("材料标题"), max_length=200)
    link = forms.URLField(label=_("链接"), max_length=500, required=False, assume_scheme="https")
    file = forms.FileField(label=_("文件"), required=False)


class MinutesForm(VersionedForm):
    solution = forms.CharField(
        label=_("方案"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    summary = forms.CharField(
        label=_("会议纪要"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )


class ItemMinutesForm(forms.Form):
    """One agenda item's part of the minutes (prefixed ``item-<id>``)."""

    notes = forms.CharField(
        label=_("议题记录"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ModelChoiceField(label=_("负责人"), queryset=User.objects.none(), required=False)
    due_date = DateFormField(label=_("完成日期"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, item: AgendaItem, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"item-{item.pk}")
        kwargs.setdefault("initial", {"notes": item.notes, "owner": item.owner_id, "due_date": item.due_date})
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["owner"].queryset = active_users()  # type: ignore[attr-defined]

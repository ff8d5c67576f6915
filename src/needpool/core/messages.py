"""Form and API messages written for people, not Django's or DRF's defaults: each names its field and the rule
("标题最多 120 个字，现在 130 个"; "数量必须是 1 到 5 之间的整数"), and a date that does not exist says why
("2024-02-30 不是有效日期：2024 年 2 月只有 29 天").

One place for every form, serializer and import:

* ``people_message(code, label, params, field=…, raw=…)`` — the message for one error code, or ``None`` to keep
  the one given (a service's own message is already written for people);
* ``date_problem(raw)`` — why a typed date is not one (``None`` when the text is no date at all);
* forms: ``install()`` (called once by the core app) makes ``BaseForm.add_error`` rewrite the default messages
  of every form in the project, so no form needs its own ``error_messages``;
* the API: ``api_detail(detail, serializer, data)`` rewrites a serializer's error detail the same way; the
  project's exception handler (``core.api.exception_handler``) calls it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_DATE = re.compile(r"\s*(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?\s*(?:[T ].*)?$")


def date_problem(raw: Any) -> str | None:
    """Why ``raw`` (typed as year-month-day) is not a date: no 13th month, no 30 February; ``None`` when it
    reads as a real date or is not written as one at all."""
    match = _DATE.match(str(raw or ""))
    if match is None:
        return None
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    text = str(raw).strip()
    if not 1 <= month <= 12:
        return _("%(value)s 不是有效日期：没有 %(month)s 月。") % {"value": text, "month": month}
    last = calendar.monthrange(year, month)[1] if year >= 1 else 31
    if day == 0 or day > last:
        return _("%(value)s 不是有效日期：%(year)s 年 %(month)s 月只有 %(last)s 天。") % {
            "value": text,
            "year": year,
            "month": month,
            "last": last,
        }
    return None


def _invalid_date(raw: Any) -> str:
    problem = date_problem(raw)
    if problem:
        return problem
    return _("“%(value)s”不是日期，请按 2024-06-30 这样的格式填写。") % {"value": str(raw or "").strip()[:40]}


def _range_text(label: str, low: Any, high: Any, whole: bool) -> str:
    kind = _("整数") if whole else _("数字")
    if low is not None and high is not None:
        return _("%(label)s必须是 %(low)s 到 %(high)s 之间的%(kind)s。") % {
            "label": label,
            "low": low,
            "high": high,
            "kind": kind,
        }
    if low is not None:
        return _("%(label)s必须是不小于 %(low)s 的%(kind)s。") % {"label": label, "low": low, "kind": kind}
    if high is not None:
        return _("%(label)s必须是不大于 %(high)s 的%(kind)s。") % {"label": label, "high": high, "kind": kind}
    return _("%(label)s必须是%(kind)s。") % {"label": label, "kind": kind}


def _limits(field: Any) -> tuple[Any, Any, bool]:
    """(min, max, whole number?) of a Django form field or a DRF field."""
    low = getattr(field, "min_value", None)
    high = getattr(field, "max_value", None)
    fraction = isinstance(field, forms.DecimalField | forms.FloatField)  # both subclass the form IntegerField
    whole = not fraction and (
        isinstance(field, forms.IntegerField) or type(field).__name__ in {"IntegerField", "IdField"}
    )
    return low, high, whole


def people_message(
    code: str | None, label: str, params: Mapping[str, Any] | None = None, *, field: Any = None, raw: Any = None
) -> str | None:
    """The message for ``code`` on the field called ``label``; ``None`` keeps the message that was given."""
    params = params or {}
    label = str(label or _("此项"))
    if code == "max_length":
        limit = params.get("limit_value", getattr(field, "max_length", None))
        shown = params.get("show_value", len(str(raw)) if raw is not None else None)
        if limit is None:
            return None
        if shown is None:
            return _("%(label)s最多 %(limit)s 个字。") % {"label": label, "limit": limit}
        return _("%(label)s最多 %(limit)s 个字，现在 %(shown)s 个。") % {"label": label, "limit": limit, "shown": shown}
    if code == "min_length":
        limit = params.get("limit_value", getattr(field, "min_length", None))
        return _("%(label)s至少 %(limit)s 个字。") % {"label": label, "limit": limit} if limit is not None else None
    if code in {"required", "blank", "null"}:
        return _("请填写%(label)s。") % {"label": label}
    if code in {"min_value", "max_value"} or (code in {"invalid", "max_string_length"} and _is_number(field)):
        low, high, whole = _limits(field)
        return _range_text(label, low, high, whole)
    if code == "invalid" and _is_date(field):
        return _invalid_date(raw)
    if code in {"invalid_choice", "does_not_exist"}:
        return _("%(label)s没有“%(value)s”这一项，请从列表中选择。") % {
            "label": label,
            "value": str(params.get("value", raw) if params.get("value", raw) is not None else "")[:40],
        }
    return None


def _is_number(field: Any) -> bool:
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return True
    return type(field).__name__ in {"IntegerField", "DecimalField", "FloatField", "IdField"}


def _is_date(field: Any) -> bool:
    if isinstance(field, forms.DateField | forms.DateTimeField):
        return True
    return type(field).__name__ in {"DateField", "DateTimeField"}


# ---------------------------------------------------------------- forms


def _form_error(form: forms.BaseForm, name: str, error: ValidationError) -> ValidationError:
    field = form.fields.get(name)
    if field is None:
        return error
    label = field.label or name
    try:
        raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
    except Exception:  # a widget that cannot read the data keeps the message as it is
        raw = None
    defaults = _default_messages(field)
    defaults |= {str(getattr(type(v), "message", "")) for v in field.validators}
    rewritten = []
    for item in error.error_list:
        if str(item.message) not in defaults:  # a message a form or service wrote itself stays as written
            rewritten.append(item)
            continue
        message = people_message(item.code, str(label), item.params, field=field, raw=raw)
        # The message may quote what was typed (a "%s" in it too): it is escaped and given params, so whoever
        # formats it (Django's forms, django-filter's API errors) shows it as written.
        escaped = message.replace("%", "%%") if message else ""
        rewritten.append(ValidationError(escaped, code=item.code, params={"value": ""}) if message else item)
    return ValidationError(rewritten)


_installed = False


def install() -> None:
    """Every form's default messages, rewritten for people (once, from the core app's ``ready``)."""
    global _installed
    if _installed:
        return
    original = forms.BaseForm.add_error

    def add_error(self: forms.BaseForm, field: str | None, error: Any) -> None:
        if field is not None and isinstance(error, ValidationError) and not hasattr(error, "error_dict"):
            error = _form_error(self, field, error)
        original(self, field, error)

    forms.BaseForm.add_error = add_error  # type: ignore[method-assign]
    _installed = True


# ---------------------------------------------------------------- the API


def _default_messages(field: Any) -> set[str]:
    """The messages the field's classes give by default: not those a form or serializer set on the field."""
    found: set[str] = set()
    for cls in type(field).__mro__:
        found |= {str(m) for m in (getattr(cls, "default_error_messages", None) or {}).values()}
    return found


def _is_default(error: Any, field: Any) -> bool:
    """Whether ``error`` is one of DRF's own messages for ``field`` (its templates, any values filled in)."""
    for template in _default_messages(field):
        pattern = re.escape(str(template))
        pattern = re.sub(r"\\\{[a-z_]+\\\}", ".*", pattern)
        if re.fullmatch(pattern, str(error), flags=re.DOTALL):
            return True
    return False


def api_detail(detail: Any, fields: Mapping[str, Any] | None, data: Any) -> Any:
    """A serializer's error detail (``{field: [ErrorDetail, …]}``, nested for lists and nested serializers)
    with DRF's default messages rewritten; what a service wrote is kept."""
    if not isinstance(detail, Mapping) or not fields:
        return detail
    result: dict[str, Any] = {}
    for name, errors in detail.items():
        field = fields.get(name)
        raw = data.get(name) if isinstance(data, Mapping) else None
        child_fields = getattr(field, "fields", None)
        if child_fields is None and getattr(field, "child", None) is not None:
            child_fields = getattr(getattr(field, "child", None), "fields", None)
        if isinstance(errors, Mapping):
            result[name] = api_detail(errors, child_fields, raw)
        elif isinstance(errors, list) and errors and not all(hasattr(e, "code") for e in errors):
            items = raw if isinstance(raw, list) else []
            result[name] = [
                api_detail(e, child_fields, items[i] if i < len(items) else None) if isinstance(e, Mapping) else e
                for i, e in enumerate(errors)
            ]
        elif isinstance(errors, list) and field is not None:
            label = str(getattr(field, "label", None) or name)
            result[name] = [
                (
                    people_message(getattr(e, "code", None), label, None, field=field, raw=raw)
                    if _is_default(e, field)
                    else None
                )
                or str(e)
                for e in errors
            ]
        else:
            result[name] = errors
    return result


# ---------------------------------------------------------------- warnings (saved, but worth a second look)


def past_date_warning(day: Any, label: Any) -> str:
    """A warning for a date that has already passed (e.g. an expected date typed as 2024 in 2026): saved as
    typed — old data is real — but the user is told. '' for no date, today or a later one."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        return ""
    today = timezone.localdate()
    if day >= today:
        return ""
    return _("%(label)s %(day)s 已经过去（今天是 %(today)s），已按填写保存；如有误请修改。") % {
        "label": label,
        "day": day.isoformat(),
        "today": today.isoformat(),
    }

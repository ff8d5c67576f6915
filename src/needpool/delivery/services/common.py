"""What the delivery services share: text and date checks, and the requirements a plan may carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from needpool.core.validation import DATE_MAX, DATE_MIN, DATE_OUT_OF_RANGE
from needpool.requirements.choices import StatusCategory
from needpool.requirements.models import Requirement

MAX_DECIMAL = Decimal("999999999999.99")


def refuse_unknown(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: _("不能设置此字段。") for name in sorted(unknown)})


def clean_text(value: Any, *, limit: int) -> str:
    return str(value or "").strip()[:limit] if limit else str(value or "").strip()


def one_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def check_date(errors: dict[str, str], name: str, value: Any, label: str) -> dt.date | None:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        errors[name] = _("请填写%(label)s。") % {"label": label}
        return None
    if not DATE_MIN <= value <= DATE_MAX:
        errors[name] = str(DATE_OUT_OF_RANGE)
        return None
    return value


def check_decimal(errors: dict[str, str], name: str, value: Any, *, negative: bool = True) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = _("请填写数字。")
        return None
    if not number.is_finite() or abs(number) > MAX_DECIMAL:
        errors[name] = _("数值超出范围。")
        return None
    if not negative and number < 0:
        errors[name] = _("不能为负数。")
        return None
    return number.quantize(Decimal("0.01"))


def plannable(requirements: Sequence[Requirement]) -> list[Requirement]:
    """The requirements a plan or an iteration may carry: not merged away, not rejected."""
    for requirement in requirements:
        if requirement.merged_into_id:
            raise ValidationError(
                {"requirements": _("需求 %(code)s 已合并，不能加入计划。") % {"code": requirement.code}}
            )
        status = getattr(requirement, "status", None)
        if status is not None and status.category == StatusCategory.REJECTED:
            raise ValidationError(
                {"requirements": _("需求 %(code)s 已拒绝，不能加入计划。") % {"code": requirement.code}}
            )
    return list(dict.fromkeys(requirements))

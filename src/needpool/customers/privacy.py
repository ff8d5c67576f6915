"""Privacy rule (禁止记录个人手机号/邮箱): a contact may carry work numbers and work mail only.

Pure functions; every entry path (form, API, import) goes through ``contact_create`` /
``contact_update``, which call ``check_contact_privacy``.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_PHONE_CHARS = re.compile(r"[\s\-()（）.]")


def is_personal_mobile(raw: str) -> bool:
    """True when ``raw`` is a mobile number (mainland 1[3-9]x…, with or without +86, spaces or dashes)."""
    text = _PHONE_CHARS.sub("", raw.strip())
    if not text:
        return False
    if text.startswith("0086"):
        text = "+86" + text[4:]
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return bool(re.fullmatch(r"(?:\+?86)?1[3-9]\d{9}", text))
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    if kind == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE and number.country_code == 86:
        return True
    national = str(number.national_number)
    # Numbers of a mobile shape that libphonenumber does not yet know are still refused.
    return number.country_code == 86 and bool(re.fullmatch(r"1[3-9]\d{9}", national))


def is_personal_email(raw: str, personal_domains: set[str]) -> bool:
    _local, _sep, domain = raw.strip().lower().rpartition("@")
    return bool(_sep) and domain in personal_domains


def check_contact_privacy(*, phone: str, email: str, personal_domains: set[str]) -> None:
    errors: dict[str, str] = {}
    if phone and is_personal_mobile(phone):
        errors["phone"] = _("隐私规则：禁止记录个人手机号，请填写工作座机或总机号码。")
    if email and is_personal_email(email, personal_domains):
        errors["email"] = _("隐私规则：禁止记录个人邮箱（%(domain)s），请填写工作邮箱。") % {
            "domain": email.strip().lower().rpartition("@")[2]
        }
    if errors:
        raise ValidationError(errors)

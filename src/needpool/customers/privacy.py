"""Privacy rule (禁止记录个人手机号/邮箱): a contact may carry work numbers and work mail only.

Pure functions, and the one check every entry path calls: the contact form and API and the relationship
sheet import (through ``contact_create`` / ``contact_update``), the portal and the channel API (through
``intake.incoming``). Values are normalised first (NFKC, so full-width digits and letters count; every
separator people type), and a value is refused when a mobile number stands anywhere in it — with an
extension, a note in brackets, or beside a landline.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATOR = r"[\s\-_.·/\\()（）\[\]【】]"
# A mainland mobile (1[3-9] and nine more digits), optionally after +86 / 0086 / 86, with any separators
# between its digit groups, standing alone (no digit right before or after it, and not the country code
# of another number such as +1 650 …).
_MAINLAND_MOBILE = re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{_SEPARATOR}*)?1[3-9](?:{_SEPARATOR}*\d){{9}}(?!\d)")
_PHONE_CHARS = re.compile(_SEPARATOR)


def normalise(raw: str) -> str:
    """NFKC (full-width → ASCII), trimmed."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def _is_mobile_number(number: phonenumbers.PhoneNumber) -> bool:
    kind = phonenumbers.number_type(number)
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return True
    return kind == phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE and number.country_code == 86


def is_personal_mobile(raw: str) -> bool:
    """True when a mobile number stands anywhere in ``raw`` (mainland in any spelling, or foreign)."""
    text = normalise(raw)
    if not text:
        return False
    if _MAINLAND_MOBILE.search(text):
        return True
    compact = _PHONE_CHARS.sub("", text)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        if _is_mobile_number(phonenumbers.parse(compact, "CN")):
            return True
    except phonenumbers.NumberParseException:
        pass
    # Several numbers in one value, or words around them: every number libphonenumber finds in the text.
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.POSSIBLE):
        if _is_mobile_number(match.number):
            return True
    return False


def email_domain(raw: str) -> str:
    """The normalised domain of a mail address ('' when there is none): NFKC, lower case, no trailing dot."""
    _local, sep, domain = normalise(raw).lower().rpartition("@")
    return domain.strip().rstrip(".") if sep else ""


def is_personal_email(raw: str, personal_domains: set[str]) -> bool:
    """True when the address is at a personal mailbox domain or one of its sub-domains (mail.qq.com)."""
    domain = email_domain(raw)
    if not domain:
        return False
    known = {normalise(d).lower().lstrip("@").rstrip(".") for d in personal_domains}
    return any(domain == d or domain.endswith("." + d) for d in known if d)


def check_contact_privacy(*, phone: str, email: str, personal_domains: set[str]) -> None:
    errors: dict[str, str] = {}
    if phone and is_personal_mobile(phone):
        errors["phone"] = _("隐私规则：禁止记录个人手机号，请填写工作座机或总机号码。")
    if email and is_personal_email(email, personal_domains):
        errors["email"] = _("隐私规则：禁止记录个人邮箱（%(domain)s），请填写工作邮箱。") % {
            "domain": email_domain(email)
        }
    if errors:
        raise ValidationError(errors)

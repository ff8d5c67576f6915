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


# A work number may carry an extension: 转 8001, 分机 8001, ext. 8001, x8001, #8001, or -8001 after a full number.
_EXTENSION_WORDS = re.compile(r"\s*(?:转|分机|ext\.?|extension|x)\s*(?=\d)", re.IGNORECASE)
_TRAILING_EXTENSION = re.compile(r"^(?P<number>.*\d)\s*-\s*(?P<ext>\d{1,6})$")
WORK_NUMBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,  # outside the mainland (a mainland one is refused above)
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,  # 400 switchboards
        phonenumbers.PhoneNumberType.UAN,
        phonenumbers.PhoneNumberType.VOIP,
    }
)


def _parsed_work_number(text: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return number if phonenumbers.number_type(number) in WORK_NUMBER_TYPES else None


def is_work_phone(raw: str) -> bool:
    """True when ``raw`` is one landline, switchboard or service number that libphonenumber knows as valid
    (mainland numbers without +86, others with their country code), optionally with an extension."""
    text = normalise(raw)
    if not text or len(text) > 40 or is_personal_mobile(text):
        return False
    text = _EXTENSION_WORDS.sub(" ext. ", text)
    if _parsed_work_number(text) is not None:
        return True
    trailing = _TRAILING_EXTENSION.match(text)  # 010-62345678-8001
    return trailing is not None and _parsed_work_number(f"{trailing['number']} ext. {trailing['ext']}") is not None


def work_phone_error(raw: str) -> str:
    """Why ``raw`` is refused as a contact's work phone ('' when it is accepted or empty)."""
    if not normalise(raw):
        return ""
    if is_personal_mobile(raw):
        return _("隐私规则：禁止记录个人手机号，请填写工作座机或总机号码。")
    if not is_work_phone(raw):
        return _(
            "“%(value)s”不是有效的座机或总机号码。请写区号和号码，如 010-62345678 或 400-800-1234；"
            "分机写在后面，如 010-62345678 转 8001；境外号码以 + 和国家代码开头。"
        ) % {"value": normalise(raw)[:40]}
    return ""


def check_contact_privacy(*, phone: str, email: str, personal_domains: set[str]) -> None:
    """The one check of a contact's (or a submitter's) phone and mail, for the form, the API, the portal, the
    channel API and the import: a valid work number, no personal mobile, no personal mailbox."""
    errors: dict[str, str] = {}
    if phone and (message := work_phone_error(phone)):
        errors["phone"] = message
    if email and is_personal_email(email, personal_domains):
        errors["email"] = _("隐私规则：禁止记录个人邮箱（%(domain)s），请填写工作邮箱。") % {
            "domain": email_domain(email)
        }
    if errors:
        raise ValidationError(errors)


# ---------------------------------------------------------------- masking mobiles in free text
#
# Free text (interaction notes, portal and feedback words) is not refused: a mobile number in it is masked on
# save (138****8000) and the user is told. The detector is the refusal rule's: the same normalisation, the same
# mainland pattern and the same libphonenumber check; landlines stay as typed.


def _normalised_with_origins(raw: str) -> tuple[str, list[int]]:
    """NFKC of ``raw`` character by character, and for each normalised character the index it came from."""
    out: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(raw):
        piece = unicodedata.normalize("NFKC", char)
        out.append(piece)
        origins.extend([index] * len(piece))
    return "".join(out), origins


def mobile_spans(raw: str) -> list[tuple[int, int]]:
    """Where mobile numbers stand in ``raw``: sorted, non-overlapping (start, end) indices into ``raw``."""
    if not raw:
        return []
    text, origins = _normalised_with_origins(raw)
    found = [(m.start(), m.end()) for m in _MAINLAND_MOBILE.finditer(text)]
    for match in phonenumbers.PhoneNumberMatcher(text, "CN", leniency=phonenumbers.Leniency.POSSIBLE):
        if _is_mobile_number(match.number):
            found.append((match.start, match.end))
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found):
        # Back to the original text: from the first character of the match to the last one, inclusive.
        span = (origins[start], origins[end - 1] + 1)
        if spans and span[0] < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]))
        else:
            spans.append(span)
    return spans


def _masked(number: str) -> str:
    digits = re.sub(r"\D", "", normalise(number))
    digits = digits[2:] if digits.startswith("00") else digits
    national = digits[2:] if digits.startswith("86") and len(digits) > 11 else digits
    if len(national) < 8:
        return "*" * len(national)
    return f"{national[:3]}****{national[-4:]}"


# A run of digits with the separators people type inside numbers (full-width digits are digits too).
_DIGIT_RUN = re.compile(r"\d[\d\s\-_.()（）+＋]{5,}\d")


def mask_mobiles(raw: str) -> str:
    """``raw`` with every mobile number masked (138****8000); text without one comes back unchanged."""
    spans = mobile_spans(raw)
    pieces: list[str] = []
    at = 0
    for start, end in spans:
        pieces.append(raw[at:start])
        pieces.append(_masked(raw[start:end]))
        at = end
    pieces.append(raw[at:])
    masked = "".join(pieces)
    if is_personal_mobile(masked):
        # Still a mobile to the refusal rule: numbers typed into each other (two mobiles with nothing between,
        # an extension running into the next number). Every long run of digits goes, all its digits hidden.
        masked = _DIGIT_RUN.sub(lambda run: re.sub(r"\d", "*", run.group(0)), masked)
    return masked


def mask_fields(values: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Each value with its mobiles masked, and the names of the fields that changed."""
    masked = {name: mask_mobiles(value) if isinstance(value, str) else value for name, value in values.items()}
    return masked, [name for name in values if masked[name] != values[name]]


def masking_notice(labels: list[str]) -> str:
    """The notice shown when mobile numbers were masked in the named fields ('' when none were)."""
    if not labels:
        return ""
    return _("隐私规则：%(fields)s中的手机号码已自动隐藏（如 138****8000），请勿在文字中记录个人手机号。") % {
        "fields": "、".join(labels)
    }


MASKED_ATTRIBUTE = "privacy_masked_fields"


def mask_text_fields(obj: object, fields: tuple[str, ...]) -> list[str]:
    """Mask mobiles in the named text fields of ``obj`` in place; the labels of the fields that changed are
    returned and kept on the object (``masking_notices`` reads them for the page or the API answer)."""
    meta = getattr(obj, "_meta", None)
    labels: list[str] = []
    for name in fields:
        value = getattr(obj, name, None)
        if not isinstance(value, str):
            continue
        masked = mask_mobiles(value)
        if masked != value:
            setattr(obj, name, masked)
            labels.append(str(meta.get_field(name).verbose_name) if meta is not None else name)
    setattr(obj, MASKED_ATTRIBUTE, [*getattr(obj, MASKED_ATTRIBUTE, []), *labels])
    return labels


def masking_notices(obj: object) -> list[str]:
    """What to tell the user after a save that masked mobiles in ``obj`` (empty when nothing was masked)."""
    notice = masking_notice(list(getattr(obj, MASKED_ATTRIBUTE, [])))
    return [notice] if notice else []

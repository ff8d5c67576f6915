"""Checks of the words that come in from outside (portal form, channel API): lengths, the contact privacy
rule, and matching the customer and contact they name. Customers and contacts are never created here; the
match is never shown to the sender (see ``intake.portal.services`` for the decisions)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from needpool.core.config import personal_email_domains
from needpool.customers.models import Contact, Customer
from needpool.customers.privacy import check_contact_privacy
from needpool.requirements.choices import Dimension
from needpool.requirements.models import ClassOption

MAX_TEXT = 5000


def clean_text(value: str, field: str, *, required: bool, limit: int, label: str) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("%(label)s不能超过 %(limit)s 个字符（现有 %(count)s 个）。")
                % {
                    "label": label,
                    "limit": limit,
                    "count": len(text),
                }
            }
        )
    return text


def clean_contact(*, name: str, phone: str, email: str, require_one: bool) -> tuple[str, str, str]:
    """Contact details under the privacy rule; errors keyed contact_name / contact_phone / contact_email."""
    name = clean_text(name, "contact_name", required=require_one, limit=60, label=_("联系人"))
    phone = clean_text(phone, "contact_phone", required=False, limit=40, label=_("工作电话"))
    email = clean_text(email, "contact_email", required=False, limit=254, label=_("工作邮箱")).lower()
    errors: dict[str, str] = {}
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["contact_email"] = _("请输入有效的邮箱地址。")
    try:
        check_contact_privacy(phone=phone, email=email if not errors else "", personal_domains=personal_email_domains())
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors[f"contact_{field}"] = messages[0]
    if require_one and not (phone or email) and not errors:
        errors["contact_phone"] = _("请至少填写工作电话或工作邮箱中的一项，以便我们联系您。")
    if errors:
        raise ValidationError(errors)
    return name, phone, email


def match_customer(*, code: str = "", name: str = "") -> Customer | None:
    if code:
        found = Customer.objects.filter(code__iexact=code).first()
        if found is not None:
            return found
    for text in (name, code):
        if text:
            matches = list(Customer.objects.filter(name=text)[:2])
            if len(matches) == 1:
                return matches[0]
    return None


def match_contact(customer: Customer | None, email: str) -> Contact | None:
    if customer is None or not email:
        return None
    return customer.contacts.filter(email__iexact=email).first()


def check_type(option: ClassOption | None) -> None:
    if option is not None and (option.dimension != Dimension.TYPE or not option.is_active):
        raise ValidationError({"type": _("所选需求类型不存在或已停用。")})

"""A contact's personal data (PIPL 个人信息): what a copy holds and how erasure scrubs it, across apps.

``customers`` may not import the apps that keep words from or about a contact (feedback in ``requirements``,
portal submissions in ``intake``). Those apps register a ``PersonalDataHolder`` here in their
``AppConfig.ready()``: ``export(contact)`` lists the rows about the person, ``erase(contact, person)`` removes
the person's details from those rows and says how many it changed. ``customers.services.contact_erase`` runs
every holder in its transaction; ``customers.selectors.contact_personal_data`` asks every holder for its rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from needpool.core.models import AuditEntry

if TYPE_CHECKING:
    from needpool.customers.models import Contact

# A name shorter than this is not searched for in free text: one character would mask half the notes.
MIN_NAME_LENGTH = 2
_DIGIT_GAP = r"[\s\-.·()（）]*"


def erased_name(contact_id: int) -> str:
    """What an erased contact is called from then on: stored, so in the site's language, not the requester's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("已删除联系人 #%(id)s") % {"id": contact_id}


@dataclass(frozen=True)
class Person:
    """The personal values of one contact as they were before erasure, and what replaces them in text."""

    contact_id: int
    name: str
    title: str
    phone: str
    email: str

    @property
    def replacement(self) -> str:
        return erased_name(self.contact_id)

    def _patterns(self, with_title: bool = False) -> list[re.Pattern[str]]:
        patterns: list[re.Pattern[str]] = []
        title = self.title.strip()
        if with_title and len(title) >= MIN_NAME_LENGTH:
            patterns.append(re.compile(re.escape(title), re.IGNORECASE))
        name = self.name.strip()
        if len(name) >= MIN_NAME_LENGTH and name != self.replacement:
            # A Latin name is a whole word ("Li" is not the start of "Linux"); Chinese has no word breaks.
            before, after = (r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])") if name.isascii() else ("", "")
            patterns.append(re.compile(before + re.escape(name) + after, re.IGNORECASE))
        email = self.email.strip()
        if email:
            patterns.append(re.compile(re.escape(email), re.IGNORECASE))
        digits = re.sub(r"\D", "", self.phone)
        if len(digits) >= 5:
            # The number as typed or spelled with other separators (010-62345678, 01062345678, 010 6234 5678).
            patterns.append(re.compile(r"(?<!\d)" + _DIGIT_GAP.join(digits) + r"(?!\d)"))
        elif self.phone.strip():
            patterns.append(re.compile(re.escape(self.phone.strip())))
        return patterns

    def scrub(self, text: str, with_title: bool = False) -> str:
        """``text`` with the person's name, mail address and phone number (and title, in records about the
        contact itself such as audit rows) replaced by the erased name."""
        if not text:
            return text
        for pattern in self._patterns(with_title):
            text = pattern.sub(self.replacement, text)
        return text

    def scrub_value(self, value: Any) -> Any:
        """Like ``scrub`` with the title, through JSON-like values (audit rows' changes)."""
        if isinstance(value, str):
            return self.scrub(value, with_title=True)
        if isinstance(value, list):
            return [self.scrub_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_value(item) for key, item in value.items()}
        return value

    def scrub_fields(self, obj: models.Model, fields: Iterable[str]) -> list[str]:
        """Scrub the named text fields of ``obj`` in place; the names of the fields that changed."""
        changed: list[str] = []
        for name in fields:
            value = getattr(obj, name)
            scrubbed = self.scrub(value) if isinstance(value, str) else value
            if scrubbed != value:
                setattr(obj, name, scrubbed)
                changed.append(name)
        return changed


@dataclass(frozen=True)
class PersonalDataHolder:
    """Rows another app keeps about a contact: ``key`` names them in the copy (``portal_submissions``)."""

    key: str
    export: Callable[[Contact], list[dict[str, Any]]]
    erase: Callable[[Contact, Person], int]


_holders: dict[str, PersonalDataHolder] = {}


def register_personal_data_holder(holder: PersonalDataHolder) -> PersonalDataHolder:
    """Take part in copies and erasure (registering the same key again replaces it)."""
    _holders[holder.key] = holder
    return holder


def personal_data_holders() -> list[PersonalDataHolder]:
    return list(_holders.values())


def plain(value: Any) -> Any:
    """A JSON-ready value for the copy."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def row(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """One row of the copy: the named fields, with choice fields as their labels."""
    out: dict[str, Any] = {"id": obj.pk}
    for name in fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if getattr(field, "choices", None) and hasattr(obj, f"get_{name}_display"):
            value = getattr(obj, f"get_{name}_display")()
        out[name] = plain(value)
    return out


def scrub_audit_rows(person: Person, model: type[models.Model], ids: Iterable[int]) -> int:
    """Scrub the person out of the audit rows of these objects (changes and the object's label); how many
    rows changed. The rows stay: who did what and when is kept, only the person's details go."""
    changed = 0
    rows = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=list(ids)
    ).select_for_update()
    for entry in rows:
        changes = person.scrub_value(entry.changes)
        object_repr = person.scrub(entry.object_repr, with_title=True)[:200]
        if changes != entry.changes or object_repr != entry.object_repr:
            AuditEntry.objects.filter(pk=entry.pk).update(changes=changes, object_repr=object_repr)
            changed += 1
    return changed

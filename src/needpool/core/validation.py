"""The ranges input is checked against at the edge, declared once: ids (a database row id: 1 … 2⁶³−1, what
both SQLite and PostgreSQL store) and dates (1900-01-01 … 2200-12-31: a customer founded in 1950 is real, a
requirement of year 4 is a typo). Every FilterSet, serializer, form and URL that takes an id or a date uses
the fields here, so an id of 20 digits or a date of year 4 is a clear
400 in the user's language — never a 500 from the database driver, never an export cut off mid-stream.

* ``parse_id(value)`` — the id, or ``None`` when ``value`` is not one (ASCII digits only, in range);
* ``IdConverter`` — the URL converter ``<id:pk>``: 1 to 19 digits, and a 404 beyond the range;
* django-filter: ``IdFilter``, ``DateFilter``, ``DateTimeFilter``; forms: ``IdFormField``,
  ``DateFormField``, ``DateTimeFormField``;
* DRF: ``IdField``, ``IdListField``, ``DateField``, ``DateTimeField`` and ``BoundedModelSerializer`` (its
  model date fields get the bounded ones).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ID_MIN = 1
ID_MAX = 2**63 - 1
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2200, 12, 31)

_ID_TEXT = re.compile(r"[0-9]{1,19}")

ID_INVALID = _("编号必须是 1 到 9223372036854775807 之间的整数。")
DATE_OUT_OF_RANGE = _("日期必须在 1900-01-01 到 2200-12-31 之间。")

ID_SCHEMA: dict[str, Any] = {"type": "integer", "format": "int64", "minimum": ID_MIN, "maximum": ID_MAX}


def parse_id(value: Any) -> int | None:
    """``value`` as a row id, or ``None``: an int in range, or its ASCII digits (surrounding blanks allowed).

    ``"²"`` and ``"٣"`` are digits to ``str.isdigit`` yet not to ``int``; ``True`` is not an id either.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ID_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if ID_MIN <= number <= ID_MAX else None


def check_date(value: dt.date | dt.datetime | None) -> None:
    """Refuse a date (or a datetime's local date) outside DATE_MIN … DATE_MAX."""
    if value is None:
        return
    day = value
    if isinstance(value, dt.datetime):
        try:
            day = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
        except OverflowError as exc:  # year 1 or 9999 moved to the local time zone
            raise ValidationError(DATE_OUT_OF_RANGE, code="date_out_of_range") from exc
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(DATE_OUT_OF_RANGE, code="date_out_of_range")


# ---------------------------------------------------------------- URLs


class IdConverter:
    """``<id:pk>``: 1 to 19 ASCII digits whose value is a row id; anything else is not this route (a 404)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value: Any) -> str:
        return str(value)


# ---------------------------------------------------------------- forms and FilterSets


class IdFormField(forms.Field):
    default_error_messages = {"invalid": ID_INVALID}

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class DateFormField(forms.DateField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        check_date(value)


class DateTimeFormField(forms.DateTimeField):
    def validate(self, value: Any) -> None:
        super().validate(value)
        check_date(value)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.Filter):
    """A row id (1 … 2⁶³−1); anything else is a 400 with the message above, not a database error."""

    field_class = IdFormField


@extend_schema_field({"type": "string", "format": "date"})
class DateFilter(django_filters.DateFilter):
    field_class = DateFormField


@extend_schema_field({"type": "string", "format": "date-time"})
class DateTimeFilter(django_filters.DateTimeFilter):
    field_class = DateTimeFormField


# ---------------------------------------------------------------- API serializers


class IdField(serializers.IntegerField):
    """A row id in a body (1 … 2⁶³−1)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", ID_MIN)
        kwargs.setdefault("max_value", ID_MAX)
        messages = dict.fromkeys(("invalid", "min_value", "max_value", "max_string_length"), ID_INVALID)
        kwargs["error_messages"] = {**messages, **kwargs.get("error_messages", {})}
        super().__init__(**kwargs)


class IdListField(serializers.ListField):
    """A list of row ids (e.g. the requirements to merge)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", IdField())
        super().__init__(**kwargs)


class DateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> dt.date:
        day = super().to_internal_value(value)
        if not DATE_MIN <= day <= DATE_MAX:
            raise serializers.ValidationError(str(DATE_OUT_OF_RANGE), code="date_out_of_range")
        return day


class DateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> dt.datetime:
        moment = super().to_internal_value(value)
        try:
            check_date(moment)
        except ValidationError as exc:
            raise serializers.ValidationError(str(DATE_OUT_OF_RANGE), code="date_out_of_range") from exc
        return moment


#: each serializer class's fields as ``ModelSerializer`` builds them, before any instance binds them
_FIELD_PROTOTYPES: dict[type[serializers.ModelSerializer], dict[str, serializers.Field]] = {}


class BoundedModelSerializer(serializers.ModelSerializer):
    """A ``ModelSerializer`` whose model date and datetime fields take the bounded fields above.

    Its fields are built from the model once per class, then copied for each instance: ``ModelSerializer``
    builds them again for every serializer made (the model's fields read, a field class picked and set up for
    each; ~2.4 ms for a requirement's 27 against ~1.3 ms for a copy), and a create makes two. What it builds
    depends on the class alone (``Meta`` and the declared fields); a subclass that sets a field up per
    request (a queryset scoped to the user) does so on its copy, in its own ``get_fields``.
    """

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: DateField,
        models.DateTimeField: DateTimeField,
    }

    def get_fields(self) -> dict[str, serializers.Field]:
        prototype = _FIELD_PROTOTYPES.get(type(self))
        if prototype is None:
            prototype = _FIELD_PROTOTYPES[type(self)] = super().get_fields()
        return copy.deepcopy(prototype)

"""What the analysis forms share: the date widget, 1–5 choice fields, numbers as typed, the user list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from needpool.accounts.models import User

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ONE_TO_FIVE = [("", "—"), *((n, str(n)) for n in range(1, 6))]


def one_to_five(label: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, choices=ONE_TO_FIVE, coerce=int, empty_value=None, required=False)


def active_users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def number_text(value: float) -> str:
    """A weight or threshold as typed: 30 rather than 30.0."""
    return f"{value:g}"


def plain_number(value: Any) -> Any:
    """30.0 → 30 for a form's initial value (the field still parses it as a float)."""
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number

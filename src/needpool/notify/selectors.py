"""Reads of notifications' settings pages: a user's channel matrix, the delivery log (admins only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from needpool.accounts.roles import Cap
from needpool.core.permissions import is_admin
from needpool.notify.kinds import KIND_HELP, Channel, EventKind, default_channels
from needpool.notify.models import Delivery, Preference


@dataclass(frozen=True)
class PreferenceRow:
    """One kind on the preferences page: what the user hears it on and whether that is their own choice."""

    kind: str
    label: str
    help: str
    channels: tuple[str, ...]
    defaults: tuple[str, ...]
    saved: bool


def preference_rows(*, user: Any) -> list[PreferenceRow]:
    """Every kind with ``user``'s channels (their choice, else their role's default); one query."""
    chosen = dict(Preference.objects.filter(user=user.pk).values_list("kind", "channels"))
    rows = []
    role = getattr(user, "role", None)
    for kind, label in EventKind.choices:
        defaults = default_channels(kind, role)
        saved = kind in chosen
        channels = tuple(c for c in Channel.values if c in (chosen[kind] if saved else defaults))
        rows.append(
            PreferenceRow(
                kind=kind,
                label=str(label),
                help=str(KIND_HELP.get(kind, "")),
                channels=channels,
                defaults=defaults,
                saved=saved,
            )
        )
    return rows


def preference_owner(*, actor: Any, user_id: int | None) -> Any:
    """Whose preferences ``actor`` opens: their own (no id, or their id); anyone's for 管理用户与团队; else None."""
    if not (actor is not None and actor.is_authenticated):
        return None
    if user_id is None or user_id == actor.pk:
        return actor
    if not actor.can(Cap.MANAGE_USERS):
        return None
    return get_user_model().objects.filter(pk=user_id).first()


def can_see_deliveries(user: Any) -> bool:
    return is_admin(user)


def delivery_list(*, user: Any, status: str = "", target_kind: str = "") -> QuerySet[Delivery]:
    """The delivery log, newest first (admins only: anyone else sees nothing)."""
    if not can_see_deliveries(user):
        return Delivery.objects.none()
    qs = Delivery.objects.select_related("event").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if target_kind:
        qs = qs.filter(target__startswith=f"{target_kind}:")
    return qs


def delivery_get(*, user: Any, pk: int) -> Delivery | None:
    return delivery_list(user=user).filter(pk=pk).first()

"""The recycle bin's reads: what staff deleted, by kind, for admins; and which delete a user may start.

The rows stay in their own tables (``SoftDeletable``); the bin reads them through ``all_objects``. Only an
admin sees the bin (anyone else: 403); its rows come with who deleted them, when, and the days left.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db.models import Count, Model, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.core.permissions import is_admin
from needpool.core.recycle import days_left, restore_deadline
from needpool.customers.models import Contact, Customer
from needpool.requirements.models import Feedback, Requirement


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    model: type[Model]
    related: tuple[str, ...]


KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("requirement", gettext_lazy("需求"), Requirement, ("deleted_by", "status")),
        Kind("feedback", gettext_lazy("反馈"), Feedback, ("deleted_by", "customer", "requirement")),
        Kind("customer", gettext_lazy("客户"), Customer, ("deleted_by",)),
        Kind("contact", gettext_lazy("联系人"), Contact, ("deleted_by", "customer")),
    )
}


def kind_of(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError as exc:
        raise Http404 from exc


def _require_admin(user: Any) -> None:
    if not is_admin(user):
        raise PermissionDenied(_("只有管理员可以查看回收站。"))


def bin_list(*, user: Any, kind: str) -> QuerySet[Any]:
    """Deleted rows of one kind, newest deletion first (admins only)."""
    _require_admin(user)
    spec = kind_of(kind)
    qs: QuerySet[Any] = spec.model.all_objects.filter(deleted_at__isnull=False)  # type: ignore[attr-defined]
    qs = qs.select_related(*spec.related).order_by("-deleted_at", "-pk")
    if spec.model is Customer:
        qs = qs.annotate(contacts_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=False)))
    return qs


def bin_counts(*, user: Any) -> dict[str, int]:
    _require_admin(user)
    return {
        key: spec.model.all_objects.filter(deleted_at__isnull=False).count()  # type: ignore[attr-defined]
        for key, spec in KINDS.items()
    }


def bin_get(*, user: Any, kind: str, pk: Any) -> Any:
    try:
        return bin_list(user=user, kind=kind).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class BinEntry:
    """One deleted row as the bin shows it."""

    kind: str
    kind_label: str
    pk: int
    title: str
    detail: str
    deleted_at: dt.datetime
    deleted_by: str
    restore_until: dt.datetime
    days_left: int


def _describe(kind: str, obj: Any) -> tuple[str, str]:
    if kind == "requirement":
        return f"{obj.code} {obj.title}", str(obj.status)
    if kind == "feedback":
        parts = [obj.customer.name if obj.customer else _("无客户")]
        if obj.requirement is not None:
            parts.append(_("随需求 %(code)s 删除") % {"code": obj.requirement.code})
        return obj.raw_text[:80], " · ".join(parts)
    if kind == "customer":
        count = getattr(obj, "contacts_count", 0)
        return f"{obj.code} {obj.name}", _("联系人 %(count)d 位") % {"count": count} if count else ""
    return obj.name, obj.customer.name


def entries(kind: str, rows: Any, now: dt.datetime | None = None) -> list[BinEntry]:
    now = now or timezone.now()
    label = str(kind_of(kind).label)
    made = []
    for obj in rows:
        title, detail = _describe(kind, obj)
        made.append(
            BinEntry(
                kind=kind,
                kind_label=label,
                pk=obj.pk,
                title=title,
                detail=detail,
                deleted_at=obj.deleted_at,
                deleted_by=str(obj.deleted_by) if obj.deleted_by else _("未知"),
                restore_until=restore_deadline(obj.deleted_at),
                days_left=days_left(obj.deleted_at, now),
            )
        )
    return made

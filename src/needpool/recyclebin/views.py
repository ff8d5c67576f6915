"""Recycle bin pages: delete from an object's page (with a confirm), the bin itself (admins), restore."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.concurrency import StaleVersion
from needpool.core.recycle import RESTORE_DAYS
from needpool.core.views import error_text
from needpool.customers.selectors import contact_get, customer_get
from needpool.recyclebin.selectors import KINDS, bin_counts, bin_list, entries, kind_of
from needpool.recyclebin.services import bin_delete, bin_restore
from needpool.requirements.selectors import feedback_get, requirement_get

PAGE_SIZE = 25


def _target(request: HttpRequest, kind: str, pk: int) -> Any:
    """The object as its own app's selector shows it to the user (404 when not visible)."""
    kind_of(kind)
    get = {
        "requirement": requirement_get,
        "feedback": feedback_get,
        "customer": customer_get,
        "contact": contact_get,
    }[kind]
    return get(user=request.user, pk=pk)


def _page_of(kind: str, obj: Any) -> str:
    if kind == "requirement":
        return reverse("requirements:detail", args=[obj.pk])
    if kind == "feedback":
        return reverse("requirements:feedback_triage", args=[obj.pk])
    if kind == "customer":
        return reverse("customers:detail", args=[obj.pk])
    return reverse("customers:contact", args=[obj.pk])


def _list_after(kind: str, obj: Any) -> str:
    if kind == "requirement":
        return reverse("requirements:list")
    if kind == "feedback":
        return reverse("requirements:feedback_inbox")
    if kind == "customer":
        return reverse("customers:list")
    return reverse("customers:detail", args=[obj.customer_id])


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


@require_POST
def delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Put one requirement, feedback item, customer or contact in the bin; back to its list."""
    obj = _target(request, kind, pk)
    try:
        bin_delete(actor=acting_user(request.user), kind=kind, obj=obj, expected_version=_version(request))
    except StaleVersion:
        messages.error(request, _("此记录在您打开后已被他人修改，未删除；请查看最新内容后再决定。"))
        return redirect(_page_of(kind, obj))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(_page_of(kind, obj))
    messages.success(
        request,
        _("已删除“%(item)s”。管理员可在 %(days)d 天内从回收站恢复。")
        % {"item": _short(kind, obj), "days": RESTORE_DAYS},
    )
    return redirect(_list_after(kind, obj))


def _short(kind: str, obj: Any) -> str:
    if kind == "feedback":
        text: str = obj.raw_text
        return text[:30] + ("…" if len(text) > 30 else "")
    return str(obj)


def index(request: HttpRequest) -> HttpResponse:
    """The bin (admins): deleted rows of one kind at a time, with who, when, and the days left to restore."""
    counts = bin_counts(user=request.user)
    kind = request.GET.get("kind", "")
    if kind not in KINDS:
        kind = next((key for key, count in counts.items() if count), "requirement")
    page = Paginator(bin_list(user=request.user, kind=kind), PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [{"key": key, "label": spec.label, "count": counts[key]} for key, spec in KINDS.items()]
    return render(
        request,
        "recyclebin/index.html",
        {
            "kind": kind,
            "tabs": tabs,
            "page_obj": page,
            "entries": entries(kind, page.object_list),
            "restore_days": RESTORE_DAYS,
        },
    )


@require_POST
def restore(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    kind_of(kind)
    back = f"{reverse('recyclebin:index')}?kind={kind}"
    try:
        restored = bin_restore(actor=acting_user(request.user), kind=kind, pk=pk)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    messages.success(request, _("已恢复“%(item)s”。") % {"item": _short(kind, restored)})
    return redirect(back)

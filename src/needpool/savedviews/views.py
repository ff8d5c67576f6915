"""Saved-view pages: save the list's current filters, and manage one's views (rename, share, default, delete)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from needpool.accounts.models import acting_user
from needpool.core.views import error_text
from needpool.savedviews.forms import EditViewForm, SaveViewForm
from needpool.savedviews.middleware import forget_defaults, view_address
from needpool.savedviews.models import ListKind, Visibility
from needpool.savedviews.queries import list_url
from needpool.savedviews.selectors import saved_view_get, saved_view_list
from needpool.savedviews.services import (
    saved_view_create,
    saved_view_delete,
    saved_view_set_default,
    saved_view_update,
)


def _manage_url() -> str:
    return reverse("savedviews:manage")


@require_POST
def saved_view_save(request: HttpRequest) -> HttpResponse:
    actor = acting_user(request.user)
    form = SaveViewForm(request.POST, user=actor)
    kind = request.POST.get("kind", "")
    back = list_url(kind) if kind in ListKind.values else _manage_url()
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect(back)
    data = form.cleaned_data
    try:
        view = saved_view_create(
            actor=actor,
            kind=data["kind"],
            name=data["name"],
            query=data["query"],
            visibility=data["visibility"] or Visibility.PRIVATE,
            make_default=data["make_default"],
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(back)
    forget_defaults(request)
    messages.success(request, _("已保存视图“%(name)s”。") % {"name": view.name})
    return redirect(view_address(back, view.query, view.pk))


def saved_view_manage(request: HttpRequest) -> HttpResponse:
    views = list(saved_view_list(user=request.user))
    for view in views:
        view.address = view_address(list_url(view.kind), view.query, view.pk)  # type: ignore[attr-defined]
        view.form = EditViewForm(  # type: ignore[attr-defined]
            initial={"name": view.name, "visibility": view.visibility}, auto_id=f"view-{view.pk}-%s"
        )
    return render(request, "savedviews/manage.html", {"views": views})


@require_POST
def saved_view_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request.user)
    view = saved_view_get(user=actor, pk=pk)
    form = EditViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return redirect(_manage_url())
    try:
        saved_view_update(
            actor=actor, view=view, name=form.cleaned_data["name"], visibility=form.cleaned_data["visibility"]
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        forget_defaults(request)
        messages.success(request, _("已更新视图“%(name)s”。") % {"name": form.cleaned_data["name"].strip()})
    return redirect(_manage_url())


@require_POST
def saved_view_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request.user)
    view = saved_view_get(user=actor, pk=pk)
    saved_view_delete(actor=actor, view=view)
    forget_defaults(request)
    messages.success(request, _("已删除视图“%(name)s”。") % {"name": view.name})
    return redirect(_manage_url())


@require_POST
def saved_view_default(request: HttpRequest, pk: int) -> HttpResponse:
    actor = acting_user(request.user)
    view = saved_view_get(user=actor, pk=pk)
    clear = request.POST.get("clear") == "1"
    saved_view_set_default(actor=actor, kind=view.kind, view=None if clear else view)
    forget_defaults(request)
    if clear:
        messages.success(request, _("%(list)s不再使用默认视图。") % {"list": ListKind(view.kind).label})
    else:
        messages.success(
            request, _("“%(name)s”已设为%(list)s的默认视图。") % {"name": view.name, "list": ListKind(view.kind).label}
        )
    return redirect(_manage_url())

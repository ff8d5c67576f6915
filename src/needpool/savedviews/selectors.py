"""Reads of saved views: a user sees their own views and the views their team shares (read-only)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from needpool.accounts.models import Viewer
from needpool.savedviews.models import DefaultView, SavedView, Visibility


def visible_q(user: Any) -> Q:
    mine = Q(owner_id=user.pk)
    if user.team_id is None:
        return mine
    return mine | Q(visibility=Visibility.TEAM, team_id=user.team_id)


def saved_view_list(*, user: Viewer, kind: str | None = None) -> QuerySet[SavedView]:
    """The views ``user`` may read (own first, then shared), each with ``is_default`` for that user."""
    if not (user and user.is_authenticated):
        return SavedView.objects.none()
    views = SavedView.objects.filter(visible_q(user))
    if kind:
        views = views.filter(kind=kind)
    default = DefaultView.objects.filter(user_id=user.pk, view_id=OuterRef("pk"))
    return views.select_related("owner").annotate(is_default=Exists(default)).order_by("kind", "name", "id")


def saved_view_get(*, user: Viewer, pk: int) -> SavedView:
    """One view ``user`` may read; 404 for one they may not (not found and private look the same)."""
    view = saved_view_list(user=user).filter(pk=pk).first()
    if view is None:
        raise Http404
    return view


def views_for_list(request: Any, kind: str) -> list[SavedView]:
    """The views of one list for the request's user, read once per request (the default-view redirect and the
    list's dropdown share it)."""
    cache: dict[str, list[SavedView]] = request.__dict__.setdefault("_saved_views", {})
    if kind not in cache:
        cache[kind] = list(saved_view_list(user=request.user, kind=kind))
    return cache[kind]


def default_view(request: Any, kind: str) -> SavedView | None:
    """The user's default view of that list, if they may still read it."""
    return next((view for view in views_for_list(request, kind) if getattr(view, "is_default", False)), None)

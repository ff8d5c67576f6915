"""Writes of saved views: only the owner renames, changes or deletes a view; anyone who may read a view may
make it their default."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.savedviews.models import NAME_MAX_LENGTH, DefaultView, ListKind, SavedView, Visibility
from needpool.savedviews.queries import clean_query
from needpool.savedviews.selectors import saved_view_list

MAX_VIEWS_PER_LIST = 50


def _clean_name(name: Any) -> str:
    text = " ".join(str(name or "").split())
    if not text:
        raise ValidationError({"name": _("请填写视图名称。")})
    if len(text) > NAME_MAX_LENGTH:
        raise ValidationError({"name": _("视图名称最多 %(n)s 个字。") % {"n": NAME_MAX_LENGTH}})
    return text


def _share_fields(actor: User, visibility: str) -> dict[str, Any]:
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("可见范围只能是“仅自己”或“团队共享”。")})
    if visibility == Visibility.TEAM:
        if actor.team_id is None:
            raise ValidationError({"visibility": _("您不属于任何团队，视图只能仅自己可见。")})
        return {"visibility": visibility, "team_id": actor.team_id}
    return {"visibility": visibility, "team_id": None}


def _own(actor: User, view: SavedView) -> None:
    if view.owner_id != actor.pk:
        raise PermissionDenied(_("共享给您的视图是只读的：只有创建者可以修改或删除。"))


def _unique_name(actor: User, kind: str, name: str, exclude: int | None = None) -> None:
    same = SavedView.objects.filter(owner=actor, kind=kind, name=name)
    taken = (same.exclude(pk=exclude) if exclude is not None else same).exists()
    if taken:
        raise ValidationError({"name": _("您已有名为“%(name)s”的视图。") % {"name": name}})


@transaction.atomic
def saved_view_create(
    *,
    actor: User,
    kind: str,
    name: str,
    query: str = "",
    visibility: str = Visibility.PRIVATE,
    make_default: bool = False,
) -> SavedView:
    if not (actor and actor.is_authenticated and actor.is_active):
        raise PermissionDenied(_("请先登录。"))
    if kind not in ListKind.values:
        raise ValidationError({"kind": _("未知的列表“%(kind)s”。") % {"kind": kind}})
    name = _clean_name(name)
    stored = clean_query(kind, query)
    share = _share_fields(actor, visibility)
    if SavedView.objects.filter(owner=actor, kind=kind).count() >= MAX_VIEWS_PER_LIST:
        raise ValidationError({"name": _("每个列表最多保存 %(n)s 个视图。") % {"n": MAX_VIEWS_PER_LIST}})
    _unique_name(actor, kind, name)
    try:
        with transaction.atomic():
            view = SavedView.objects.create(owner=actor, kind=kind, name=name, query=stored, **share)
    except IntegrityError as exc:  # the same name saved twice at once
        raise ValidationError({"name": _("您已有名为“%(name)s”的视图。") % {"name": name}}) from exc
    if make_default:
        saved_view_set_default(actor=actor, kind=kind, view=view)
    return view


@transaction.atomic
def saved_view_update(
    *,
    actor: User,
    view: SavedView,
    name: str | None = None,
    query: str | None = None,
    visibility: str | None = None,
) -> SavedView:
    _own(actor, view)
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    if name is not None:
        view.name = _clean_name(name)
        _unique_name(actor, view.kind, view.name, exclude=view.pk)
    if query is not None:
        view.query = clean_query(view.kind, query)
    if visibility is not None:
        share = _share_fields(actor, visibility)
        view.visibility, view.team_id = share["visibility"], share["team_id"]
    view.save()
    return view


@transaction.atomic
def saved_view_delete(*, actor: User, view: SavedView) -> None:
    _own(actor, view)
    SavedView.objects.filter(pk=view.pk).delete()


@transaction.atomic
def saved_view_set_default(*, actor: User, kind: str, view: SavedView | None) -> None:
    """Make ``view`` the list's default for ``actor`` (``None``: open the list unfiltered)."""
    if kind not in ListKind.values:
        raise ValidationError({"kind": _("未知的列表“%(kind)s”。") % {"kind": kind}})
    if view is None:
        DefaultView.objects.filter(user=actor, kind=kind).delete()
        return
    if view.kind != kind or not saved_view_list(user=actor, kind=kind).filter(pk=view.pk).exists():
        raise ValidationError({"view": _("该视图不属于这个列表或您无权使用。")})
    DefaultView.objects.update_or_create(user=actor, kind=kind, defaults={"view": view})

"""``/api/v1/saved-views/``: a user's saved list views (own and shared with their team).

Anyone signed in keeps views; only the owner changes or deletes one (a shared view is read-only for the rest
of the team: 403); a private view of someone else is not found (404). ``is_default`` is the caller's own
choice and may be set on any view they can read.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.urls import path
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet, deny_unless
from needpool.savedviews.middleware import forget_defaults, view_address
from needpool.savedviews.models import NAME_MAX_LENGTH, QUERY_MAX_LENGTH, ListKind, SavedView, Visibility
from needpool.savedviews.queries import list_url
from needpool.savedviews.selectors import saved_view_list
from needpool.savedviews.services import (
    saved_view_create,
    saved_view_delete,
    saved_view_set_default,
    saved_view_update,
)


class SavedViewSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    is_own = serializers.SerializerMethodField(help_text=gettext_lazy("是否为调用者自己的视图（共享给您的视图只读）"))
    is_default = serializers.BooleanField(
        required=False, help_text=gettext_lazy("是否为调用者在该列表的默认视图（可设置任何可见的视图）")
    )
    url = serializers.SerializerMethodField(help_text=gettext_lazy("应用该视图的列表地址"))
    name = serializers.CharField(max_length=NAME_MAX_LENGTH + 40)
    query = serializers.CharField(
        max_length=QUERY_MAX_LENGTH + 200,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("列表的筛选与排序（查询字符串）"),
    )
    kind = serializers.ChoiceField(choices=ListKind.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    class Meta:
        model = SavedView
        fields = ["id", "kind", "name", "query", "visibility", "owner", "is_own", "is_default", "url", "updated_at"]
        read_only_fields = ["id", "owner", "updated_at"]

    def get_is_own(self, view: SavedView) -> bool:
        request = self.context.get("request")
        return bool(request and view.owner_id == request.user.pk)

    def get_url(self, view: SavedView) -> str:
        return view_address(list_url(view.kind), view.query, view.pk)


class SavedViewFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ListKind.choices, label=gettext_lazy("列表"))

    class Meta:
        model = SavedView
        fields: list[str] = []


@extend_schema(tags=["saved-views"])
class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    SelectorViewSet,
):
    model = SavedView
    serializer_class = SavedViewSerializer
    filterset_class = SavedViewFilter

    def select_list(self, user: Any) -> Any:
        return saved_view_list(user=user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = acting_user(request.user)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        view = saved_view_create(
            actor=actor,
            kind=data["kind"],
            name=data["name"],
            query=data.get("query", ""),
            visibility=data.get("visibility", Visibility.PRIVATE),
            make_default=bool(data.get("is_default")),
        )
        forget_defaults(request)
        return self.respond_with(view, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        actor = acting_user(request.user)
        view = self.get_object()
        serializer = self.get_serializer(view, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "kind" in data and data["kind"] != view.kind:
            raise serializers.ValidationError({"kind": [gettext_lazy("视图所属的列表不能更改。")]})
        changes = {key: data[key] for key in ("name", "query", "visibility") if key in data}
        if changes:
            deny_unless(
                view.owner_id == actor.pk, str(gettext_lazy("共享给您的视图是只读的：只有创建者可以修改或删除。"))
            )
            saved_view_update(actor=actor, view=view, **changes)
        if data.get("is_default"):
            saved_view_set_default(actor=actor, kind=view.kind, view=view)
        elif "is_default" in data and view.is_default:
            saved_view_set_default(actor=actor, kind=view.kind, view=None)
        forget_defaults(request)
        return self.respond_with(view)

    def perform_destroy(self, instance: SavedView) -> None:
        actor = acting_user(self.request.user)
        deny_unless(
            instance.owner_id == actor.pk, str(gettext_lazy("共享给您的视图是只读的：只有创建者可以修改或删除。"))
        )
        saved_view_delete(actor=actor, view=instance)
        forget_defaults(self.request)


_list = SavedViewViewSet.as_view({"get": "list", "post": "create"})
_one = SavedViewViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"})
urlpatterns = [
    path("saved-views/", _list, name="saved-view-list"),
    path("saved-views/<id:pk>/", _one, name="saved-view-detail"),
]

"""API helpers: JSON errors with per-field messages, the permission and scoping helpers, and the one base class
every app's API viewsets build on (``SelectorViewSet`` with the service mixins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from needpool.core.messages import api_detail
from needpool.core.validation import IdConverter, parse_id

StrOrPromise = str | Promise


def deny_unless(allowed: bool, message: str | None = None) -> None:
    """403 with a message in the user's language unless ``allowed``."""
    if not allowed:
        raise exceptions.PermissionDenied(message or _("您没有执行此操作的权限。"))


def request_user(serializer: serializers.BaseSerializer[Any]) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def scoped(serializer: serializers.BaseSerializer[Any], selector: Callable[..., Any], model: type[Model]) -> Any:
    """``selector(user=…)`` for the caller; nothing for an anonymous one (e.g. while the schema is built)."""
    user = request_user(serializer)
    if not (user is not None and user.is_authenticated):
        return model._default_manager.none()
    return selector(user=user)


def validation_error_detail(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": [str(m) for m in error.messages]}


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 404 (``handler404``): under /api/ the JSON body every API error has, elsewhere the page."""
    from needpool.core.errors import page_not_found

    return page_not_found(request, exception)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = api_detail(response.data, _serializer_fields(context.get("view")), _request_data(context))
    return response


def _serializer_fields(view: Any) -> Any:
    """The fields of the view's serializer, for messages that name the field and its limits."""
    try:
        serializer_class = view.get_serializer_class() if hasattr(view, "get_serializer_class") else None
        serializer_class = serializer_class or getattr(view, "serializer_class", None)
        return serializer_class().fields if serializer_class is not None else None
    except Exception:  # without the fields the messages stay as they were
        return None


def _request_data(context: dict[str, Any]) -> Any:
    request = context.get("request")
    try:
        return getattr(request, "data", None)
    except Exception:  # an unreadable body: messages without the typed value
        return None


# ---------------------------------------------------------------- the one base of every API viewset


class SelectorViewSet(viewsets.GenericViewSet):
    """Base of the API viewsets: reads through a permission-scoped selector, writes through services.

    A subclass names its ``model`` and implements ``select_list(user)`` (the visible rows, already joined
    for the serializer) and, when rows are read one by one, ``select_one(user, pk)`` (404 when the row is
    not visible: not found and forbidden look the same). The queryset is restricted here, once, for every
    action; while the OpenAPI document is generated there is no user and every queryset is empty.

    Writes come from ``ServiceCreateMixin`` / ``ServiceUpdateMixin``, which check the permission, validate
    with the serializer, call the service and answer with the row read back through ``select_one``.
    """

    model: type[Model]
    lookup_value_regex = IdConverter.regex  # the router's ``<pk>``: digits only, like ``<id:pk>`` elsewhere

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if getattr(cls, "model", None) is not None:
            cls.queryset = cls.model._default_manager.none()  # for the router's basename and the schema

    @property
    def building_schema(self) -> bool:
        return bool(getattr(self, "swagger_fake_view", False))

    def select_list(self, user: Any) -> QuerySet[Any]:
        raise NotImplementedError

    def select_one(self, user: Any, pk: Any) -> Any:
        try:
            return self.select_list(user).get(pk=pk)
        except (ObjectDoesNotExist, ValueError, TypeError) as exc:
            raise Http404 from exc

    def get_queryset(self) -> QuerySet[Any]:
        if self.building_schema:
            return self.model._default_manager.none()
        return self.select_list(self.request.user)

    def get_object(self) -> Any:
        pk = parse_id(self.kwargs[self.lookup_url_kwarg or self.lookup_field])
        if pk is None:  # beyond what the database stores: not found, before any query
            raise Http404
        return self.select_one(self.request.user, pk)

    def respond_with(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        """The row as the caller now sees it, read back through the selector."""
        fresh = self.select_one(self.request.user, obj.pk)
        return Response(self.get_serializer(fresh).data, status=code)


class ServiceCreateMixin:
    """``POST``: ``may_create(user)`` (403 with ``create_denied``), the serializer, then ``create_service``."""

    create_denied: StrOrPromise = ""

    def may_create(self, user: Any) -> bool:
        raise NotImplementedError

    def create_service(self, actor: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        deny_unless(self.may_create(request.user), str(self.create_denied) or None)
        serializer = view.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = self.create_service(request.user, serializer.validated_data)
        return view.respond_with(made, status.HTTP_201_CREATED)


class ServiceUpdateMixin:
    """``PUT`` / ``PATCH``: ``may_update(user, obj)`` (403 with ``update_denied``), then ``update_service``."""

    update_denied: StrOrPromise = ""

    def may_update(self, user: Any, obj: Any) -> bool:
        raise NotImplementedError

    def update_service(self, actor: Any, obj: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        partial = kwargs.pop("partial", False)
        obj = view.get_object()
        deny_unless(self.may_update(request.user, obj), str(self.update_denied) or None)
        serializer = view.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.update_service(request.user, obj, serializer.validated_data)
        return view.respond_with(obj)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

"""API helpers: JSON errors with per-field messages, and the permission and scoping helpers every app's API uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)

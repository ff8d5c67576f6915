"""The OpenAPI document says every answer an operation can give, errors included.

drf-spectacular documents the success answer an operation declares; the errors every operation shares come
from the edges (DRF, the exception handler, the middleware) and are added here, once, unless the operation
documents that code itself:

* 400 — the input was refused: per-field messages (``{"field": ["…"], "non_field_errors": ["…"]}``, nested for
  lists and objects) or ``{"detail": "…"}`` for a body that is not JSON;
* 401 / 403 — not signed in / not allowed; 404 — the id in the path is not a row you may see, or a
  list's page is beyond its last;
* 413 — the body is over the size limit (POST, PUT, PATCH); 429 — throttled or locked out;
* 503 — the database is busy, with ``Retry-After``.

Every error body is a JSON object; those with one message carry it in ``detail``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from rest_framework import serializers

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "additionalProperties": True,
}
_REFUSED = {
    "type": "object",
    "description": "字段名 → 错误信息列表（列表与对象字段按下标或键嵌套）；请求体无法解析时为 {detail}。",
    "additionalProperties": True,
}

SHARED_ERRORS: dict[str, tuple[str, Any]] = {
    "400": ("Refused", _("输入有误：按字段给出原因")),
    "401": ("ErrorDetail", _("未登录或令牌无效")),
    "403": ("ErrorDetail", _("没有执行此操作的权限")),
    "429": ("ErrorDetail", _("请求过于频繁，或登录已暂时锁定")),
    "503": ("ErrorDetail", _("数据库繁忙，请按 Retry-After 稍后重试")),
}
PATH_ERRORS: dict[str, tuple[str, Any]] = {"404": ("ErrorDetail", _("不存在或无权查看"))}
LIST_ERRORS: dict[str, tuple[str, Any]] = {"404": ("ErrorDetail", _("页码超出范围"))}
BODY_ERRORS: dict[str, tuple[str, Any]] = {"413": ("ErrorDetail", _("请求内容超过大小上限"))}


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the shared error answers (see the module's docstring)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(SHARED_ERRORS)
        if "{" in self.path:
            errors.update(PATH_ERRORS)
        elif self.method == "GET" and self._is_list_view():
            errors.update(LIST_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(BODY_ERRORS)
        for code, (name, description) in errors.items():
            if code not in responses:
                responses[code] = {
                    "content": {"application/json": {"schema": self._error_component(name)}},
                    "description": str(description),
                }
        return dict(sorted(responses.items()))

    def _error_component(self, name: str) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=_DETAIL if name == "ErrorDetail" else _REFUSED,
        )
        self.registry.register_on_missing(component)
        return component.ref


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as the named enum component ``enum_name``: several ``status`` / ``role`` sets
    live side by side, and one set used by several APIs keeps one name (e.g. the customers API's)."""

    def __init__(self, choices: Any, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        return named_enum(auto_schema, self.target).ref


def named_enum(auto_schema: Any, field: NamedChoiceField) -> ResolvedComponent:
    """The field's choices (blank left out) as the enum component ``field.enum_name``, registered once."""
    values = [value for value in field.choices if value not in ("", None)]
    enum = ResolvedComponent(
        name=field.enum_name,
        type=ResolvedComponent.SCHEMA,
        object=field.enum_name,
        schema={
            "enum": values,
            "type": "string",
            "description": build_choice_description_list([(v, field.choices[v]) for v in values]),
        },
    )
    auto_schema.registry.register_on_missing(enum)
    return enum

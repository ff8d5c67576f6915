"""Concurrent writes: row versions, ETag / If-Match, retrying a transaction the database gave up on, and the
stale edit form (merge what does not overlap, show what does).

Decisions
- A versioned row (requirement, customer, contact) carries ``version``, bumped by every service write of the
  row. A service that takes ``expected_version`` compares it with the locked row inside its transaction and
  raises ``StaleVersion`` when they differ, so two writes that opened the same version give one success and
  one refusal (never a silent overwrite).
- API: ``ETag: W/"<version>"`` on reads and writes; ``If-Match`` on PUT / PATCH / actions is optional (without
  it the request is applied: a PATCH changes only the fields it sends). A mismatch answers 412.
- A transaction refused by the database for a concurrency reason (PostgreSQL 40001 serialization failure,
  40P01 deadlock; SQLite "database is locked") is run again a bounded number of times by
  ``retry_on_conflict``, only when it is the outermost transaction (an inner block cannot be replayed).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

P = ParamSpec("P")
R = TypeVar("R")

RETRY_SQLSTATES = frozenset({"40001", "40P01"})
DEFAULT_ATTEMPTS = 4
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,18})"\s*')
STALE_MESSAGE = gettext_lazy("此记录在您打开后已被他人修改")


class StaleVersion(ValidationError):
    """The row changed since the version the caller read (the page shows the differences, the API answers 412)."""

    def __init__(self, current_version: int, message: str | None = None) -> None:
        super().__init__(message or _("此记录在您打开后已被他人修改，请刷新后再保存。"), code="stale")
        self.current_version = current_version


def check_version(current: int, expected: int | None) -> None:
    """Raise ``StaleVersion`` unless ``expected`` is None (no precondition) or equals the locked row's version."""
    if expected is not None and int(expected) != int(current):
        raise StaleVersion(current)


# ---------------------------------------------------------------- retrying


def is_retryable(exc: BaseException) -> bool:
    """A serialization failure or deadlock (PostgreSQL), or a busy database (SQLite)."""
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in RETRY_SQLSTATES:
            return True
        if "database is locked" in str(candidate) or "database table is locked" in str(candidate):
            return True
    return False


def retry_on_conflict(attempts: int = DEFAULT_ATTEMPTS) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the (atomic) function again when the database refused it for a concurrency reason.

    Put it outside ``@transaction.atomic``. Inside an outer transaction there is nothing to retry: the error
    is raised at once.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            for attempt in range(1, attempts + 1):
                try:
                    return function(*args, **kwargs)
                except DatabaseError as exc:
                    if attempt == attempts or transaction.get_connection().in_atomic_block or not is_retryable(exc):
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

        return run

    return decorate


# ---------------------------------------------------------------- ETag / If-Match


def etag(version: int) -> str:
    return f'W/"{int(version)}"'


def parse_if_match(header: str | None) -> list[int] | None:
    """The versions an ``If-Match`` header accepts; None when absent or ``*`` (any). Unparseable → []."""
    if header is None or not header.strip() or header.strip() == "*":
        return None
    versions: list[int] = []
    for part in header.split(","):
        match = _ETAG.fullmatch(part)
        if match is None:
            return []
        versions.append(int(match.group(1)))
    return versions


def expected_from_if_match(header: str | None, current: int) -> int | None:
    """The version to hand the service: None (no precondition), the current one when it is listed, else the
    first listed (so the service refuses it atomically)."""
    versions = parse_if_match(header)
    if versions is None:
        return None
    if current in versions:
        return current
    return versions[0] if versions else -1


IF_MATCH_HEADER = "If-Match"


class PreconditionFailedSerializer(serializers.Serializer):
    """The body of a 412: the message and the row's current version (its ETag is in the header)."""

    detail = serializers.CharField()
    version = serializers.IntegerField(help_text=gettext_lazy('当前版本；响应头 ETag 为 W/"<版本>"'))


def if_match_parameter() -> OpenApiParameter:
    return OpenApiParameter(
        IF_MATCH_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=False,
        description=gettext_lazy(
            '可选：读取时响应头 ETag 的值（如 W/"3"）。与当前版本不符时返回 412，不做任何修改；'
            "不发送时照常保存（PATCH 只改动所发送的字段，PUT 以所发送的内容为准）。"
        ),
    )


def etag_parameter(codes: list[int]) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=codes,
        description=gettext_lazy('记录的当前版本，如 W/"3"；修改时放在 If-Match 中，防止覆盖他人的修改。'),
    )


def precondition_failed_response() -> OpenApiResponse:
    return OpenApiResponse(
        PreconditionFailedSerializer,
        description=gettext_lazy("If-Match 与当前版本不符：记录在您读取后已被他人修改，未做任何修改。"),
    )


def versioned_schema(serializer: Any) -> Callable[[Any], Any]:
    """OpenAPI of a versioned resource: ETag on read and write answers, If-Match and 412 on PUT / PATCH."""
    write = extend_schema(
        parameters=[if_match_parameter(), etag_parameter([200])],
        responses={200: serializer, 412: precondition_failed_response()},
    )
    return extend_schema_view(
        retrieve=extend_schema(parameters=[etag_parameter([200])]), update=write, partial_update=write
    )


class VersionedAPIMixin:
    """API viewset part: ``If-Match`` → the service's ``expected_version``; ``StaleVersion`` → 412 with ETag."""

    def expected_version(self, current: int) -> int | None:
        view: Any = self
        request: Request = view.request
        return expected_from_if_match(request.headers.get(IF_MATCH_HEADER), current)

    def with_etag(self, response: Response, version: int) -> Response:
        response["ETag"] = etag(version)
        return response

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        obj = view.get_object()
        return self.with_etag(Response(view.get_serializer(obj).data), obj.version)

    def respond_with(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        view: Any = self
        fresh = view.select_one(view.request.user, obj.pk)
        return self.with_etag(Response(view.get_serializer(fresh).data, status=code), fresh.version)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StaleVersion):
            body = {
                "detail": _("此记录在您读取后已被他人修改（If-Match 与当前版本不符），未做任何修改。"),
                "version": exc.current_version,
            }
            response = Response(body, status=status.HTTP_412_PRECONDITION_FAILED)
            return self.with_etag(response, exc.current_version)
        return super().handle_exception(exc)  # type: ignore[misc]


# ---------------------------------------------------------------- the stale edit form


class VersionedForm(forms.Form):
    """An edit form that carries the row version and the values it was opened with (hidden fields)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    opened = forms.CharField(widget=forms.HiddenInput, required=False)

    SYSTEM_FIELDS = ("version", "opened")

    def edit_fields(self) -> list[str]:
        return [name for name in self.fields if name not in self.SYSTEM_FIELDS]


def form_values(form: forms.Form, names: Iterable[str], initial: Mapping[str, Any]) -> dict[str, Any]:
    """Initial values as a form posts them (pks, ISO dates, lists for multiple choices), JSON-safe."""
    values: dict[str, Any] = {}
    for name in names:
        value = form.fields[name].prepare_value(initial.get(name))
        if isinstance(value, list | tuple | set):
            value = [str(getattr(v, "pk", v)) for v in value]
        elif value is not None:
            value = str(getattr(value, "pk", value))
        values[name] = value
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def opened_values(data: Any) -> dict[str, Any] | None:
    """The values a posted form was opened with (its hidden ``opened`` field, form values), or None."""
    raw = data.get("opened") if data is not None else None
    if not raw:
        return None
    try:
        loaded = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def python_values(form: forms.Form, values: dict[str, Any]) -> dict[str, Any]:
    """Form values turned back into what the fields clean them to (the form's ``initial`` for comparisons)."""
    result: dict[str, Any] = {}
    for name, value in values.items():
        if name not in form.fields:
            continue
        try:
            result[name] = form.fields[name].to_python(value)
        except ValidationError:
            result[name] = value
    return result


@dataclass(frozen=True)
class Difference:
    name: str
    label: str
    theirs: str
    mine: str


def _shown(form: forms.Form, name: str, value: Any) -> str:
    field = form.fields[name]
    choices = getattr(field, "choices", None)
    if choices is not None:
        wanted = {str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")}
        labels = [str(label) for key, label in choices if str(getattr(key, "value", key)) in wanted]
        return "、".join(labels) or "—"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)


def _posted(form: forms.Form, name: str) -> Any:
    field = form.fields[name]
    return form._widget_data_value(field.widget, form.add_prefix(name))  # type: ignore[attr-defined]


def _conflicts(form: VersionedForm, opened: dict[str, Any], current: dict[str, Any]) -> list[Difference]:
    """Fields this user changed (posted vs opened) that someone else changed since (current vs opened) to
    another value. ``form`` is bound, valid and built with ``initial`` = the opened values."""
    now = python_values(form, current)
    differences = []
    for name in form.changed_data:
        if name not in form.edit_fields():
            continue
        one, posted = form.fields[name], _posted(form, name)
        if one.has_changed(opened.get(name), current.get(name)) and one.has_changed(now.get(name), posted):
            differences.append(
                Difference(
                    name=name,
                    label=str(one.label or name),
                    theirs=_shown(form, name, current.get(name)),
                    mine=_shown(form, name, posted),
                )
            )
    return differences


def resolved_post(data: Any, current: dict[str, Any], names: Iterable[str]) -> Any:
    """A conflict page's post with the user's choices applied: "keep theirs" for a field (``pick_<name>``) puts the
    current value back (so it is not a change of this user's); ``resolve=theirs`` does so for every conflicting
    field, ``resolve=mine`` keeps every posted value."""
    resolve = data.get("resolve", "")
    picks = [n for n in names if data.get(f"pick_{n}") == "theirs" or (resolve == "theirs" and f"pick_{n}" in data)]
    if resolve == "mine" or not picks:
        return data
    copy = data.copy()
    for name in picks:
        value = current.get(name)
        if isinstance(value, list):
            copy.setlist(name, value)
        else:
            copy[name] = "" if value is None else value
    return copy


def conflict_post(data: Any, current: dict[str, Any], version: int) -> Any:
    """The posted values re-bound for the conflict page: the current row becomes the base of the next save."""
    copy = data.copy()
    copy["version"] = str(version)
    copy["opened"] = json.dumps(current, ensure_ascii=False)
    for key in [k for k in copy if k.startswith("pick_") or k == "resolve"]:
        del copy[key]
    return copy


@dataclass
class VersionedEdit:
    """The outcome of an edit page request: the form to render, the conflicts to show, or the fields to save
    (``ready``) with the version the service must still find (None: no precondition, an old client)."""

    form: VersionedForm
    conflicts: list[Difference] = field(default_factory=list)
    ready: bool = False
    fields: list[str] = field(default_factory=list)
    expected_version: int | None = None

    def changes(self) -> dict[str, Any]:
        return {name: self.form.cleaned_data[name] for name in self.fields}


def versioned_edit(data: Any, *, form_class: type[VersionedForm], instance: Any) -> VersionedEdit:
    """The stale-form rule of every edit page: ``form_class`` is the page's model form, ``instance`` the row as
    it is now (its ``version`` is the version now).

    Same version (or none posted): save the fields this user changed. Older version: when the fields this user
    changed do not overlap those changed since (or were changed to the same value), save only this user's
    fields; otherwise nothing is saved and the differences come back for the page to show.
    """
    version = instance.version

    def make_form(posted: Any, initial: dict[str, Any] | None) -> VersionedForm:
        if initial is None:
            return form_class(posted, instance=instance)  # type: ignore[call-arg]
        return form_class(posted, instance=instance, initial=initial)  # type: ignore[call-arg]

    blank = make_form(None, None)
    names = blank.edit_fields()
    current = form_values(blank, names, blank.initial)
    if data is None:
        blank.initial.update(version=version, opened=json.dumps(current, ensure_ascii=False))
        return VersionedEdit(form=blank)
    raw_opened = opened_values(data) or current
    opened = python_values(blank, raw_opened)
    form = make_form(resolved_post(data, current, names), opened)
    if not form.is_valid():
        return VersionedEdit(form=form)
    posted_version = form.cleaned_data.get("version")
    changed = [n for n in form.changed_data if n in names]
    if posted_version is None or posted_version == version:
        return VersionedEdit(form=form, ready=True, fields=changed, expected_version=posted_version)
    conflicts = _conflicts(form, opened, current)
    if not conflicts:
        return VersionedEdit(form=form, ready=True, fields=changed, expected_version=version)
    again = make_form(conflict_post(data, current, version), python_values(blank, current))
    return VersionedEdit(form=again, conflicts=conflicts)

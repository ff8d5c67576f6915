"""What a saved view may store: a list's query string with only that list's filter and sort keys, within a size."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext as _

from needpool.customers.filters import CustomerFilter
from needpool.customers.models import Customer
from needpool.requirements.choices import Channel
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Requirement
from needpool.savedviews.models import QUERY_MAX_LENGTH, ListKind

#: parameters of a list's address that are not part of a view: the page, and the view marker itself
NOT_STORED = ("page", "view")
VALUE_MAX_LENGTH = 200
#: the address of each list, by URL name
LIST_URL_NAMES = {
    ListKind.REQUIREMENTS: "requirements:list",
    ListKind.FEEDBACK: "requirements:feedback_inbox",
    ListKind.CUSTOMERS: "customers:list",
}


def list_url(kind: str) -> str:
    return reverse(LIST_URL_NAMES[ListKind(kind)])


def allowed_keys(kind: str) -> frozenset[str]:
    if kind == ListKind.REQUIREMENTS:
        return frozenset(RequirementFilter.base_filters) - {"ids"}
    if kind == ListKind.CUSTOMERS:
        return frozenset(CustomerFilter.base_filters)
    return frozenset({"channel"})


def _requirement_errors(data: QueryDict) -> list[str]:
    filterset = RequirementFilter(data, queryset=Requirement.objects.none())
    return _form_errors(filterset)


def _customer_errors(data: QueryDict) -> list[str]:
    return _form_errors(CustomerFilter(data, queryset=Customer.objects.none()))


def _feedback_errors(data: QueryDict) -> list[str]:
    channel = data.get("channel", "")
    return [] if channel in ("", *Channel.values) else [_("渠道“%(value)s”不存在。") % {"value": channel}]


def _form_errors(filterset: RequirementFilter | CustomerFilter) -> list[str]:
    if filterset.is_valid():
        return []
    fields = filterset.form.fields
    return [
        f"{fields[name].label if name in fields else name}：{message}"
        for name, messages in filterset.form.errors.items()
        for message in messages
    ]


_CHECKS: dict[str, Callable[[QueryDict], list[str]]] = {
    ListKind.REQUIREMENTS: _requirement_errors,
    ListKind.CUSTOMERS: _customer_errors,
    ListKind.FEEDBACK: _feedback_errors,
}


def clean_query(kind: str, query: str) -> str:
    """The query string to store (``page`` and ``view`` dropped, empty values dropped), or ``ValidationError``
    naming what is wrong: an unknown key, a value the list's filters refuse, a string over the size limit."""
    if kind not in ListKind.values:
        raise ValidationError({"kind": _("未知的列表“%(kind)s”。") % {"kind": kind}})
    text = (query or "").strip().lstrip("?")
    if len(text) > QUERY_MAX_LENGTH:
        raise ValidationError({"query": _("筛选条件太长：最多 %(n)s 个字符。") % {"n": QUERY_MAX_LENGTH}})
    data = QueryDict(text, mutable=True)
    for key in NOT_STORED:
        data.pop(key, None)
    allowed = allowed_keys(kind)
    unknown = sorted(key for key in data if key not in allowed)
    if unknown:
        raise ValidationError(
            {"query": _("不支持的筛选条件：%(keys)s。") % {"keys": "、".join(k[:40] for k in unknown[:5])}}
        )
    cleaned = QueryDict(mutable=True)
    for key in data:
        values = [v for v in data.getlist(key) if v.strip()]
        if len(values) > 1:
            raise ValidationError({"query": _("筛选条件“%(key)s”只能有一个值。") % {"key": key}})
        if values and len(values[0]) > VALUE_MAX_LENGTH:
            raise ValidationError({"query": _("筛选条件“%(key)s”的值太长。") % {"key": key}})
        if values:
            cleaned[key] = values[0]
    errors = _CHECKS[kind](cleaned)
    if errors:
        raise ValidationError({"query": errors})
    return cleaned.urlencode()

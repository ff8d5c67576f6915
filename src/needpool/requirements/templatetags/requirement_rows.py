"""The rows of the requirement list (``{% requirement_rows rows selectable %}``), written in Python.

The list page shows 25 requirements a page, each with its tags, customers, classification, status, owner, dates
and SLA: as a template loop that was ~12 ms of a ~55 ms page (half a millisecond a row, most of it resolving
variables and filters). The markup is the loop's as it was, character for character: property-tested against it
(``tests/requirements/test_requirement_rows.py``, which keeps the loop as its reference).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

from needpool.core.markup import shown as _shown

register = template.Library()

_MARKER = 4_611_686_018_427_387_903  # an id in a reversed address, replaced by each row's
_URGENCY_BADGE = {"urgent": "bg-red-lt", "important": "bg-orange-lt"}


def _or_dash(value: Any) -> str:
    """``{{ value|default:"—" }}``."""
    return _shown(value) if value else "—"


def _row(r: Any, selectable: bool, detail_url: tuple[str, str], texts: dict[str, str]) -> str:
    code = _shown(r.code)
    pk = _shown(r.pk)
    parts = [f'\n        <tr class="requirement-row" data-code="{code}" data-id="{pk}">\n          ']
    if selectable:
        label = gettext("选择 %(code)s") % {"code": code}
        parts.append(
            f'<td class="col-sel"><input type="checkbox" class="form-check-input m-0 merge-select" name="ids" '
            f'value="{pk}" data-version="{_shown(r.version)}" aria-label="{label}"></td>'
        )
    title = _shown(r.title)
    tags = "".join(f'<span class="badge bg-secondary-lt me-1 np-tag">{_shown(tag)}</span>' for tag in r.tags.all())
    customers = list(r.customers)
    names = "、".join(_shown(c.name) for c in customers)
    shown_names = names if customers else "—"
    count = len(customers)
    counted = ngettext("%(n)s 个客户", "%(n)s 个客户", count) % {"n": _shown(count)}
    parts.append(
        f'\n          <td class="col-code text-nowrap">{code}</td>'
        f'\n          <td class="col-title requirement-title"><a href="{detail_url[0]}{pk}{detail_url[1]}" '
        f'class="np-clamp" title="{title}">{title}</a>\n            {tags}</td>'
        f'\n          <td class="col-customers" data-label="{texts["customers"]}">'
        f'\n            <span class="np-truncate np-customer-names" title="{names}">{shown_names}</span>'
        f'\n            <span class="np-customer-count">{counted}</span></td>'
        f'\n          <td class="col-type text-nowrap">{_or_dash(r.type)}</td>'
    )
    urgency = r.urgency
    if urgency:
        badge = _URGENCY_BADGE.get(urgency.key, "bg-secondary-lt")
        parts.append(
            f'\n          <td class="col-urgency text-nowrap"><span class="badge {badge}">{_shown(urgency)}</span></td>'
        )
    else:
        parts.append('\n          <td class="col-urgency text-nowrap">—</td>')
    parts.append(
        f'\n          <td class="col-status text-nowrap"><span class="badge bg-blue-lt">{_shown(r.status)}</span></td>'
    )
    priority = (
        f'<span class="badge bg-purple-lt">{_shown(r.priority)}</span>'
        if r.priority
        else '<span class="np-phone-hide">—</span>'
    )
    owner = r.owner
    expected = date_filter(r.expected_date, "Y-m-d")
    sla = (
        f'<span class="badge bg-red text-red-fg sla-breached">{texts["sla"]}</span>'
        if r.sla_breached
        else '<span class="text-secondary np-sla-ok">—</span>'
    )
    parts.append(
        f'\n          <td class="col-priority text-nowrap">{priority}</td>'
        f'\n          <td class="col-owner"><span class="np-truncate" title="{_shown(owner) if owner else ""}">'
        f"{_or_dash(owner)}</span></td>"
        f'\n          <td class="col-expected text-nowrap" data-label="{texts["expected"]}">{_or_dash(expected)}</td>'
        f'\n          <td class="col-sla text-nowrap">{sla}</td>\n        </tr>\n      '
    )
    return "".join(parts)


@register.simple_tag
def requirement_rows(rows: Iterable[Any], selectable: bool = False) -> SafeString:
    """The ``<tr>`` of each requirement (``rows`` carry ``customers``, as the list view gives them); a selection
    box in the first cell when ``selectable`` (merge, review, export, bulk edit)."""
    before, _marker, after = reverse("requirements:detail", args=[_MARKER]).rpartition(str(_MARKER))
    detail_url = (before, after)
    texts = {
        "customers": _shown(gettext("客户")),
        "expected": _shown(gettext("期望")),
        "sla": _shown(gettext("SLA 超时")),
    }
    html = "".join(_row(r, bool(selectable), detail_url, texts) for r in rows)
    return mark_safe(html)  # noqa: S308 - every value above is escaped as the template escaped it

"""Which function builds each kind of report, so an export (a background job) can build any of them again.

Each builder takes ``(user, query)`` — the signed-in user and the report page's query parameters as plain
strings — and returns a ``document.Report`` as that user may see it: ``ValidationError`` for parameters it
cannot read, ``Http404`` for a report the user may not see. Builders are named by dotted path and imported
only when used, so a kind whose module is missing is refused with a message instead of breaking the app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from needpool.reports.document import Report

Builder = Callable[[Any, dict[str, str]], Report]

BUILDERS: dict[str, str | Builder] = {
    "dashboard": "needpool.reports.dashboard_views.build_from_query",
    "monthly": "needpool.reports.monthly.build_from_query",
    "customer": "needpool.reports.customer_report.build_from_query",
    "project": "needpool.reports.project_report.build_from_query",
}

LABELS: dict[str, Any] = {
    "dashboard": gettext_lazy("仪表盘"),
    "monthly": gettext_lazy("月度复盘"),
    "customer": gettext_lazy("客户需求报告"),
    "project": gettext_lazy("分析项目报告"),
}


def kinds() -> list[str]:
    return list(BUILDERS)


def label(kind: str) -> str:
    return str(LABELS.get(kind, kind))


def check_kind(kind: str) -> str:
    if kind not in BUILDERS:
        raise ValidationError(_("未知的报表类型“%(kind)s”。") % {"kind": kind[:40]}, code="kind")
    return kind


def builder(kind: str) -> Builder:
    target = BUILDERS[check_kind(kind)]
    if callable(target):
        return target
    try:
        found: Builder = import_string(target)
    except ImportError as exc:
        raise ValidationError(_("“%(name)s”暂不能导出。") % {"name": label(kind)}, code="unavailable") from exc
    return found


def build(kind: str, user: Any, query: dict[str, str]) -> Report:
    """The report of ``kind`` as ``user`` sees it, for the page's ``query``."""
    return builder(kind)(user, dict(query))

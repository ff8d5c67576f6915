"""The four sheet layouts users already keep in Excel (PRODUCT.md), with their headers in Chinese and English.

The first header of each column is the one the templates use and the one written on export; the
English header is written when the user works in English; every alias is recognised on import.
Headers are compared without spaces, case or full-width differences, and a parenthesised hint
("紧急程度(1-5分,5最急)") may be present or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from needpool.intake.transfer.imports.values import normalize


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    kind: str = "text"  # text, date, datetime, whole, list: how export writes it and how import reads it

    @property
    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, *self.aliases)

    def header(self, language: str | None = None) -> str:
        return self.en if (language or get_language() or "").startswith("en") else self.zh


@dataclass(frozen=True)
class Layout:
    key: str
    name: Promise
    target: Promise  # what one row is
    columns: tuple[Column, ...]
    code_column: str
    required: tuple[str, ...]
    needs: tuple[str, ...]  # capabilities of which the importing user needs at least one

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def headers(self, language: str | None = None) -> list[str]:
        return [column.header(language) for column in self.columns]


INTAKE = Layout(
    key="intake",
    name=_("客户需求信息表"),
    target=_("需求"),
    code_column="code",
    required=("description",),
    needs=("requirement.create", "requirement.edit_any"),
    columns=(
        Column("code", "需求ID", "Requirement ID", ("需求 ID", "ID", "需求编号", "Code", "Requirement code")),
        Column("customer", "客户名称", "Customer", ("客户", "Customer name", "Client")),
        Column("contact", "联系人", "Contact", ("Contact person",)),
        Column("channel", "需求来源", "Source", ("来源", "来源渠道", "渠道", "Channel")),
        Column("type", "需求类型", "Type", ("类型", "Requirement type")),
        Column("description", "描述内容", "Description", ("描述", "需求描述", "需求内容", "内容")),
        Column("expected_date", "期望时间", "Expected date", ("期望完成时间", "期望日期", "Expected by"), "date"),
        Column("tags", "初步标签", "Tags", ("标签", "Initial tags"), "list"),
        Column("submitted_at", "提交时间", "Submitted at", ("提交日期", "Submitted"), "datetime"),
    ),
)

PRIORITY = Layout(
    key="priority",
    name=_("需求优先级评估表"),
    target=_("需求"),
    code_column="code",
    required=("code",),
    needs=("analyse",),
    columns=(
        Column("code", "需求ID", "Requirement ID", ("需求 ID", "ID", "需求编号", "Code", "Requirement code")),
        Column("description", "需求描述", "Description", ("描述", "描述内容", "需求内容")),
        Column(
            "urgency_score",
            "紧急程度(1-5分,5最急)",
            "Urgency (1-5)",
            ("紧急程度", "紧急度", "紧急性", "Urgency"),
            "whole",
        ),
        Column(
            "importance_score",
            "重要性(1-5分,5最重要)",
            "Importance (1-5)",
            ("重要性", "重要程度", "重要度", "Importance"),
            "whole",
        ),
        Column(
            "resource_cost",
            "资源成本(1-5分,5最高)",
            "Resource cost (1-5)",
            ("资源成本", "资源消耗", "资源投入", "Resource cost", "Cost"),
            "whole",
        ),
        Column("priority", "优先级", "Priority", ("需求优先级", "评估优先级")),
        Column("override_reason", "调整理由", "Override reason", ("优先级调整理由", "调整原因", "Reason")),
        Column("pain_points", "痛点", "Pain points", ("客户痛点", "痛点描述")),
        Column("value_statement", "价值描述", "Value", ("价值", "需求价值", "Value statement")),
    ),
)

MANAGEMENT = Layout(
    key="management",
    name=_("客户需求管理表"),
    target=_("需求"),
    code_column="code",
    required=("description",),
    needs=("requirement.create", "requirement.edit_any"),
    columns=(
        Column("code", "需求编号", "Requirement No.", ("需求ID", "编号", "Requirement ID", "No.", "Code")),
        Column("channel", "需求来源", "Source", ("来源", "来源渠道", "渠道", "Channel")),
        Column("requester", "提出方信息", "Requester", ("提出方", "需求提出方", "提出人", "Requested by")),
        Column("type", "需求类型", "Type", ("类型", "Requirement type")),
        Column("description", "需求描述", "Description", ("描述", "描述内容", "需求内容")),
        Column("urgency", "紧急程度", "Urgency", ("紧急性", "紧急度")),
        Column("priority", "优先级", "Priority", ("需求优先级",)),
        Column("submitted_at", "提出时间", "Submitted at", ("提交时间", "提出日期", "Submitted"), "datetime"),
        Column(
            "expected_date",
            "期望完成时间",
            "Expected date",
            ("期望时间", "计划完成时间", "期望日期", "Expected by"),
            "date",
        ),
        Column("owner", "负责人", "Owner", ("需求负责人", "责任人", "Assignee")),
        Column("status", "当前状态", "Status", ("状态", "需求状态")),
    ),
)

RELATIONSHIP = Layout(
    key="relationship",
    name=_("客户需求与关系管理记录表"),
    target=_("客户"),
    code_column="code",
    required=("name",),
    needs=("customer.write",),
    columns=(
        Column("code", "客户编号", "Customer code", ("客户ID", "客户代码", "Customer ID", "Customer No.")),
        Column("name", "客户名称", "Customer", ("客户", "Customer name", "Company")),
        Column("industry", "所属行业", "Industry", ("行业",)),
        Column("contact", "对接人", "Contact", ("联系人", "Contact person")),
        Column("title", "职位", "Job title", ("职务", "Title", "Position")),
        Column("contact_info", "联系方式", "Contact details", ("联系电话", "电话", "邮箱", "Phone", "Email")),
        Column(
            "occurred_at",
            "最近接触时间",
            "Last contact",
            ("接触时间", "最近联系时间", "Last contacted", "Contact time"),
            "datetime",
        ),
        Column("channel", "接触方式", "Contact method", ("沟通方式", "联系方式类型", "Method")),
        Column("key_content", "沟通要点", "Key points", ("沟通内容", "沟通记录", "Notes of contact")),
        Column("explicit", "显性需求", "Explicit needs", ("显性", "Explicit")),
        Column("implicit", "隐性需求", "Implicit needs", ("隐性", "Implicit")),
        Column("need_priority", "需求优先级", "Need priority", ("优先级", "Priority")),
        Column("follow_status", "当前状态", "Status", ("状态", "跟进状态", "Follow-up status")),
        Column("owner", "负责人", "Owner", ("客户负责人", "Account owner")),
        Column("next_plan", "下次跟进计划", "Next follow-up", ("跟进计划", "下次跟进", "Next step")),
        Column("notes", "备注", "Remarks", ("说明", "Notes")),
    ),
)

LAYOUTS: dict[str, Layout] = {layout.key: layout for layout in (INTAKE, PRIORITY, MANAGEMENT, RELATIONSHIP)}


# ---------------------------------------------------------------- headers

_HINT = re.compile(r"[(（\[【].*?[)）\]】]")


def header_key(text: Any) -> str:
    """A header cell as compared: no spaces, case, width, trailing colon or required-marker star."""
    value = normalize(str(text or "")).lower()
    return re.sub(r"[\s*:：_]+", "", value)


def header_keys(text: Any) -> tuple[str, ...]:
    """The header as written, and without its parenthesised hint."""
    full = header_key(text)
    bare = header_key(_HINT.sub("", normalize(str(text or ""))))
    return (full, bare) if bare and bare != full else (full,)


def _index(layout: Layout) -> dict[str, str]:
    found: dict[str, str] = {}
    for column in layout.columns:
        for name in column.names:
            for key in header_keys(name):
                found.setdefault(key, column.key)
    return found


_INDEXES = {key: _index(layout) for key, layout in LAYOUTS.items()}


def match_header(layout: Layout, text: Any) -> tuple[str, bool] | None:
    """(column key, exact) a header cell names in ``layout``; ``exact`` is False when only the hint-less
    form matched (so "紧急程度(1-5分,5最急)" counts more for the priority sheet than for the management one)."""
    index = _INDEXES[layout.key]
    for position, key in enumerate(header_keys(text)):
        if key in index:
            return index[key], position == 0
    return None


def match_headers(layout: Layout, cells: Iterable[Any]) -> tuple[dict[int, str], float]:
    """(position → column key, score) for one header row; a column named twice keeps its first cell."""
    mapping: dict[int, str] = {}
    score = 0.0
    for position, cell in enumerate(cells):
        found = match_header(layout, cell)
        if found is not None and found[0] not in mapping.values():
            mapping[position] = found[0]
            score += 1.0 if found[1] else 0.9
    return mapping, score

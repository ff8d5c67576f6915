"""Helpers for the import / export tests: sheets written with openpyxl or as CSV, and a run helper."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

from needpool.intake.transfer.imports.handlers import ImportOptions
from needpool.intake.transfer.services import ImportResult, run_import

INTAKE_HEADERS = [
    "需求ID",
    "客户名称",
    "联系人",
    "需求来源",
    "需求类型",
    "描述内容",
    "期望时间",
    "初步标签",
    "提交时间",
]
PRIORITY_HEADERS = ["需求ID", "需求描述", "紧急程度(1-5分,5最急)", "重要性(1-5分,5最重要)"]
MANAGEMENT_HEADERS = [
    "需求编号",
    "需求来源",
    "提出方信息",
    "需求类型",
    "需求描述",
    "紧急程度",
    "优先级",
    "提出时间",
    "期望完成时间",
    "负责人",
    "当前状态",
]
RELATIONSHIP_HEADERS = [
    "客户编号",
    "客户名称",
    "所属行业",
    "对接人",
    "职位",
    "联系方式",
    "最近接触时间",
    "接触方式",
    "沟通要点",
    "显性需求",
    "隐性需求",
    "需求优先级",
    "当前状态",
    "负责人",
    "下次跟进计划",
    "备注",
]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Tests marked slow (the 100,000-row sheet) run only with NEEDPOOL_RUN_SLOW=1 or ``-m slow``."""
    if os.environ.get("NEEDPOOL_RUN_SLOW") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: set NEEDPOOL_RUN_SLOW=1 or run with -m slow")
    for item in items:
        if os.path.join("intake", "transfer") in str(item.fspath) and item.get_closest_marker("slow"):
            item.add_marker(skip)


def write_xlsx(
    path: Path,
    rows: Iterable[Sequence[Any]],
    *,
    merge: Iterable[str] = (),
    sheets_before: Iterable[str] = (),
) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for index, title in enumerate(sheets_before):
        sheet = first if index == 0 else workbook.create_sheet(title)
        sheet.title = title
        sheet.append(["说明：本文件由系统导出"])
    sheet = workbook.create_sheet("数据") if list(sheets_before) else first
    for row in rows:
        sheet.append(list(row))
    for cells in merge:
        sheet.merge_cells(cells)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Iterable[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    with open(path, "w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


@pytest.fixture
def sheet(tmp_path: Path) -> Callable[..., Path]:
    """Write rows to a sheet file in the test's directory: sheet(rows, name="x.xlsx", merge=[...])."""
    counter = {"n": 0}

    def make(rows: Iterable[Sequence[Any]], name: str = "", **options: Any) -> Path:
        counter["n"] += 1
        filename = name or f"sheet{counter['n']}.xlsx"
        path = tmp_path / filename
        if filename.endswith((".csv", ".tsv", ".txt")):
            return write_csv(path, rows, **options)
        return write_xlsx(path, rows, **options)

    return make


@pytest.fixture
def run_sheet() -> Callable[..., ImportResult]:
    def run(
        user: Any,
        path: Path,
        *,
        dry_run: bool = False,
        layout: str = "",
        mapping: Any = None,
        mapping_confirmed: bool = True,
        **options: Any,
    ) -> ImportResult:
        """Run a sheet; by default without the mapping step (unknown values are errors, as after a confirmed
        mapping that leaves them unmapped); ``mapping_confirmed=False`` runs the mapping step."""
        return run_import(
            actor=user,
            path=path,
            layout=layout,
            options=ImportOptions(**options),
            dry_run=dry_run,
            mapping=mapping,
            mapping_confirmed=mapping_confirmed,
        )

    return run


def errors_of(result: ImportResult) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["value"]) for e in result.errors]

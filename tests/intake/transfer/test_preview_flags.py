"""What the preview points out so nobody is surprised later: new requirements that are not standardised and
values read by interpretation."""

from __future__ import annotations

import datetime as dt

import pytest

from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports.handlers import CellError, RowOutcome
from needpool.intake.transfer.imports.values import parse_date, parse_date_ex, parse_datetime, parse_datetime_ex
from needpool.intake.transfer.services import ImportResult
from tests.conftest import PASSWORD
from tests.intake.transfer.conftest import INTAKE_HEADERS, MANAGEMENT_HEADERS, PRIORITY_HEADERS

pytestmark = pytest.mark.django_db


def _intake(**values):
    base = {
        "需求ID": "DEM-F1",
        "客户名称": "A科技公司",
        "联系人": "王总",
        "需求来源": "销售沟通",
        "需求类型": "功能优化",
        "描述内容": "批量折扣",
        "期望时间": "2024-06-30",
        "初步标签": "",
        "提交时间": "2024-03-01",
    }
    base.update(values)
    return [base[h] for h in INTAKE_HEADERS]


def _management(**values):
    base = {
        "需求编号": "202405-201",
        "需求来源": "销售沟通",
        "提出方信息": "A科技公司、王总",
        "需求类型": "功能需求",
        "需求描述": "希望在报表页面增加批量导出功能",
        "紧急程度": "常规",
        "优先级": "P2",
        "提出时间": "2024-05-06",
        "期望完成时间": "2024-09-30",
        "负责人": "product_manager",
        "当前状态": "待处理",
    }
    base.update(values)
    return [base[h] for h in MANAGEMENT_HEADERS]


def _kinds(row):
    return [f["kind"] for f in row["flags"]]


# ---------------------------------------------------------------- reading dates


@pytest.mark.parametrize(
    ("raw", "day", "interpreted"),
    [
        ("2024年Q2", dt.date(2024, 6, 30), True),
        ("2024年第三季度", dt.date(2024, 9, 30), True),
        ("2024年6月", dt.date(2024, 6, 30), True),
        ("2024-02", dt.date(2024, 2, 29), True),
        ("2024年", dt.date(2024, 12, 31), True),
        (45473, dt.date(2024, 6, 30), True),  # an Excel serial
        ("45473", dt.date(2024, 6, 30), True),
        ("2024-06-30", dt.date(2024, 6, 30), False),
        ("2024年6月30日", dt.date(2024, 6, 30), False),
        (20240630, dt.date(2024, 6, 30), False),
        (dt.date(2024, 6, 30), dt.date(2024, 6, 30), False),
        ("", None, False),
    ],
)
def test_parse_date_ex_says_when_a_value_was_interpreted(raw, day, interpreted):
    value, note = parse_date_ex(raw)
    assert value == day
    assert bool(note) is interpreted
    assert parse_date(raw) == day  # the plain reader is unchanged
    moment, moment_note = parse_datetime_ex(raw)
    assert (moment.date() if moment else None) == day and moment_note == note
    assert parse_datetime(raw) == moment


# ---------------------------------------------------------------- flags on rows


def test_new_requirement_without_expected_date_background_and_ask_is_flagged(users, customer, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet([INTAKE_HEADERS, _intake(期望时间="")]), dry_run=True)
    assert result.error_total == 0, result.errors
    (flag,) = result.rows[0]["flags"]
    assert flag["kind"] == "not_standardised"
    assert flag["missing"] == ["background", "concrete_ask", "expected_date"]
    assert "背景" in flag["message"] and "具体诉求" in flag["message"] and "期望时间" in flag["message"]
    assert result.flag_counts == {"not_standardised": 1, "interpreted": 0}
    assert result.as_dict()["flag_counts"] == {"not_standardised": 1, "interpreted": 0}
    assert result.as_dict()["rows"][0]["flags"] == [flag]


def test_a_new_requirement_with_a_date_still_misses_background_and_ask(users, customer, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet([INTAKE_HEADERS, _intake()]), dry_run=True)
    (flag,) = result.rows[0]["flags"]
    assert flag["missing"] == ["background", "concrete_ask"]


def test_priority_sheet_creates_are_flagged_too(users, sheet, run_sheet):
    result = run_sheet(users["product_manager"], sheet([PRIORITY_HEADERS, ["", "新的需求", 3, 3]]), dry_run=True)
    assert result.rows[0]["action"] == "create"
    assert _kinds(result.rows[0]) == ["not_standardised"]
    assert "customer" in result.rows[0]["flags"][0]["missing"]


def test_updates_of_a_standardised_requirement_are_not_flagged(users, requirement, sheet, run_sheet):
    row = _intake(需求ID=requirement.code, 描述内容="新的描述", 期望时间="2024-06-30", 需求类型="功能优化")
    result = run_sheet(users["sales"], sheet([INTAKE_HEADERS, row]), dry_run=True)
    assert result.error_total == 0, result.errors
    assert result.rows[0]["action"] in ("update", "unchanged")
    assert "not_standardised" not in _kinds(result.rows[0])
    assert result.flag_counts["not_standardised"] == 0


def test_a_quarter_is_flagged_as_interpreted_with_its_date(users, customer, sheet, run_sheet):
    result = run_sheet(
        users["product_manager"], sheet([MANAGEMENT_HEADERS, _management(期望完成时间="2024年Q2")]), dry_run=True
    )
    assert result.error_total == 0, result.errors
    interpreted = [f for f in result.rows[0]["flags"] if f["kind"] == "interpreted"]
    assert [(f["column"], f["value"], f["read_as"]) for f in interpreted] == [
        ("期望完成时间", "2024年Q2", "2024-06-30")
    ]
    assert "2024-06-30" in interpreted[0]["message"] and "季度" in interpreted[0]["message"]
    assert result.flag_counts["interpreted"] == 1


def test_excel_serials_and_keyword_sources_are_flagged(users, customer, sheet, run_sheet):
    row = _management(需求来源="客户A电话反馈", 提出时间=45418, 期望完成时间="2024-09-30")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]), dry_run=True)
    assert result.error_total == 0, result.errors
    interpreted = {f["column"]: f["read_as"] for f in result.rows[0]["flags"] if f["kind"] == "interpreted"}
    assert interpreted == {"需求来源": "销售沟通", "提出时间": "2024-05-06"}
    assert any("识别为" in w for w in result.rows[0]["warnings"])  # the warning stays
    assert result.flag_counts["interpreted"] == 2


def test_plain_values_are_not_flagged(users, customer, requirement, sheet, run_sheet):
    row = _management(需求编号=requirement.code, 当前状态="")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]), dry_run=True)
    assert result.error_total == 0, result.errors
    assert result.rows[0]["flags"] == []
    assert result.flag_counts == {"not_standardised": 0, "interpreted": 0}


def test_rows_in_error_are_not_counted(users, customer, sheet, run_sheet):
    row = _management(期望完成时间="2024年Q2", 负责人="查无此人")
    result = run_sheet(users["product_manager"], sheet([MANAGEMENT_HEADERS, row]), dry_run=True)
    assert result.counts["error"] == 1
    assert result.flag_counts == {"not_standardised": 0, "interpreted": 0}
    assert _kinds(result.rows[0]) == ["interpreted"]  # still shown on the row


# ---------------------------------------------------------------- the rows kept for the page


def test_flagged_and_error_rows_are_kept_before_plain_ones():
    result = ImportResult(layout="management", header_row=1, columns=[], ignored=[])
    flag = {"kind": "interpreted", "column": "期望完成时间", "value": "2024年Q2", "read_as": "2024-06-30"}
    error = CellError(row=7, column="负责人", value="查无此人", message="?")
    outcomes = [RowOutcome(row=n, action="unchanged") for n in (2, 3, 4)]
    outcomes += [RowOutcome(row=5, action="create", flags=[flag]), RowOutcome(row=6, action="unchanged")]
    outcomes += [RowOutcome(row=7, action="error", errors=[error]), RowOutcome(row=8, action="unchanged")]
    for outcome in outcomes:
        result.add(outcome, keep_rows=3)
    assert [r["row"] for r in result.rows] == [2, 5, 7]  # in the sheet's order, marked rows preferred
    assert result.rows_selected and result.total == 7
    assert result.flag_counts == {"not_standardised": 0, "interpreted": 1}
    assert result.as_dict()["rows_selected"] is True


def test_rows_are_the_first_ones_when_nothing_is_flagged():
    result = ImportResult(layout="intake", header_row=1, columns=[], ignored=[])
    for number in range(2, 8):
        result.add(RowOutcome(row=number, action="unchanged"), keep_rows=3)
    assert [r["row"] for r in result.rows] == [2, 3, 4]
    assert not result.rows_selected


# ---------------------------------------------------------------- the preview page


def test_preview_page_shows_flag_counts_and_flags_per_row(
    users, customer, client, sheet, django_capture_on_commit_callbacks
):
    client.login(username="sales", password=PASSWORD)
    path = sheet([INTAKE_HEADERS, _intake(期望时间="2024年Q3"), _intake(需求ID="DEM-F2", 期望时间="")])
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": "", "apply_status": "on"})
    preview = BackgroundJob.objects.get(kind="import_preview")
    assert preview.params["result"]["flag_counts"] == {"not_standardised": 2, "interpreted": 1}
    page = client.get(response["Location"]).content.decode()
    assert 'id="result-flags"' in page
    assert "2 行将新建但未标准化" in page
    assert "1 个值经推断读取" in page
    assert page.count('data-kind="not_standardised"') == 2
    assert page.count('data-kind="interpreted"') == 1
    assert "“2024年Q3”读作“2024-09-30”" in page

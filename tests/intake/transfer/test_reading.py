"""Reading sheets: header detection, merged cells, blank rows, extra and reordered columns, encodings, dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from needpool.intake.transfer.imports.reading import SheetError, data_rows, find_header, read_file
from needpool.intake.transfer.imports.values import CellProblem, parse_date, parse_datetime, parse_text, parse_whole
from needpool.requirements.models import Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS, RELATIONSHIP_HEADERS

# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", dt.date(2024, 3, 1)),
        ("2024/3/1", dt.date(2024, 3, 1)),
        ("2024.3.1", dt.date(2024, 3, 1)),
        ("2024年3月1日", dt.date(2024, 3, 1)),
        ("2024 年 3 月 1 号", dt.date(2024, 3, 1)),
        ("２０２４－０３－０１", dt.date(2024, 3, 1)),  # full-width
        ("20240301", dt.date(2024, 3, 1)),
        (20240301.0, dt.date(2024, 3, 1)),
        ("2024-03-01 10:30", dt.date(2024, 3, 1)),
        ("2024年Q2", dt.date(2024, 6, 30)),
        ("2024Q1", dt.date(2024, 3, 31)),
        ("2024 q4", dt.date(2024, 12, 31)),
        ("2024年第三季度", dt.date(2024, 9, 30)),
        ("2024年6月", dt.date(2024, 6, 30)),
        ("2024-02", dt.date(2024, 2, 29)),
        ("2024年", dt.date(2024, 12, 31)),
        (45352.0, dt.date(2024, 3, 1)),  # an Excel serial number in a cell not formatted as a date
        ("45352", dt.date(2024, 3, 1)),
        (dt.datetime(2024, 3, 1, 9, 0), dt.date(2024, 3, 1)),
        (dt.date(2024, 3, 1), dt.date(2024, 3, 1)),
        ("", None),
        (None, None),
    ],
)
def test_dates_in_every_format(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2024-02-30", "明天", "2024/13/1", "Q5 2024", True])
def test_bad_dates_are_refused_with_a_reason(raw):
    with pytest.raises(CellProblem) as problem:
        parse_date(raw)
    assert problem.value.message


def test_datetimes_are_local_and_to_the_second():
    value = parse_datetime("2024/3/1 9:05")
    assert timezone.localtime(value).replace(tzinfo=None) == dt.datetime(2024, 3, 1, 9, 5)
    excel = parse_datetime(dt.datetime(2024, 3, 1, 9, 5, 59, 999_600))  # float noise from Excel
    assert timezone.localtime(excel).replace(tzinfo=None) == dt.datetime(2024, 3, 1, 9, 6)
    assert timezone.localtime(parse_datetime("2024-03-01")).hour == 0


def test_numbers_and_text_from_excel_floats():
    assert parse_whole(5.0) == 5
    assert parse_whole("５") == 5
    assert parse_text(2024001.0) == "2024001"
    assert parse_text(13800138000.0) == "13800138000"
    for bad in (5.5, "五", "9"):
        with pytest.raises(CellProblem):
            parse_whole(bad, low=1, high=5)


# ---------------------------------------------------------------- headers and rows


def test_title_row_merged_two_row_header_blank_rows_extra_and_reordered_columns(sheet):
    path = sheet(
        [
            ["客户需求与关系管理记录表（2024 年 3 月）"],
            [],
            ["客户编号", "客户名称", "所属行业", "联系人信息", None, None, "内部编号", "备注"],
            [None, None, None, "对接人", "职位", "联系方式", None, None],
            [],
            ["C2024001", "A科技公司", "互联网", "张*", "采购总监", "010-62345678", "X-1", "重点客户"],
            [None, None, None, None, None, None, None, None],
            ["C2024002", "B制造企业", "工业", "王*", "生产经理", "", "X-2", ""],
        ],
        merge=["A1:H1", "A3:A4", "B3:B4", "C3:C4", "D3:F3", "G3:G4", "H3:H4"],
    )
    table = read_file(path)
    header = find_header(table)
    assert header.layout.key == "relationship"
    assert header.row == 4
    assert sorted(header.columns.values()) == sorted(
        ["code", "name", "industry", "contact", "title", "contact_info", "notes"]
    )
    assert header.ignored == ["内部编号"]  # merged down from row 3 over row 4, the header's last row
    rows = list(data_rows(table, header))
    assert [number for number, _values in rows] == [6, 8]
    assert rows[0][1]["contact"] == "张*"
    assert rows[0][1]["notes"] == "重点客户"


def test_extra_columns_are_listed_as_ignored(sheet):
    path = sheet([["备注二", *INTAKE_HEADERS[::-1], "内部编号"], ["x", *([""] * 9), "y"]])
    header = find_header(read_file(path))
    assert header.layout.key == "intake"
    assert header.ignored == ["备注二", "内部编号"]
    assert header.columns[1] == "submitted_at"  # reordered: the last header first


def test_english_headers(sheet):
    path = sheet(
        [
            [
                "Customer code",
                "Customer",
                "Industry",
                "Contact",
                "Job title",
                "Last contact",
                "Contact method",
                "Key points",
            ]
        ]
    )
    header = find_header(read_file(path))
    assert header.layout.key == "relationship"
    assert len(header.columns) == 8


def test_each_seed_header_row_finds_its_layout(sheet):
    from tests.intake.transfer.conftest import MANAGEMENT_HEADERS, PRIORITY_HEADERS

    for headers, key in (
        (INTAKE_HEADERS, "intake"),
        (PRIORITY_HEADERS, "priority"),
        (MANAGEMENT_HEADERS, "management"),
        (RELATIONSHIP_HEADERS, "relationship"),
    ):
        assert find_header(read_file(sheet([headers]))).layout.key == key


def test_a_cover_sheet_before_the_data_is_skipped(tmp_path):
    from tests.intake.transfer.conftest import write_xlsx

    path = write_xlsx(tmp_path / "book.xlsx", [INTAKE_HEADERS, ["DEM1"]], sheets_before=["封面"])
    assert find_header(read_file(path)).layout.key == "intake"


def test_unknown_headers_and_unreadable_files_are_refused(sheet, tmp_path):
    with pytest.raises(SheetError, match="没有找到可识别的表头"):
        find_header(read_file(sheet([["姓名", "年龄"], ["张三", 3]])))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(SheetError, match="无法读取"):
        read_file(broken)
    with pytest.raises(SheetError, match="不支持的文件类型"):
        read_file(tmp_path / "a.pdf")


@pytest.mark.parametrize(
    ("encoding", "name", "delimiter"),
    [("utf-8", "a.csv", ","), ("utf-8-sig", "b.csv", ","), ("gbk", "c.csv", ","), ("gb18030", "d.tsv", "\t")],
)
@pytest.mark.django_db
def test_csv_in_utf8_bom_and_gbk(encoding, name, delimiter, users, customer, sheet, run_sheet):
    path = sheet(
        [
            INTAKE_HEADERS,
            ["DEM1", "A科技公司", "王总", "销售沟通", "功能", "希望支持批量导出，含“引号”", "2024/6/30", "", ""],
        ],
        name=name,
        encoding=encoding,
        delimiter=delimiter,
    )
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert Requirement.objects.get(code="DEM1").description == "希望支持批量导出，含“引号”"
    assert result.encoding == ("gb18030" if encoding in ("gbk", "gb18030") else "utf-8")


@pytest.mark.django_db
def test_excel_date_cells_and_text_dates_import_alike(users, customer, sheet, run_sheet):
    texts = [
        "2024-06-30",
        "2024/6/30",
        "2024年6月30日",
        "2024年Q2",
        dt.date(2024, 6, 30),
        dt.datetime(2024, 6, 30),
        45473.0,
    ]
    rows = [INTAKE_HEADERS] + [[f"D{i}", "A科技公司", "", "", "", f"需求{i}", t, "", ""] for i, t in enumerate(texts)]
    result = run_sheet(users["sales"], sheet(rows))
    assert result.error_total == 0, result.errors
    assert set(Requirement.objects.values_list("expected_date", flat=True)) == {dt.date(2024, 6, 30)}

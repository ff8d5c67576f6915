"""The sheets people keep: .xls, .ods, several sheets in one workbook, hidden rows and columns, formulas."""

from __future__ import annotations

import itertools
import re
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from needpool.core.models import BackgroundJob
from needpool.intake.transfer.imports import xls_scan, xlsx_scan
from needpool.intake.transfer.imports.reading import (
    SheetError,
    check_formulas,
    data_rows,
    find_header,
    ignored_columns,
    read_file,
    row_ranges,
    skipped_rows,
)
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD
from tests.intake.transfer.conftest import INTAKE_HEADERS, RELATIONSHIP_HEADERS

FIXTURES = Path(__file__).parent / "fixtures"


def _intake(code: str, description: str = "需求描述") -> list[str]:
    return [code, "A科技公司", "", "", "", description, "", "", ""]


def write_ods(
    path: Path,
    sheets: dict[str, list[list[object]]],
    *,
    hidden_rows: Iterable[int] = (),
    hidden_columns: Iterable[int] = (),
    filtered_rows: Iterable[int] = (),
) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice needs to open it, and calamine to read it).

    In the first sheet, ``hidden_rows`` (numbers from 1) are hidden by hand (``collapse``), ``filtered_rows`` by
    a filter, ``hidden_columns`` (indexes from 0) by hand; the columns are declared as LibreOffice writes them,
    runs of equal ones as one repeated element, and a long filler run of rows ends the sheet."""
    tables = []
    hidden_rows, filtered_rows, hidden_columns = set(hidden_rows), set(filtered_rows), set(hidden_columns)
    for index, (name, rows) in enumerate(sheets.items()):
        cells = []
        if index == 0 and hidden_columns:
            width = max(len(r) for r in rows)
            runs = [list(g) for _k, g in itertools.groupby(range(width), key=lambda c: c in hidden_columns)]
            for run in runs:
                visibility = ' table:visibility="collapse"' if run[0] in hidden_columns else ""
                cells.append(f'<table:table-column table:number-columns-repeated="{len(run)}"{visibility}/>')
        for number, row in enumerate(rows, start=1):
            visibility = ""
            if index == 0 and number in hidden_rows:
                visibility = ' table:visibility="collapse"'
            elif index == 0 and number in filtered_rows:
                visibility = ' table:visibility="filter"'
            cells.append(f"<table:table-row{visibility}>")
            for cell in row:
                if cell is None or cell == "":
                    cells.append("<table:table-cell/>")
                elif isinstance(cell, int | float):
                    cells.append(
                        f'<table:table-cell office:value-type="float" office:value="{cell}">'
                        f"<text:p>{cell}</text:p></table:table-cell>"
                    )
                else:
                    cells.append(
                        f'<table:table-cell office:value-type="string"><text:p>{escape(str(cell))}</text:p>'
                        "</table:table-cell>"
                    )
            cells.append("</table:table-row>")
        if index == 0 and (hidden_rows or filtered_rows):  # the filler LibreOffice writes, hidden here
            cells.append('<table:table-row table:number-rows-repeated="1048000" table:visibility="collapse">')
            cells.append("<table:table-cell/></table:table-row>")
        tables.append(f"<table:table table:name={quoteattr(name)}>{''.join(cells)}</table:table>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")  # first, not compressed
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_book(
    path: Path,
    sheets: dict[str, list[list[object]]],
    *,
    hidden_rows: Iterable[int] = (),
    hidden_columns: Iterable[str] = (),
) -> Path:
    """An .xlsx with the given sheets; ``hidden_rows`` / ``hidden_columns`` (of the first sheet) are hidden."""
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    for index, (name, rows) in enumerate(sheets.items()):
        worksheet = first if index == 0 else workbook.create_sheet(name)
        worksheet.title = name
        for row in rows:
            worksheet.append(row)
    for number in hidden_rows:
        first.row_dimensions[number].hidden = True
    for letter in hidden_columns:
        first.column_dimensions[letter].hidden = True
    workbook.save(path)
    return path


def with_cached_values(path: Path, values: dict[str, str]) -> Path:
    """Put a computed result into formula cells of the first sheet, as Excel does when it saves."""
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        xml, found = re.subn(
            rf'<c r="{ref}"([^>]*)>(<f>.*?</f>)<v\s*/>', rf'<c r="{ref}"\1 t="str">\2<v>{value}</v>', xml
        )
        assert found == 1, ref
    members["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


# ---------------------------------------------------------------- formats


@pytest.mark.django_db
def test_an_xls_workbook_with_a_cover_sheet_and_a_merged_title_row_imports(users, customer, run_sheet, tmp_path):
    path = shutil.copy(FIXTURES / "intake.xls", tmp_path / "intake.xls")
    table = read_file(Path(path))
    assert (table.name, table.sheets) == ("需求", ["需求"])  # the cover sheet 说明 has no header
    header = find_header(table)
    assert (header.layout.key, header.row) == ("intake", 3)
    result = run_sheet(users["sales"], Path(path))
    assert result.error_total == 0, result.errors
    assert result.sheet == "需求"
    assert set(Requirement.objects.values_list("code", flat=True)) == {"XLS1", "XLS2"}
    assert str(Requirement.objects.get(code="XLS1").expected_date) == "2024-06-30"  # an Excel date cell


@pytest.mark.django_db
def test_an_ods_workbook_imports(users, customer, run_sheet, tmp_path):
    path = write_ods(
        tmp_path / "needs.ods",
        {
            "封面": [["客户需求（OpenDocument）"]],
            "需求": [["客户需求信息表"], [], INTAKE_HEADERS, _intake("ODS1", "来自 LibreOffice"), _intake("ODS2")],
        },
    )
    header = find_header(read_file(path))
    assert header.row == 3
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert result.sheet == "需求"
    assert Requirement.objects.get(code="ODS1").description == "来自 LibreOffice"
    assert Requirement.objects.count() == 2


def test_a_gbk_csv_with_a_title_row_above_the_header(sheet):
    path = sheet([["2024 年客户需求"], [], INTAKE_HEADERS, _intake("G1")], name="gbk.csv", encoding="gbk")
    table = read_file(path)
    header = find_header(table)
    assert (header.row, table.encoding, table.name, table.sheets) == (3, "gb18030", "", [])
    assert [number for number, _values in data_rows(table, header)] == [4]


# ---------------------------------------------------------------- several sheets


def _three_sheets(tmp_path: Path) -> Path:
    return write_book(
        tmp_path / "book.xlsx",
        {
            "说明": [["填写说明：每行一个需求"]],
            "需求": [INTAKE_HEADERS, _intake("S1")],
            "客户": [RELATIONSHIP_HEADERS, ["C1", "A科技公司"]],
        },
    )


def test_without_a_choice_the_first_sheet_with_a_header_is_read_and_the_others_are_listed(tmp_path):
    table = read_file(_three_sheets(tmp_path))
    assert table.name == "需求"
    assert table.sheets == ["需求", "客户"]
    assert table.names == ["说明", "需求", "客户"]
    assert find_header(table).layout.key == "intake"


def test_a_sheet_chosen_by_name_or_by_layout(tmp_path):
    path = _three_sheets(tmp_path)
    chosen = read_file(path, "客户")
    assert (chosen.name, chosen.sheets) == ("客户", ["需求", "客户"])
    assert find_header(chosen).layout.key == "relationship"
    from needpool.intake.transfer.imports.layouts import LAYOUTS

    assert read_file(path, layout=LAYOUTS["relationship"]).name == "客户"
    with pytest.raises(SheetError, match="工作表“说明”：前 20 行中没有找到"):
        find_header(read_file(path, "说明"))
    with pytest.raises(SheetError, match="没有名为“汇总”的工作表。文件中的工作表：说明、需求、客户"):
        read_file(path, "汇总")


# ---------------------------------------------------------------- hidden rows and columns


@pytest.mark.django_db
def test_hidden_rows_are_skipped_and_hidden_columns_ignored_and_both_reported(users, customer, run_sheet, tmp_path):
    rows = [
        ["客户需求信息表"],
        [*INTAKE_HEADERS, "内部编号"],
        _intake("H1"),
        _intake("H2-hidden"),
        _intake("H3-hidden"),
        [],
        _intake("H4"),
        _intake("H5-hidden"),
    ]
    rows[2] += ["X-1"]
    path = write_book(tmp_path / "hidden.xlsx", {"需求": rows}, hidden_rows=[4, 5, 6, 8], hidden_columns=["J", "H"])
    table = read_file(path)
    assert table.hidden_rows == {4, 5, 6, 8}
    header = _hidden_h_and_j(table)
    assert "内部编号" not in header.ignored
    assert [number for number, _values in data_rows(table, header)] == [3, 7]
    assert skipped_rows(table, header) == [4, 5, 8]  # row 6 is hidden but blank
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert set(Requirement.objects.values_list("code", flat=True)) == {"H1", "H4"}
    assert (result.hidden_row_count, result.hidden_rows) == (3, [[4, 5], [8, 8]])
    assert [c["letter"] for c in result.hidden_columns] == ["H", "J"]
    assert "tags" not in [c["column"] for c in result.columns]


@pytest.mark.django_db
def test_hidden_rows_and_columns_of_an_xls_are_skipped_and_reported(users, customer, run_sheet, tmp_path):
    path = Path(shutil.copy(FIXTURES / "hidden.xls", tmp_path / "hidden.xls"))  # see fixtures/README.md
    table = read_file(path)
    assert table.hidden_rows == {4, 5, 6, 8}
    header = _hidden_h_and_j(table)
    assert [number for number, _values in data_rows(table, header)] == [3, 7]
    assert skipped_rows(table, header) == [4, 5, 8]  # row 6 is hidden but blank
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors  # the hidden 初步标签 column's unknown tag 标签 is not read
    assert set(Requirement.objects.values_list("code", flat=True)) == {"H1", "H4"}
    assert (result.hidden_row_count, result.hidden_rows) == (3, [[4, 5], [8, 8]])
    assert [c["letter"] for c in result.hidden_columns] == ["H", "J"]


def test_an_xls_that_xlrd_cannot_read_has_no_marks(tmp_path):
    """A file calamine read but xlrd cannot (here: not an .xls at all) is imported without hidden marks."""
    path = tmp_path / "renamed.xls"
    path.write_bytes(b"not a workbook")
    marks = xls_scan.read_marks(path, "需求")
    assert (marks.hidden_rows, marks.hidden_columns) == (set(), set())
    assert xls_scan.read_marks(FIXTURES / "hidden.xls", "没有这个表").hidden_rows == set()
    assert xls_scan.read_marks(FIXTURES / "hidden.xls", "需求").hidden_columns == {7, 9}


def _hidden_h_and_j(table):
    """The sheet's columns H (初步标签) and J (内部编号) are hidden: left out of the header and reported."""
    assert table.hidden_columns == {7, 9}
    header = find_header(table)
    assert "tags" not in header.columns.values()  # 初步标签 (H) is hidden
    assert ignored_columns(table, header) == [
        {"letter": "H", "header": "初步标签"},
        {"letter": "J", "header": "内部编号"},
    ]
    return header


@pytest.mark.django_db
def test_hidden_rows_and_columns_of_an_ods_are_skipped_and_reported(users, customer, run_sheet, tmp_path):
    rows = [
        ["客户需求信息表"],
        [*INTAKE_HEADERS, "内部编号"],
        [*_intake("O1"), "X-1"],
        _intake("O2-hidden"),
        _intake("O3-filtered"),
        [],
        _intake("O4"),
    ]
    path = write_ods(
        tmp_path / "hidden.ods", {"需求": rows}, hidden_rows=[4, 6], filtered_rows=[5], hidden_columns=[7, 9]
    )
    table = read_file(path)
    assert table.hidden_rows == {4, 5, 6}  # the hidden filler run after the data is not listed
    header = _hidden_h_and_j(table)
    assert [number for number, _values in data_rows(table, header)] == [3, 7]
    assert skipped_rows(table, header) == [4, 5]
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert set(Requirement.objects.values_list("code", flat=True)) == {"O1", "O4"}
    assert (result.hidden_row_count, result.hidden_rows) == (2, [[4, 5]])


def test_an_ods_sheet_in_a_cell_does_not_shift_the_rows(tmp_path):
    """Rows of a table nested in a cell (a sub-table) are not rows of the sheet."""
    from needpool.intake.transfer.imports import ods_scan

    path = write_ods(tmp_path / "plain.ods", {"需求": [["甲"], ["乙"], ["丙"]]}, hidden_rows=[3])
    with zipfile.ZipFile(path) as archive:
        content = archive.read("content.xml").decode()
    nested = (
        '<table:table-row><table:table-cell><table:table table:name="inner">'
        '<table:table-row table:visibility="collapse"><table:table-cell/></table:table-row>'
        "</table:table></table:table-cell></table:table-row>"
    )
    content = content.replace("<table:table-row>", nested + "<table:table-row>", 1)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("content.xml", content)
    assert ods_scan.scan(path)["需求"].hidden_rows == {4}  # row 1 is the one holding the sub-table


def test_nothing_hidden_reports_nothing(sheet):
    table = read_file(sheet([INTAKE_HEADERS, _intake("N1")]))
    header = find_header(table)
    assert (table.hidden_rows, table.hidden_columns, table.uncomputed) == (set(), set(), [])
    assert skipped_rows(table, header) == [] and ignored_columns(table, header) == []


def test_row_ranges():
    assert row_ranges([9, 5, 6, 7, 12, 13]) == [[5, 7], [9, 9], [12, 13]]
    assert row_ranges([]) == []
    assert row_ranges([1, 3, 5, 7], limit=2) == [[1, 1], [3, 3]]


@settings(max_examples=60)
@given(st.sets(st.integers(1, 500)))
def test_row_ranges_cover_exactly_the_rows(numbers):
    ranges = row_ranges(sorted(numbers), limit=1000)
    covered = [n for first, last in ranges for n in range(first, last + 1)]
    assert covered == sorted(numbers)
    assert all(b[0] > a[1] + 1 for a, b in itertools.pairwise(ranges))  # runs are maximal


# ---------------------------------------------------------------- formulas


def _formula_book(tmp_path: Path) -> Path:
    rows = [
        [*INTAKE_HEADERS, "合计"],
        ["F1", "A科技公司", "", "", "", '="需求"&"一"', "", "", "", "=1+1"],
        ["F2", "A科技公司", "", "", "", "写好的描述", "", "", "", "=2+2"],
        ["F3", "A科技公司", "", "", "", '="需求"&"三"', "", "", "", ""],
    ]
    return write_book(tmp_path / "formulas.xlsx", {"需求": rows})


def test_formulas_saved_without_their_result_are_refused_naming_the_cells(tmp_path):
    table = read_file(_formula_book(tmp_path))
    header = find_header(table)
    assert sorted(table.uncomputed) == [(2, 5), (2, 9), (3, 9), (4, 5)]
    # 合计 (J) is not imported: only the description cells count.
    with pytest.raises(SheetError, match=r"^公式没有计算结果：请在 Excel 中打开并保存后再上传。单元格：F2、F4。$"):
        check_formulas(table, header)


def test_formulas_in_hidden_rows_do_not_matter(tmp_path):
    path = _formula_book(tmp_path)
    workbook_path = write_book(
        tmp_path / "hidden-formulas.xlsx",
        {"需求": [[*INTAKE_HEADERS], ["F1", "A科技公司", "", "", "", '="x"', "", "", ""]]},
        hidden_rows=[2],
    )
    table = read_file(workbook_path)
    check_formulas(table, find_header(table))  # no error
    assert read_file(path).uncomputed


@pytest.mark.django_db
def test_formulas_with_their_computed_result_import_as_values(users, customer, run_sheet, tmp_path):
    path = with_cached_values(_formula_book(tmp_path), {"F2": "需求一", "F4": "需求三", "J2": "2", "J3": "4"})
    table = read_file(path)
    assert table.uncomputed == []
    result = run_sheet(users["sales"], path)
    assert result.error_total == 0, result.errors
    assert Requirement.objects.get(code="F1").description == "需求一"
    assert Requirement.objects.get(code="F3").description == "需求三"


@pytest.mark.django_db
def test_a_preview_of_uncomputed_formulas_fails_with_the_reason(users, client, tmp_path, capture_jobs):
    client.login(username="sales", password=PASSWORD)
    with capture_jobs(execute=True), open(_formula_book(tmp_path), "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": ""})
    job = BackgroundJob.objects.get()
    assert job.status == "failed"
    assert "公式没有计算结果" in job.message and "F2、F4" in job.message
    assert "公式没有计算结果" in client.get(response["Location"]).content.decode()


# ---------------------------------------------------------------- the XML scan


def _scan_book(tmp_path: Path, hidden: set[int], formulas: set[int]) -> Path:
    rows = [["编号", "值", "公式"]]
    for number in range(2, 121):
        rows.append([f"N{number}", number, f"=B{number}*2" if number in formulas else number * 2])
    return write_book(tmp_path / "scan.xlsx", {"数据": rows}, hidden_rows=sorted(hidden), hidden_columns=["B"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hidden=st.sets(st.integers(2, 120), max_size=30),
    formulas=st.sets(st.integers(2, 120), max_size=30),
    chunk=st.integers(16, 5000),
)
def test_the_streaming_scan_finds_the_same_marks_whatever_the_chunk_size(tmp_path, hidden, formulas, chunk):
    path = _scan_book(tmp_path, hidden, formulas)
    original = xlsx_scan.CHUNK
    xlsx_scan.CHUNK = chunk
    try:
        marks = xlsx_scan.read_marks(path, "数据")
    finally:
        xlsx_scan.CHUNK = original
    assert marks.hidden_rows == hidden
    assert marks.hidden_columns == {1}
    assert sorted(marks.uncomputed) == sorted((number, 2) for number in formulas)


def _book_with_sheet_xml(path: Path, xml: bytes) -> Path:
    write_book(path, {"数据": [["a"], ["b"]]})
    with zipfile.ZipFile(path) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    members["xl/worksheets/sheet1.xml"] = xml
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    return path


def test_a_namespace_prefixed_sheet_is_scanned_too(tmp_path):
    path = _book_with_sheet_xml(
        tmp_path / "prefixed.xlsx",
        b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<x:cols><x:col min="2" max="3" hidden="1"/></x:cols><x:sheetData>'
        b'<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></x:row>'
        b'<x:row r="2" hidden="1"><x:c r="A2"><x:f>1+1</x:f></x:c></x:row>'
        b"</x:sheetData></x:worksheet>",
    )
    marks = xlsx_scan.read_marks(path, "数据")
    assert (marks.hidden_rows, marks.hidden_columns, marks.uncomputed) == ({2}, {1, 2}, [(2, 0)])


def test_a_formula_whose_result_is_empty_text_is_a_value(tmp_path):
    path = _book_with_sheet_xml(
        tmp_path / "empty.xlsx",
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1" spans="1:3"><c r="A1" t="str"><f>IF(B1="","",B1)</f><v></v></c>'  # Excel: the empty text
        b'<c r="B1" s="1"/><c r="C1"><f t="shared" ref="C1:C2" si="0">B1*2</f><v>0</v></c></row>'
        b'<row r="2" hidden="0"><c r="C2"><f t="shared" si="0"/><v>0</v></c>'
        b'<c r="D2"><f t="shared" si="1"/></c><c r="E2"><f>1+1</f></c></row>'  # no results
        b"</sheetData></worksheet>",
    )
    marks = xlsx_scan.read_marks(path, "数据")
    assert (marks.hidden_rows, sorted(marks.uncomputed)) == (set(), [(2, 3), (2, 4)])


# ---------------------------------------------------------------- the pages


@pytest.fixture
def capture_jobs(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.mark.django_db
def test_the_preview_names_the_sheet_and_another_can_be_previewed_instead(
    users, customer, client, tmp_path, capture_jobs
):
    client.login(username="sales", password=PASSWORD)
    with capture_jobs(execute=True), open(_three_sheets(tmp_path), "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": "intake"})
    first = BackgroundJob.objects.get()
    assert first.params["sheet"] == ""
    assert first.params["result"]["sheet"] == "需求"
    assert first.params["result"]["sheets"] == ["需求", "客户"]
    page = client.get(response["Location"]).content.decode()
    assert "未指定工作表：读取了第一个能识别表头的工作表“需求”" in page
    assert 'data-sheet="客户"' in page and f"/intake/import/jobs/{first.pk}/sheet/" in page

    assert client.post(f"/intake/import/jobs/{first.pk}/sheet/", {"sheet": "说明"}).status_code == 302
    assert BackgroundJob.objects.count() == 1  # not a sheet with a header: refused
    with capture_jobs(execute=True):
        response = client.post(f"/intake/import/jobs/{first.pk}/sheet/", {"sheet": "客户"})
    second = BackgroundJob.objects.exclude(pk=first.pk).get()
    assert response["Location"] == f"/intake/import/jobs/{second.pk}/"
    assert second.params["sheet"] == "客户"
    assert second.params["layout"] == ""  # the layout chosen for the first sheet is found again on this one
    assert second.params["result"]["sheet"] == "客户"
    assert second.params["result"]["layout"] == "relationship"
    page = client.get(response["Location"]).content.decode()
    assert "工作表：“客户”。" in page
    first.refresh_from_db()
    assert first.params["revised_by"] == second.pk


@pytest.mark.django_db
def test_a_sheet_named_on_the_upload_form_is_read_and_imported(users, customer, client, tmp_path, capture_jobs):
    from needpool.intake.transfer.services import import_confirm

    client.login(username="sales", password=PASSWORD)
    path = write_book(
        tmp_path / "two.xlsx",
        {"旧": [INTAKE_HEADERS, _intake("OLD1")], "新": [INTAKE_HEADERS, _intake("NEW1")]},
    )
    with capture_jobs(execute=True), open(path, "rb") as stream:
        client.post("/intake/import/", {"file": stream, "layout": "", "sheet": "新"})
    preview = BackgroundJob.objects.get()
    assert preview.params["sheet"] == "新"
    assert preview.params["result"]["sheet"] == "新"
    assert "工作表：“新”。" in client.get(f"/intake/import/jobs/{preview.pk}/").content.decode()
    if preview.params["result"].get("needs_mapping"):  # unknown values: not this test's concern
        return
    with capture_jobs(execute=True):
        run = import_confirm(actor=users["sales"], preview=preview)
    assert run.params["sheet"] == "新"
    assert list(Requirement.objects.values_list("code", flat=True)) == ["NEW1"]


@pytest.mark.django_db
def test_the_preview_lists_hidden_rows_and_columns(users, customer, client, tmp_path, capture_jobs):
    client.login(username="sales", password=PASSWORD)
    rows = [INTAKE_HEADERS, _intake("V1"), _intake("V2"), _intake("V3"), _intake("V4")]
    path = write_book(tmp_path / "hidden.xlsx", {"需求": rows}, hidden_rows=[3, 4], hidden_columns=["C"])
    with capture_jobs(execute=True), open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": ""})
    page = client.get(response["Location"]).content.decode()
    hidden_rows = re.search(r'id="job-hidden-rows">(.*?)</p>', page, re.S)
    assert hidden_rows and re.sub(r"\s+", "", hidden_rows.group(1)) == "跳过了2个隐藏的行，行号：3–4"
    hidden_columns = re.search(r'id="job-hidden-columns">(.*?)</p>', page, re.S)
    assert hidden_columns and "C（联系人）" in hidden_columns.group(1)


@pytest.mark.django_db
def test_the_upload_form_offers_the_sheet_field_and_ods(users, client):
    client.login(username="sales", password=PASSWORD)
    page = client.get("/intake/import/").content.decode()
    assert 'name="sheet"' in page
    assert ".ods" in page

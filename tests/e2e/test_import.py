"""Import a real .xlsx in Chromium: upload, read the preview, run the import, watch the progress bar reach done."""

from __future__ import annotations

import datetime as dt

from openpyxl import Workbook
from playwright.sync_api import expect

from needpool.core.models import BackgroundJob
from needpool.customers.models import Contact, Customer, Interaction
from needpool.requirements.models import Feedback
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import screenshot
from tests.intake.transfer.conftest import RELATIONSHIP_HEADERS

HEADERS = [*RELATIONSHIP_HEADERS, "内部编号"]  # plus a column the layout ignores


def _sheet(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["客户需求与关系管理记录表"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_upload_preview_and_import_a_relationship_sheet(page, users, tmp_path, _jobs_run_immediately):
    good = [
        "C2024001",
        "A科技公司",
        "互联网",
        "张*",
        "采购总监",
        "010-62345678",
        dt.datetime(2024, 3, 15, 10, 0),
        "线下会议",
        "系统响应速度慢，需提升数据处理效率",
        "支持实时数据监控；API接口开放",
        "担忧后期运维成本高",
        "高",
        "处理中",
        "sales",
        "2024-03-20提供技术方案",
        "客户提到竞品报价低10%",
        "X-1",
    ]
    mobile = [
        "C2024002",
        "B制造企业",
        "工业",
        "王*",
        "生产经理",
        "13912345678",
        "2024/3/10",
        "电话沟通",
        "需定制化报表功能",
        "报表支持Excel导出",
        "",
        "中",
        "待跟进",
        "",
        "2024-03-25发送行业案例",
        "",
        "X-2",
    ]
    sign_in(page, "sales", PASSWORD)
    page.locator("#nav-collect").click()
    page.locator("#nav-import").click()
    page.wait_for_url("**/intake/import/")
    screenshot(page, "import-upload")

    # A personal mobile in 联系方式: the preview shows the row, the column, the value and the reason.
    page.set_input_files("#id_file", str(_sheet(tmp_path / "记录表.xlsx", [good, mobile])))
    page.locator("#import-upload").click()
    page.wait_for_url("**/intake/import/jobs/*/")
    expect(page.locator("#job-status")).to_contain_text("已完成")
    error = page.locator("#result-errors tr.error-row")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("4")
    expect(error).to_contain_text("联系方式")
    expect(error).to_contain_text("13912345678")
    expect(error).to_contain_text("隐私规则")
    expect(page.locator("#ignored-columns")).to_contain_text("内部编号")
    expect(page.locator("#run-import-button")).to_have_count(0)
    screenshot(page, "import-preview-errors")
    assert not Customer.objects.exists()

    # Fixed sheet: preview, then the import runs as a background job whose page polls until done.
    mobile[5] = "0512-66889900"
    page.goto(page.base_url + "/intake/import/")
    page.set_input_files("#id_file", str(_sheet(tmp_path / "记录表-修正.xlsx", [good, mobile])))
    page.locator("#import-upload").click()
    page.wait_for_url("**/intake/import/jobs/*/")
    expect(page.locator("#count-create")).to_have_text("2")
    expect(page.locator("#result-rows tr.result-row")).to_have_count(2)
    screenshot(page, "import-preview")
    assert not Customer.objects.exists()  # the preview wrote nothing

    huey = _jobs_run_immediately
    huey.immediate = False  # queue the import for real, so the page shows it waiting and then done
    huey.flush()
    try:
        page.locator("#run-import-button").click()
        page.wait_for_url("**/intake/import/jobs/*/")
        expect(page.locator("#job-progress")).to_have_attribute("data-status", "queued")
        expect(page.locator("#job-progress")).to_have_attribute("hx-trigger", "every 1s")
        screenshot(page, "import-running")
        task = huey.dequeue()
        assert task is not None
        huey.execute(task)
    finally:
        huey.immediate = True
    # The polled partial sees the job finished and reloads the page with the results.
    expect(page.locator("#job-message")).to_contain_text("导入完成", timeout=15_000)
    expect(page.locator(".progress-bar")).to_have_text("100%")
    expect(page.locator("#count-create")).to_have_text("2")
    screenshot(page, "import-done")

    job = BackgroundJob.objects.get(kind="import_run")
    assert job.status == "done"
    assert Customer.objects.count() == 2
    assert Contact.objects.get(customer__code="C2024002").phone == "0512-66889900"
    assert Interaction.objects.count() == 2
    assert Feedback.objects.filter(interaction__customer__code="C2024001").count() == 3

    # The customers list exports the same layout, with the list's filters.
    page.goto(page.base_url + "/customers/?q=科技")
    page.locator("#export-menu button").click()
    link = page.locator("#export-menu a[href^='/intake/export/customers.xlsx']")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "/intake/export/customers.xlsx?q=%E7%A7%91%E6%8A%80")
    screenshot(page, "import-export-menu")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert download.value.suggested_filename.startswith("客户需求与关系管理记录表")


def test_the_mapping_step_in_the_browser(page, users, tmp_path, _jobs_run_immediately):
    from needpool.requirements.models import ClassOption, Requirement
    from tests.intake.transfer.conftest import INTAKE_HEADERS

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["客户需求信息表（2024年一季度）"])
    sheet.append(INTAKE_HEADERS)
    sheet.append(
        [
            "DEM1",
            "新客户有限公司",
            "",
            "客户访谈",
            "功能改进",
            "希望支持批量折扣",
            "2030-06-30",
            "批量操作/价格策略",
            "",
        ]
    )
    sheet.append(["DEM2", "新客户公司", "", "问卷调查", "体验优化", "导出太慢", "2030/9/30", "价格策略", ""])
    path = tmp_path / "客户需求信息表.xlsx"
    workbook.save(path)
    sign_in(page, "admin", PASSWORD)
    page.goto(page.base_url + "/intake/import/")
    page.set_input_files("#id_file", str(path))
    page.locator("#import-upload").click()
    page.wait_for_url("**/intake/import/jobs/*/")
    form = page.locator("#mapping-form")
    expect(form).to_be_visible()
    expect(form.locator(".mapping-column")).to_have_count(4)
    # One row per distinct value, the two spellings of one new company counted together.
    customer = form.locator(".mapping-column[data-column='customer'] .mapping-value")
    expect(customer).to_have_count(1)
    expect(customer).to_contain_text("2")
    expect(form.locator("select[name='v-channel-0'] option:checked")).to_have_text("访谈")
    expect(form.locator("select[name='v-tags-0'] option:checked")).to_contain_text("新建")
    screenshot(page, "import-mapping")
    form.locator("select[name='all-type']").select_option("ignore")
    form.locator("#mapping-confirm").click()
    page.wait_for_url("**/intake/import/jobs/*/")
    expect(page.locator("#mapping-applied")).to_be_visible()
    expect(page.locator("#count-create")).to_have_text("2")
    screenshot(page, "import-mapping-applied")
    page.locator("#run-import-button").click()
    page.wait_for_url("**/intake/import/jobs/*/")
    expect(page.locator("#job-message")).to_contain_text("导入完成", timeout=15_000)
    assert Requirement.objects.count() == 2
    assert not Requirement.objects.filter(type__isnull=False).exists()
    assert ClassOption.objects.filter(dimension="tag", label="价格策略").count() == 1
    assert Customer.objects.filter(name__startswith="新客户").count() == 1

"""Export in the four layouts (XLSX and CSV), permission-scoped, bounded queries, and export → import round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from needpool.core.models import AuditEntry
from needpool.customers.models import Customer, Interaction
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import PASSWORD, option

pytestmark = pytest.mark.django_db


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


@pytest.fixture
def pool(users, customer, requirement):
    """Requirements with every kind of value the layouts carry."""
    from needpool.analysis.services import analysis_update, priority_override
    from needpool.customers.services import contact_create
    from needpool.requirements.services import requirement_create, requirement_transition

    pm = users["product_manager"]
    contact = contact_create(
        actor=users["sales"], customer=customer, name="李工", title="IT 主管", phone="010-66668888"
    )
    second = requirement_create(
        actor=users["sales"],
        customer=customer,
        contact=contact,
        channel="ticket",
        title="权限细分",
        description="希望按部门细分报表权限\n第二行说明",
        background="多部门共用",
        concrete_ask="按部门授权",
        expected_date=dt.date(2024, 12, 31),
        type=option("type", "experience"),
        urgency=option("urgency", "urgent"),
        tags=[option("tag", "efficiency"), option("tag", "feature_suggestion")],
        owner=pm,
        submitted_at=timezone.make_aware(dt.datetime(2024, 3, 1, 10, 30, 15, 123456)),
    )
    requirement_transition(actor=pm, requirement=second, to="in_progress")
    analysis_update(
        actor=pm,
        requirement=requirement,
        urgency_score=2,
        importance_score=4,
        resource_cost=3,
        pain_points="手工算折扣",
        value_statement="节省 50% 人工操作",
    )
    priority_override(actor=pm, requirement=requirement, priority="P0", reason="战略客户")
    requirement_create(actor=pm, title="=SUM(A1:A2) 不是公式", description="", code="202405-001")
    return [requirement, second]


@pytest.fixture
def relationships(users, customer):
    from needpool.customers.services import customer_create, interaction_create
    from needpool.requirements.services import feedback_from_interaction_ask

    sales = users["sales"]
    interaction = interaction_create(
        actor=sales,
        customer=customer,
        contact=customer.contacts.get(name="王总"),
        occurred_at=timezone.now() - dt.timedelta(days=3, microseconds=417),
        channel="online_meeting",
        key_content="介绍扩张计划\n多次询问运维投入",
        key_asks="实时监控\n开放 API\n隐性：担心运营成本",
        next_follow_up_plan="发送方案",
    )
    for index in range(3):
        feedback_from_interaction_ask(actor=sales, interaction=interaction, index=index, importance=2)
    interaction_create(
        actor=sales,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=1),
        channel="phone",
        key_content="电话回访",
    )
    customer_create(actor=sales, name="B制造企业", industry="工业", notes="=决策周期长", follow_status="paused")
    return interaction


def _state():
    return (
        list(Requirement.objects.order_by("pk").values()),
        list(Feedback.objects.order_by("pk").values()),
        list(Customer.objects.order_by("pk").values()),
        list(Interaction.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def _round_trip(client, user, tmp_path: Path, url: str, name: str, run_sheet):
    data = _download(client, url)
    path = tmp_path / name
    path.write_bytes(data)
    before = _state()
    preview = run_sheet(user, path, dry_run=True)
    assert preview.error_total == 0, preview.errors
    assert preview.counts["create"] == preview.counts["update"] == 0, preview.rows
    assert preview.warning_total == 0, preview.rows
    result = run_sheet(user, path)
    assert result.counts == preview.counts
    assert _state() == before  # nothing written, not even an audit row
    return preview


@pytest.mark.parametrize("layout", ["intake", "priority", "management"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_requirement_layouts_round_trip(layout, fmt, users, pool, client, tmp_path, run_sheet):
    pm = users["product_manager"]
    _client(client, pm)
    preview = _round_trip(client, pm, tmp_path, f"/intake/export/requirements/{layout}.{fmt}", f"r.{fmt}", run_sheet)
    assert preview.layout == layout
    assert preview.counts["unchanged"] == Requirement.objects.count() == 3


@pytest.mark.parametrize("kind", ["customers", "interactions"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_relationship_layout_round_trips(kind, fmt, users, relationships, client, tmp_path, run_sheet):
    sales = users["sales"]
    _client(client, sales)
    preview = _round_trip(client, sales, tmp_path, f"/intake/export/{kind}.{fmt}", f"c.{fmt}", run_sheet)
    assert preview.layout == "relationship"
    assert preview.counts["unchanged"] == 2  # two customers, or two interactions


@pytest.fixture
def implicit_need(users, customer):
    """An interaction whose unmarked ask 担心运营成本 went into a requirement classified as implicit (隐性)."""
    from needpool.customers.services import interaction_create
    from needpool.requirements.services import feedback_from_interaction_ask, requirement_create

    sales = users["sales"]
    interaction = interaction_create(
        actor=sales,
        customer=customer,
        occurred_at=timezone.now() - dt.timedelta(days=2),
        channel="online_meeting",
        key_content="介绍扩张计划",
        key_asks="实时监控\n担心运营成本：多次询问运维投入\n隐性：希望提供培训",
    )
    asks = [feedback_from_interaction_ask(actor=sales, interaction=interaction, index=i) for i in range(3)]
    requirement_create(actor=sales, title="实时监控", source=option("source", "explicit"), feedback=[asks[0]])
    requirement_create(actor=sales, title="降低运营成本", source=option("source", "implicit"), feedback=[asks[1]])
    return interaction


def _relationship_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_relationship_export_puts_implicit_needs_under_implicit(users, implicit_need, client, tmp_path, run_sheet):
    sales = users["sales"]
    _client(client, sales)
    data = _download(client, "/intake/export/interactions.csv")
    (row,) = _relationship_rows(data)
    assert row["显性需求"] == "实时监控"
    assert row["隐性需求"] == "担心运营成本：多次询问运维投入；希望提供培训"
    preview = _round_trip(client, sales, tmp_path, "/intake/export/customers.xlsx", "c.xlsx", run_sheet)
    assert preview.counts["unchanged"] == 1


def test_relationship_sheet_with_an_implicit_need_under_explicit_still_imports_unchanged(
    users, implicit_need, client, tmp_path, run_sheet
):
    """A sheet exported before implicit needs were placed by their requirement's source."""
    sales = users["sales"]
    _client(client, sales)
    rows = _relationship_rows(_download(client, "/intake/export/interactions.csv"))
    rows[0]["显性需求"], rows[0]["隐性需求"] = "实时监控；担心运营成本：多次询问运维投入", "希望提供培训"
    path = tmp_path / "old.csv"
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    preview = run_sheet(sales, path, dry_run=True)
    assert preview.error_total == 0, preview.errors
    assert preview.counts["unchanged"] == 1


def test_xlsx_has_styled_headers_real_dates_and_text_not_formulas(users, pool, client):
    from openpyxl import load_workbook

    _client(client, users["product_manager"])
    data = _download(client, "/intake/export/requirements/intake.xlsx?sort=code")
    sheet = load_workbook(io.BytesIO(data)).active
    headers = [c.value for c in sheet[1]]
    assert headers == [
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
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    second = next(r for code, r in rows.items() if code not in ("202405-001",) and r[5].value.startswith("希望按部门"))
    assert second[6].is_date and second[6].value == dt.datetime(2024, 12, 31)
    assert second[8].is_date and second[8].value == dt.datetime(2024, 3, 1, 10, 30, 15)
    assert second[7].value == "功能建议/效率提升"  # in the options list order
    formula_like = rows["202405-001"]
    assert formula_like[5].value == "=SUM(A1:A2) 不是公式" and formula_like[5].data_type == "s"
    assert formula_like[5].quotePrefix  # shown as typed, never recalculated when edited


def test_csv_has_a_bom_and_follows_the_list_filters(users, pool, client):
    _client(client, users["product_manager"])
    data = _download(
        client, "/intake/export/requirements/management.csv?urgency=" + str(option("urgency", "urgent").pk)
    )
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("需求编号,需求来源,提出方信息")
    assert len([line for line in lines if line.startswith("DEM")]) == 1
    assert "权限细分" not in text or "希望按部门细分报表权限" in text


def test_english_users_get_english_headers_that_import_back(users, pool, client, tmp_path, run_sheet):
    user = users["product_manager"]
    _client(client, user)
    client.cookies["django_language"] = "en"
    data = _download(client, "/intake/export/requirements/intake.csv")
    assert data.decode("utf-8-sig").startswith("Requirement ID,Customer,Contact,Source,Type,Description")
    path = tmp_path / "en.csv"
    path.write_bytes(data)
    preview = run_sheet(user, path, dry_run=True)
    assert preview.error_total == 0, preview.errors
    assert preview.counts["unchanged"] == 3, preview.rows


def test_exports_are_permission_scoped(users, make_user, pool, relationships, client):
    from needpool.accounts.models import Team

    outsider = make_user("sales", username="outsider", team=Team.objects.create(name="销售二部"))
    _client(client, outsider)
    text = _download(client, "/intake/export/customers.csv").decode("utf-8-sig")
    assert "A科技公司" not in text
    requirements = _download(client, "/intake/export/requirements/intake.csv").decode("utf-8-sig")
    assert requirements.strip().count("\n") == 0  # the header only


def test_unknown_layout_or_format_is_not_found(users, client):
    _client(client, users["sales"])
    assert client.get("/intake/export/requirements/secret.csv").status_code == 404
    assert client.get("/intake/export/customers.pdf").status_code == 404


def test_xlsx_over_the_limit_asks_for_csv(users, pool, client, settings):
    settings.NEEDPOOL_EXPORT_XLSX_MAX_ROWS = 2
    _client(client, users["product_manager"])
    response = client.get("/intake/export/requirements/intake.xlsx", follow=True)
    assert response.redirect_chain[-1][0].startswith("/requirements/")
    assert "CSV" in response.content.decode()
    assert client.get("/intake/export/requirements/intake.csv").status_code == 200


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        _download(client, url)
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/intake/export/requirements/intake.xlsx",
        "/intake/export/requirements/priority.csv",
        "/intake/export/requirements/management.csv",
        "/intake/export/customers.xlsx",
        "/intake/export/interactions.csv",
    ],
)
def test_export_queries_do_not_grow_with_rows(url, users, customer, client):
    from needpool.analysis.services import analysis_update
    from needpool.customers.services import contact_create, customer_create, interaction_create
    from needpool.requirements.services import requirement_create

    sales = users["sales"]
    _client(client, users["manager"])

    def grow(n: int) -> None:
        for i in range(n):
            c = customer_create(actor=sales, name=f"客户{Customer.objects.count()}", owner=sales)
            contact = contact_create(actor=sales, customer=c, name="联系人", phone="010-12345678")
            interaction_create(
                actor=sales,
                customer=c,
                contact=contact,
                occurred_at=timezone.now(),
                channel="phone",
                key_content="回访",
            )
            r = requirement_create(
                actor=sales,
                customer=c,
                contact=contact,
                title=f"需求{i}",
                tags=[option("tag", "efficiency")],
                urgency=option("urgency", "urgent"),
            )
            analysis_update(actor=users["manager"], requirement=r, urgency_score=3, importance_score=3)

    grow(2)
    few = _count(client, url)
    grow(12)
    many = _count(client, url)
    assert many == few, (few, many)
    assert many <= 12

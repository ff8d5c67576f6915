"""The mapping step: unknown values are listed once per column with a proposal, not reported row by row."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team
from needpool.customers.models import Customer
from needpool.intake.transfer.imports.handlers import Lookups
from needpool.intake.transfer.imports.mapping import (
    Choice,
    clean_mapping,
    company_key,
    proposals,
    similarity,
)
from needpool.intake.transfer.models import ImportValueMapping
from needpool.requirements.models import ClassOption, Requirement, WorkflowStatus
from tests.intake.transfer.conftest import INTAKE_HEADERS, MANAGEMENT_HEADERS

pytestmark = pytest.mark.django_db


def _intake(**values: Any) -> list[Any]:
    base = {
        "需求ID": "",
        "客户名称": "A科技公司",
        "联系人": "",
        "需求来源": "客户访谈",
        "需求类型": "功能改进",
        "描述内容": "希望增加批量订单折扣功能",
        "期望时间": "2030-06-30",
        "初步标签": "批量操作/新标签甲",
        "提交时间": "2024-03-01",
    }
    base.update(values)
    return [base[h] for h in INTAKE_HEADERS]


def _management(**values: Any) -> list[Any]:
    base = {
        "需求编号": "202405-001",
        "需求来源": "客户A电话反馈",
        "提出方信息": "A科技公司、王总",
        "需求类型": "功能",
        "需求描述": "希望在报表页面增加批量导出功能",
        "紧急程度": "一般",
        "优先级": "P2",
        "提出时间": "2024-05-06",
        "期望完成时间": "2030-09-30",
        "负责人": "product_manager",
        "当前状态": "待处理",
    }
    base.update(values)
    return [base[h] for h in MANAGEMENT_HEADERS]


def _column(result: Any, column: str) -> dict[str, Any]:
    return next(c for c in result.mapping if c["column"] == column)


def _proposal(result: Any, column: str, text: str) -> tuple[str, str]:
    value = next(v for v in _column(result, column)["values"] if v["text"] == text)
    return value["action"], value["target"]


def test_unknown_values_are_listed_once_with_proposals_and_no_row_runs(users, customer, sheet, run_sheet):
    rows = [INTAKE_HEADERS] + [_intake() for _ in range(120)]
    rows.append(_intake(客户名称="Ｂ 贸易有限公司", 需求来源="问卷调查", 需求类型="缺陷"))
    result = run_sheet(users["admin"], sheet(rows), dry_run=True, mapping_confirmed=False)
    assert result.needs_mapping and result.total == 0 and result.error_total == 0
    tags = _column(result, "tags")
    assert [(v["text"], v["count"]) for v in tags["values"]] == [("新标签甲", 121)]
    assert _proposal(result, "tags", "新标签甲") == ("create", "")
    assert _proposal(result, "channel", "客户访谈") == ("map", "interview")
    assert _proposal(result, "channel", "问卷调查") == ("map", "survey")
    improvement = ClassOption.objects.get(dimension="type", key="function_improvement")
    assert _proposal(result, "type", "功能改进") == ("map", str(improvement.pk))
    bug = ClassOption.objects.get(dimension="type", key="bug")
    assert _proposal(result, "type", "缺陷") == ("map", str(bug.pk))
    assert _proposal(result, "customer", "Ｂ 贸易有限公司") == ("create", "")
    assert "客户名称" not in [e["column"] for e in result.errors]


def test_the_proposals_import_the_sheet_and_a_preview_leaves_nothing(users, customer, sheet, run_sheet):
    path = sheet([INTAKE_HEADERS, _intake(), _intake(客户名称="B贸易有限公司")])
    scanned = run_sheet(users["admin"], path, dry_run=True, mapping_confirmed=False)
    chosen = proposals(scanned.mapping)
    preview = run_sheet(users["admin"], path, dry_run=True, mapping=chosen)
    assert preview.error_total == 0, preview.errors
    assert preview.counts["create"] == 2
    assert not ClassOption.objects.filter(label="新标签甲").exists()
    assert not Customer.objects.filter(name="B贸易有限公司").exists()
    done = run_sheet(users["admin"], path, mapping=chosen)
    assert done.error_total == 0, done.errors
    tag = ClassOption.objects.get(dimension="tag", label="新标签甲")
    created = Requirement.objects.filter(tags=tag)
    assert created.count() == 2
    assert {f.channel for r in created for f in r.feedback_items.all()} == {"interview"}
    assert Customer.objects.filter(name="B贸易有限公司").count() == 1


def test_without_the_mapping_unknown_values_stay_errors(users, customer, sheet, run_sheet):
    result = run_sheet(users["admin"], sheet([INTAKE_HEADERS, _intake()]), dry_run=True)
    assert {e["column"] for e in result.errors} >= {"需求来源", "初步标签"}


def test_a_leave_empty_choice_drops_the_value(users, customer, sheet, run_sheet):
    path = sheet([INTAKE_HEADERS, _intake()])
    scanned = run_sheet(users["admin"], path, dry_run=True, mapping_confirmed=False)
    chosen = proposals(scanned.mapping)
    chosen["tags"] = {key: Choice("ignore") for key in chosen["tags"]}
    done = run_sheet(users["admin"], path, mapping=chosen)
    assert done.error_total == 0, done.errors
    assert [t.key for t in Requirement.objects.get().tags.all()] == ["bulk_operation"]
    assert not ClassOption.objects.filter(label="新标签甲").exists()


def test_a_status_of_the_other_flow_goes_to_the_nearest_status_of_the_active_one(users, customer, sheet, run_sheet):
    path = sheet([MANAGEMENT_HEADERS, _management(当前状态="开发中")])
    scanned = run_sheet(users["product_manager"], path, dry_run=True, mapping_confirmed=False)
    in_progress = WorkflowStatus.objects.get(workflow__is_active=True, key="in_progress")
    assert _proposal(scanned, "status", "开发中") == ("map", str(in_progress.pk))
    assert _proposal(scanned, "status", "开发中") == ("map", str(in_progress.pk))
    done = run_sheet(users["product_manager"], path, dry_run=True, mapping=proposals(scanned.mapping))
    # The status is understood; the flow's own gate still decides (a sheet without 背景 / 具体诉求 stays put).
    assert [e["column"] for e in done.errors] == ["当前状态"]
    assert "未标准化" in done.errors[0]["message"]


def test_an_owner_given_as_a_role_can_be_left_to_nobody(users, customer, sheet, run_sheet):
    path = sheet([MANAGEMENT_HEADERS, _management(负责人="产品经理")])
    scanned = run_sheet(users["product_manager"], path, dry_run=True, mapping_confirmed=False)
    assert _proposal(scanned, "owner", "产品经理") == ("ignore", "")
    done = run_sheet(users["product_manager"], path, mapping=proposals(scanned.mapping))
    assert done.error_total == 0, done.errors
    assert Requirement.objects.get(code="202405-001").owner is None


def test_a_path_of_moves_is_taken_where_the_flow_has_no_direct_move(users, requirement, sheet, run_sheet):
    import datetime as dt

    from needpool.requirements.services import requirement_update

    requirement_update(
        actor=users["admin"],
        requirement=requirement,
        background="客户订单量大",
        concrete_ask="按数量分档打折",
        expected_date=dt.date(2030, 1, 1),
    )
    row = _management(需求编号=requirement.code, 当前状态="测试中", 负责人="")
    done = run_sheet(users["admin"], sheet([MANAGEMENT_HEADERS, row]))
    assert done.error_total == 0, done.errors
    requirement.refresh_from_db()
    assert requirement.status.key == "testing"
    from needpool.requirements.models import StatusChange

    moves = StatusChange.objects.filter(requirement=requirement, source__isnull=False).order_by("at", "id")
    assert list(moves.values_list("target__key", flat=True)) == ["in_progress", "testing"]


def test_an_owner_given_as_a_team_goes_to_its_lead(users, customer, sheet, run_sheet):
    team = Team.objects.create(name="产品部", lead=users["product_manager"])
    path = sheet([MANAGEMENT_HEADERS, _management(负责人="产品部")])
    scanned = run_sheet(users["product_manager"], path, dry_run=True, mapping_confirmed=False)
    assert _proposal(scanned, "owner", "产品部") == ("team", str(team.pk))
    done = run_sheet(users["product_manager"], path, mapping=proposals(scanned.mapping))
    assert done.error_total == 0, done.errors
    assert Requirement.objects.get(code="202405-001").owner == users["product_manager"]


def test_a_customer_spelled_differently_is_matched_not_created(users, customer, sheet, run_sheet):
    path = sheet([INTAKE_HEADERS, _intake(客户名称="Ａ科技有限公司")])
    scanned = run_sheet(users["admin"], path, dry_run=True, mapping_confirmed=False)
    assert "customer" not in [c["column"] for c in scanned.mapping]  # not unknown: it is A科技公司
    done = run_sheet(users["admin"], path, mapping=proposals(scanned.mapping))
    assert done.error_total == 0, done.errors
    assert Customer.objects.count() == 1
    assert Requirement.objects.get().feedback_items.get().customer == customer


def test_a_non_admin_is_not_offered_to_create_options(users, customer, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet([INTAKE_HEADERS, _intake()]), dry_run=True, mapping_confirmed=False)
    assert "create" not in _column(result, "tags")["actions"]
    assert _proposal(result, "tags", "新标签甲")[0] in ("ignore", "map")
    with pytest.raises(ValidationError):
        clean_mapping(actor=users["sales"], layout="intake", data={"tags": {"新标签甲": Choice("create")}})


def test_confirmed_choices_are_remembered_for_the_next_import(users, customer, sheet, run_sheet, settings):
    from needpool.core.models import BackgroundJob
    from needpool.intake.transfer.services import import_mapping_confirm

    path = sheet([INTAKE_HEADERS, _intake()])
    scanned = run_sheet(users["admin"], path, dry_run=True, mapping_confirmed=False)
    preview = BackgroundJob.objects.create(
        kind="import_preview",
        created_by=users["admin"],
        params={"file": "imports/none.xlsx", "result": scanned.as_dict(), "options": {}},
    )
    chosen = proposals(scanned.mapping)
    chosen["tags"] = {key: Choice("ignore") for key in chosen["tags"]}
    with pytest.raises(ValidationError):  # the stored file is gone: nothing is remembered
        import_mapping_confirm(actor=users["admin"], preview=preview, data=chosen)
    assert not ImportValueMapping.objects.exists()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    stored = default_storage.save("imports/sheet.xlsx", ContentFile(path.read_bytes()))
    preview.params = {**preview.params, "file": stored}
    preview.save()
    job = import_mapping_confirm(actor=users["admin"], preview=preview, data=chosen)
    assert job.params["mapping_confirmed"] and job.params["revises"] == preview.pk
    assert ImportValueMapping.objects.filter(layout="intake", column="tags", action="ignore").count() == 1
    again = run_sheet(users["admin"], path, dry_run=True, mapping_confirmed=False)
    assert not again.needs_mapping and again.error_total == 0, again.errors
    assert all(v["remembered"] for c in again.mapping for v in c["values"])
    assert again.mapping_used["tags"]


def test_confirming_refuses_values_not_in_the_sheet_and_missing_ones(users, customer, sheet, run_sheet):
    from needpool.core.models import BackgroundJob
    from needpool.intake.transfer.services import import_mapping_confirm

    scanned = run_sheet(users["admin"], sheet([INTAKE_HEADERS, _intake()]), dry_run=True, mapping_confirmed=False)
    preview = BackgroundJob.objects.create(
        kind="import_preview", created_by=users["admin"], params={"file": "x", "result": scanned.as_dict()}
    )
    chosen = proposals(scanned.mapping)
    with pytest.raises(ValidationError, match="不在这份表格"):
        import_mapping_confirm(
            actor=users["admin"], preview=preview, data={**chosen, "tags": {**chosen["tags"], "别的": Choice("ignore")}}
        )
    with pytest.raises(ValidationError, match="没有选择"):
        import_mapping_confirm(actor=users["admin"], preview=preview, data={**chosen, "tags": {}})
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_mapping_confirm(actor=users["product_manager"], preview=preview, data=chosen)
    assert not ImportValueMapping.objects.exists()


# ---------------------------------------------------------------- choices an attacker might post


def test_targets_the_user_may_not_see_or_of_the_wrong_kind_are_refused(users, customer, customer_b, other_sales):
    from needpool.customers.services import customer_create

    hidden = customer_create(actor=other_sales, name="别人的客户", owner=other_sales)
    urgency = ClassOption.objects.filter(dimension="urgency").first()
    inactive = ClassOption.objects.create(dimension="tag", key="old", label="旧标签", is_active=False)
    other_flow = WorkflowStatus.objects.exclude(workflow__is_active=True).first()
    lookups = Lookups()
    bad = [
        ("customer", Choice("map", str(hidden.pk))),
        ("customer", Choice("map", "code:NOPE")),
        ("tags", Choice("map", str(urgency.pk))),
        ("tags", Choice("map", str(inactive.pk))),
        ("type", Choice("team", "1")),
        ("channel", Choice("map", "carrier_pigeon")),
        ("channel", Choice("create")),
    ]
    for column, choice in bad:
        with pytest.raises(ValidationError):
            clean_mapping(actor=users["sales"], layout="intake", data={column: {"x": choice}}, lookups=lookups)
    with pytest.raises(ValidationError):
        clean_mapping(
            actor=users["admin"],
            layout="management",
            data={"status": {"x": Choice("map", str(other_flow.pk))}},
            lookups=lookups,
        )
    with pytest.raises(ValidationError):
        clean_mapping(actor=users["admin"], layout="intake", data={"owner": {"x": Choice("ignore")}})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    column=st.sampled_from(["customer", "channel", "type", "urgency", "tags", "owner", "status", "priority"]),
    action=st.sampled_from(["map", "create", "ignore", "team", "", "MAP", "delete"]),
    target=st.one_of(st.integers(min_value=-5, max_value=10**6).map(str), st.text(max_size=12)),
)
def test_any_posted_choice_is_either_refused_or_points_at_something_the_user_may_use(
    users, customer, other_sales, column, action, target
):
    layout = "management" if column in ("owner", "status", "priority") else "intake"
    before = (ClassOption.objects.count(), Customer.objects.count(), ImportValueMapping.objects.count())
    try:
        cleaned = clean_mapping(actor=users["sales"], layout=layout, data={column: {"v": Choice(action, target)}})
    except ValidationError:
        pass
    else:
        choice = cleaned[column]["v"]
        assert choice.action in ("map", "create", "ignore", "team")
        if column == "customer" and choice.action == "map":
            assert Customer.objects.filter(pk=int(choice.target)).exists()
            from needpool.customers.permissions import visible_customers

            assert visible_customers(users["sales"]).filter(pk=int(choice.target)).exists()
        if column in ("type", "urgency", "tags"):
            assert choice.action != "create"  # sales may not create options
            if choice.action == "map":
                assert ClassOption.objects.filter(pk=int(choice.target), is_active=True).exists()
    assert (ClassOption.objects.count(), Customer.objects.count(), ImportValueMapping.objects.count()) == before


# ---------------------------------------------------------------- matching rules


@given(st.text(alphabet=st.sampled_from("ABCxyz科技贸易甲乙 　Ａ"), min_size=1, max_size=12))
def test_company_key_folds_width_spaces_and_suffixes(name):
    import unicodedata

    key = company_key(name)
    assert company_key(unicodedata.normalize("NFKC", name)) == key
    assert company_key(f" {name}　") == key
    if key:
        assert company_key(name + "有限公司") == company_key(name + "公司") == key
        assert company_key(name + " 股份有限公司") == key
    assert company_key("公司") == "公司"  # a name that is only a suffix stays itself


def test_similarity_is_symmetric_in_its_extremes():
    assert similarity("批量操作", "批量操作") == 1.0
    assert similarity("", "批量操作") == 0.0
    assert similarity("批量操作功能", "批量操作") >= 0.8


# ---------------------------------------------------------------- the pages


def _signed_in(client: Any, user: Any) -> Any:
    from tests.conftest import PASSWORD

    client.login(username=user.username, password=PASSWORD)
    return client


def test_upload_shows_the_mapping_form_and_confirming_previews_the_rows(
    users, customer, client, sheet, django_capture_on_commit_callbacks
):
    import re

    from needpool.core.models import BackgroundJob

    _signed_in(client, users["admin"])
    path = sheet([INTAKE_HEADERS, _intake(), _intake(客户名称="B贸易有限公司")])
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": "", "apply_status": "on"})
    first = BackgroundJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert 'id="mapping-form"' in page and 'id="run-import-button"' not in page
    assert "新标签甲" in page and "客户访谈" in page and "B贸易有限公司" in page
    selects = re.findall(r'<select class="form-select form-select-sm" name="(v-[a-z_]+-\d+)"', page)
    assert set(selects) == {"v-customer-0", "v-channel-0", "v-type-0", "v-tags-0"}
    refused = client.post(f"/intake/import/jobs/{first.pk}/run/", follow=True).content.decode()
    assert "请先确认" in refused
    chosen = {
        name: re.search(rf'name="{name}".*?<option value="([^"]*)" selected', page, re.S).group(1) for name in selects
    }
    assert chosen["v-channel-0"] == "map:interview"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/intake/import/jobs/{first.pk}/mapping/", {**chosen, "all-tags": "ignore"})
    second = BackgroundJob.objects.exclude(pk=first.pk).get()
    assert confirmed["Location"].endswith(f"/{second.pk}/")
    result_page = client.get(confirmed["Location"]).content.decode()
    assert 'id="run-import-button"' in result_page and 'id="mapping-applied"' in result_page
    assert second.params["result"]["counts"]["create"] == 2
    assert ImportValueMapping.objects.get(column="tags").action == "ignore"
    # The first preview was replaced: it can no longer run or be confirmed again into a third job.
    assert "已被更新的预览取代" in client.post(f"/intake/import/jobs/{first.pk}/run/", follow=True).content.decode()
    # Asking again shows the form with the remembered choices.
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(f"/intake/import/jobs/{second.pk}/mapping/", {"ask": "1"})
    third = BackgroundJob.objects.order_by("-pk").first()
    assert third.pk not in (first.pk, second.pk)
    again = client.get(asked["Location"]).content.decode()
    assert 'id="mapping-form"' in again and "上次的选择" in again


def test_another_user_cannot_confirm_a_mapping(users, customer, client, sheet, django_capture_on_commit_callbacks):
    from needpool.core.models import BackgroundJob

    _signed_in(client, users["admin"])
    path = sheet([INTAKE_HEADERS, _intake()])
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as stream:
        client.post("/intake/import/", {"file": stream, "layout": ""})
    job = BackgroundJob.objects.get()
    _signed_in(client, users["product_manager"])
    assert client.post(f"/intake/import/jobs/{job.pk}/mapping/", {"all-tags": "ignore"}).status_code == 404
    assert BackgroundJob.objects.count() == 1 and not ImportValueMapping.objects.exists()


def test_status_errors_offer_a_preview_that_leaves_statuses_as_they_are(
    users, customer, client, sheet, django_capture_on_commit_callbacks
):
    import re

    from needpool.core.models import BackgroundJob

    user = users["product_manager"]
    _signed_in(client, user)
    path = sheet([MANAGEMENT_HEADERS, _management(当前状态="开发中")])
    with django_capture_on_commit_callbacks(execute=True), open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": "", "apply_status": "on"})
    first = BackgroundJob.objects.get()
    page = client.get(response["Location"]).content.decode()
    chosen = dict(re.findall(r'name="(v-[a-z_]+-\d+)".*?<option value="([^"]*)" selected', page, re.S))
    assert chosen["v-status-0"].startswith("map:")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/intake/import/jobs/{first.pk}/mapping/", chosen)
    gated = client.get(response["Location"]).content.decode()
    assert 'id="keep-status-button"' in gated and "未标准化" in gated
    second = BackgroundJob.objects.order_by("-pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/intake/import/jobs/{second.pk}/options/", {"apply_status": "0"})
    third = BackgroundJob.objects.order_by("-pk").first()
    assert third.params["options"]["apply_status"] is False and third.params["mapping_confirmed"]
    done = client.get(response["Location"]).content.decode()
    assert 'id="run-import-button"' in done and 'id="keep-status-button"' not in done


def test_a_value_offers_its_proposal_and_the_nearest_targets_when_there_are_many():
    from needpool.intake.transfer.views import MANY_TARGETS, _mapping_columns

    targets = [{"id": str(i), "label": f"用户{i}号"} for i in range(MANY_TARGETS + 40)]
    targets.append({"id": "999", "label": "王小明"})
    column = {
        "column": "owner",
        "domain": "owner",
        "actions": ["map", "team", "ignore"],
        "targets": targets,
        "teams": [],
        "values": [{"key": "王小名", "text": "王小名", "action": "map", "target": "5", "count": 1, "first_row": 2}],
    }
    (shown,) = _mapping_columns({"mapping": [column]})[0]["shown"]
    values = [c["value"] for c in shown["choices"]]
    assert len(values) <= 22 and "map:5" in values and "map:999" in values
    assert [c["value"] for c in shown["choices"] if c["selected"]] == ["map:5"]

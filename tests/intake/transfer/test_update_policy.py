"""Updates are explicit: a sheet's different value updates an existing record by the column's update policy
(fill empty fields by default, overwrite, skip), every difference is shown, and a shortened text never
replaces a longer one."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.analysis.models import RequirementAnalysis
from needpool.core.models import BackgroundJob
from needpool.customers.models import Customer
from needpool.intake.transfer.imports.handlers import ImportOptions
from needpool.intake.transfer.imports.values import is_shortened
from needpool.requirements.models import Requirement
from tests.conftest import PASSWORD, option
from tests.intake.transfer.conftest import INTAKE_HEADERS, MANAGEMENT_HEADERS, PRIORITY_HEADERS, RELATIONSHIP_HEADERS

pytestmark = pytest.mark.django_db

LONG = "希望增加批量订单折扣功能,支持按客户等级设置不同折扣规则"


def _intake(code, description="", type_="", expected=""):
    return [INTAKE_HEADERS, [code, "", "", "", type_, description, expected, "", ""]]


@pytest.fixture
def long_requirement(requirement):
    Requirement.objects.filter(pk=requirement.pk).update(description=LONG, expected_date=None)
    requirement.refresh_from_db()
    return requirement


def _diff(result, key):
    return next(d for d in result.rows[0]["diffs"] if d["key"] == key)


def test_default_fill_keeps_a_filled_field_and_shows_the_difference(users, long_requirement, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet(_intake(long_requirement.code, "改为按会员积分抵扣运费", "体验")))
    assert result.error_total == 0, result.errors
    assert result.counts["unchanged"] == 1 and result.rows[0]["changes"] == []
    description = _diff(result, "description")
    assert description == {
        "column": "描述内容",
        "key": "description",
        "old": LONG,
        "new": "改为按会员积分抵扣运费",
        "applied": False,
        "reason": "已有值：只填空值时保留原值。",
        "policy": "fill",
    }
    assert _diff(result, "type")["old"] == "功能优化" and _diff(result, "type")["new"] == "体验"
    long_requirement.refresh_from_db()
    assert long_requirement.description == LONG
    assert long_requirement.type == option("type", "function_improvement")


def test_default_fill_fills_an_empty_field(users, long_requirement, sheet, run_sheet):
    result = run_sheet(users["sales"], sheet(_intake(long_requirement.code, expected="2030-06-30")))
    assert result.counts["update"] == 1 and result.rows[0]["changes"] == ["期望时间"]
    assert _diff(result, "expected_date") | {"reason": ""} == {
        "column": "期望时间",
        "key": "expected_date",
        "old": "",
        "new": "2030-06-30",
        "applied": True,
        "reason": "",
        "policy": "fill",
    }
    long_requirement.refresh_from_db()
    assert str(long_requirement.expected_date) == "2030-06-30"


def test_overwrite_applies_and_skip_ignores(users, long_requirement, sheet, run_sheet):
    rows = _intake(long_requirement.code, "改为按会员积分抵扣运费", "体验", "2030-06-30")
    skipped = run_sheet(users["sales"], sheet(rows), update_policy={"expected_date": "skip"})
    assert skipped.counts["unchanged"] == 1
    assert _diff(skipped, "expected_date")["applied"] is False  # even an empty field is left alone
    assert _diff(skipped, "expected_date")["reason"] == "按所选方式跳过此列。"
    long_requirement.refresh_from_db()
    assert long_requirement.expected_date is None

    policy = {"description": "overwrite", "type": "overwrite", "expected_date": "skip"}
    result = run_sheet(users["sales"], sheet(rows), update_policy=policy)
    assert result.error_total == 0, result.errors
    assert result.rows[0]["changes"] == ["描述内容", "需求类型"]
    assert [(d["key"], d["applied"]) for d in result.rows[0]["diffs"]] == [
        ("description", True),
        ("type", True),
        ("tags", False),  # the blank cell would clear the tags only with "overwrite"
        ("expected_date", False),
    ]
    long_requirement.refresh_from_db()
    assert long_requirement.description == "改为按会员积分抵扣运费"
    assert long_requirement.type == option("type", "experience")
    assert long_requirement.expected_date is None


def test_a_shortened_text_never_replaces_a_longer_one_even_with_overwrite(users, long_requirement, sheet, run_sheet):
    for policy in ({}, {"description": "overwrite"}):
        result = run_sheet(
            users["sales"], sheet(_intake(long_requirement.code, "批量订单折扣功能")), update_policy=policy
        )
        assert result.error_total == 0, result.errors
        assert result.counts["unchanged"] == 1
        diff = _diff(result, "description")
        assert (diff["old"], diff["new"], diff["applied"]) == (LONG, "批量订单折扣功能", False)
        assert "缩写" in diff["reason"]
    assert any("未覆盖" in w and "批量订单折扣功能" in w for w in result.rows[0]["warnings"])
    long_requirement.refresh_from_db()
    assert long_requirement.description == LONG
    # A longer text is not a shortening: with overwrite it replaces the record's.
    longer = LONG + "，并支持叠加优惠券"
    result = run_sheet(users["sales"], sheet(_intake(long_requirement.code, longer)), update_policy=policy)
    assert result.rows[0]["changes"] == ["描述内容"]
    long_requirement.refresh_from_db()
    assert long_requirement.description == longer


def test_management_priority_owner_and_status(users, requirement, sheet, run_sheet):
    row = dict.fromkeys(MANAGEMENT_HEADERS, "")
    row |= {"需求编号": requirement.code, "优先级": "P1", "负责人": "product_manager", "当前状态": "已拒绝"}
    Requirement.objects.filter(pk=requirement.pk).update(priority="P2")
    path = sheet([MANAGEMENT_HEADERS, [row[h] for h in MANAGEMENT_HEADERS]])
    owner_before = Requirement.objects.get(pk=requirement.pk).owner
    # Status follows the upload's choice (here: not moved); priority is filled already.
    kept = run_sheet(users["product_manager"], path, apply_status=False)
    assert kept.error_total == 0, kept.errors
    diffs = {d["key"]: d for d in kept.rows[0]["diffs"]}
    assert diffs["priority"]["applied"] is False and diffs["status"]["applied"] is False
    assert diffs["status"]["new"] == "已拒绝" and diffs["status"]["policy"] == "skip"
    assert (diffs["owner"]["applied"], diffs["owner"]["policy"]) == (owner_before is None, "fill")
    fresh = Requirement.objects.get(pk=requirement.pk)
    assert fresh.priority == "P2" and fresh.status.key != "rejected"
    # A status "fill" keeps it even when the upload asked for status moves.
    filled = run_sheet(users["product_manager"], path, update_policy={"status": "fill"})
    assert {d["key"]: d["applied"] for d in filled.rows[0]["diffs"]}["status"] is False
    assert Requirement.objects.get(pk=requirement.pk).status.key != "rejected"
    done = run_sheet(
        users["product_manager"],
        path,
        update_policy={"priority": "overwrite", "owner": "overwrite", "status": "overwrite"},
    )
    assert done.error_total == 0, done.errors
    assert done.rows[0]["changes"] == ["优先级", "负责人", "当前状态"]
    fresh = Requirement.objects.get(pk=requirement.pk)
    assert (fresh.priority, fresh.owner, fresh.status.key) == ("P1", users["product_manager"], "rejected")


def test_priority_scores_and_insights(users, requirement, sheet, run_sheet):
    headers = [*PRIORITY_HEADERS, "痛点"]
    first = run_sheet(
        users["product_manager"], sheet([headers, [requirement.code, "", 2, 2, "手工核对折扣，容易出错"]])
    )
    assert first.rows[0]["changes"] == ["紧急程度(1-5分,5最急)", "重要性(1-5分,5最重要)", "痛点"]  # all were empty
    again = run_sheet(users["product_manager"], sheet([headers, [requirement.code, "", 5, 2, "手工核对"]]))
    assert again.counts["unchanged"] == 1
    analysis = RequirementAnalysis.objects.get(requirement=requirement)
    assert (analysis.urgency_score, analysis.pain_points) == (2, "手工核对折扣，容易出错")
    policy = {"urgency_score": "overwrite", "pain_points": "overwrite"}
    done = run_sheet(
        users["product_manager"], sheet([headers, [requirement.code, "", 5, 2, "手工核对"]]), update_policy=policy
    )
    assert done.rows[0]["changes"] == ["紧急程度(1-5分,5最急)"]  # the shortened pain point is kept
    analysis.refresh_from_db()
    assert (analysis.urgency_score, analysis.pain_points) == (5, "手工核对折扣，容易出错")


def _relationship_row(**values):
    row = dict.fromkeys(RELATIONSHIP_HEADERS, "")
    row.update(values)
    return [row[h] for h in RELATIONSHIP_HEADERS]


def test_relationship_customer_and_contact_follow_the_policy(users, customer, sheet, run_sheet):
    Customer.objects.filter(pk=customer.pk).update(notes="")
    row = _relationship_row(
        客户编号=customer.code, 客户名称="A科技公司", 所属行业="制造业", 对接人="王总", 职位="总经理", 备注="年底续约"
    )
    result = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, row]))
    assert result.error_total == 0, result.errors
    assert result.rows[0]["changes"] == ["备注"]
    assert {d["key"]: d["applied"] for d in result.rows[0]["diffs"]} == {
        "industry": False,
        "notes": True,
        "title": False,
        "contact_info": False,  # a blank cell is a difference too: only "overwrite" clears the field
    }
    customer.refresh_from_db()
    assert (customer.industry, customer.notes) == ("互联网", "年底续约")
    assert customer.contacts.get(name="王总").title == "采购总监"
    policy = {"industry": "overwrite", "title": "overwrite"}
    done = run_sheet(users["sales"], sheet([RELATIONSHIP_HEADERS, row]), update_policy=policy)
    assert done.rows[0]["changes"] == ["所属行业", "职位"]
    customer.refresh_from_db()
    assert customer.industry == "制造业" and customer.contacts.get(name="王总").title == "总经理"


def test_options_keep_the_update_policy_through_job_params():
    options = ImportOptions(apply_status=False, update_policy={"description": "overwrite", "type": "skip"})
    again = ImportOptions.from_dict(options.as_dict())
    assert again == options
    assert again.policy("description") == "overwrite" and again.policy("urgency") == "fill"
    odd = ImportOptions.from_dict({"update_policy": {"type": "replace", "tags": "skip"}, "create_customers": 1})
    assert odd.update_policy == {"tags": "skip"} and odd.create_customers is True
    assert ImportOptions.from_dict({"update_policy": "overwrite"}).update_policy == {}


# ---------------------------------------------------------------- the shortened-text rule

_TEXT = st.text(alphabet=st.sampled_from(list("批量订单折扣功能支持客户级别abcXYZ12")), min_size=1, max_size=30)


@given(old=_TEXT, data=st.data())
def test_a_contiguous_part_of_a_text_is_a_shortening(old, data):
    start = data.draw(st.integers(0, len(old) - 1))
    end = data.draw(st.integers(start, len(old)))
    part = old[start:end]
    assert is_shortened(part, old) == (len(part) < len(old))
    # Spaces, punctuation, width and a trailing ellipsis do not change the answer.
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in part)
    assert is_shortened(f" {wide}…", old) == is_shortened(part, old)


@given(old=_TEXT, new=_TEXT)
def test_a_shortening_is_shorter_and_adds_nothing(old, new):
    if is_shortened(new, old):
        assert len(new) < len(old) and new.casefold() in old.casefold()
    assert not is_shortened(old, old)
    assert not is_shortened(old + new, old)  # a longer text never is
    assert not is_shortened(new + "新", old.replace("新", ""))  # nor one saying something the old does not


# ---------------------------------------------------------------- the preview's policy form


def _signed_in(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def _preview(client, path, capture):
    with capture(execute=True), open(path, "rb") as stream:
        response = client.post("/intake/import/", {"file": stream, "layout": "", "apply_status": "on"})
    assert response.status_code == 302
    return BackgroundJob.objects.filter(kind="import_preview").latest("id")


def test_the_preview_shows_the_differences_and_previews_again_with_the_chosen_policy(
    users, long_requirement, client, sheet, django_capture_on_commit_callbacks
):
    _signed_in(client, users["sales"])
    path = sheet(_intake(long_requirement.code, "改为按会员积分抵扣运费", "体验"))
    preview = _preview(client, path, django_capture_on_commit_callbacks)
    assert preview.status == "done", preview.message
    page = client.get(f"/intake/import/jobs/{preview.pk}/").content.decode()
    assert 'id="update-policy-form"' in page and "按所选方式重新预览" in page
    assert 'name="policy-description"' in page and 'name="policy-type"' in page
    assert 'class="import-diff" data-key="description" data-applied="0"' in page
    assert "改为按会员积分抵扣运费" in page and LONG in page

    # Someone else cannot revise it (not found), and one's own import job is not a preview (refused).
    _signed_in(client, users["service"])
    assert client.post(f"/intake/import/jobs/{preview.pk}/policy/", {"policy-type": "overwrite"}).status_code == 404
    assert BackgroundJob.objects.count() == 1

    _signed_in(client, users["sales"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/intake/import/jobs/{preview.pk}/policy/",
            {"policy-type": "overwrite", "policy-description": "skip", "policy-urgency": "overwrite"},
        )
    revised = BackgroundJob.objects.filter(kind="import_preview").latest("id")
    assert revised.pk != preview.pk
    assert response["Location"] == f"/intake/import/jobs/{revised.pk}/"
    # Only the columns the preview showed differences for are taken.
    assert revised.params["options"]["update_policy"] == {"type": "overwrite", "description": "skip"}
    revised.refresh_from_db()
    assert revised.status == "done", revised.message
    row = revised.params["result"]["rows"][0]
    assert row["action"] == "update" and row["changes"] == ["需求类型"]
    page = client.get(response["Location"]).content.decode()
    assert '<option value="overwrite" selected>' in page
    long_requirement.refresh_from_db()
    assert long_requirement.type == option("type", "function_improvement")  # a preview writes nothing
    # The replaced preview is not revised again, and it can no longer run.
    assert client.get(f"/intake/import/jobs/{preview.pk}/").content.decode().count('id="update-policy-form"') == 0


def test_only_a_preview_can_be_revised(users, client):
    run = BackgroundJob.objects.create(kind="import_run", created_by=users["sales"], params={"file": "x.xlsx"})
    _signed_in(client, users["sales"])
    assert client.post(f"/intake/import/jobs/{run.pk}/policy/", {}).status_code == 403


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    policy=st.dictionaries(st.sampled_from(["type", "urgency", "tags"]), st.sampled_from(["fill", "overwrite", "skip"]))
)
def test_any_policy_survives_the_job_params(policy):
    options = ImportOptions(update_policy=policy)
    assert ImportOptions.from_dict(options.as_dict()).update_policy == policy


def test_a_difference_beyond_the_rows_kept_for_the_page_still_offers_its_column(users, long_requirement, sheet):
    from needpool.intake.transfer import services
    from needpool.intake.transfer.policy_views import policy_columns

    new_rows = [["", "", "", "", "", f"新需求{i}", "2030-01-01", "", ""] for i in range(3)]
    rows = [INTAKE_HEADERS, *new_rows, _intake(long_requirement.code, "改为按会员积分抵扣运费")[1]]
    result = services.run_import(
        actor=users["sales"], path=sheet(rows), dry_run=True, mapping_confirmed=True, keep_rows=2
    )
    assert result.error_total == 0, result.errors
    # The flagged new rows are kept for the page; the update row with the differences is not.
    assert len(result.rows) == 2 and all(not row["diffs"] for row in result.rows)
    assert result.diff_columns["description"]["count"] == 1
    job = BackgroundJob.objects.create(
        kind="import_preview", created_by=users["sales"], status="done", params={"result": result.as_dict()}
    )
    assert "description" in [c["key"] for c in policy_columns(job)]

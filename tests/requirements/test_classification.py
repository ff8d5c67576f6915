"""Classification rules edited in the app: validation, audit (old → new), the rule version, a requirement's
recorded version, the SLA decision and the quarterly review reminder."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from needpool.core.concurrency import StaleVersion
from needpool.core.models import AuditEntry, Notification
from needpool.requirements.models import (
    ClassificationReminder,
    ClassificationReview,
    ClassificationRuleVersion,
    ClassOption,
    Requirement,
)
from needpool.requirements.services import (
    current_rule_version,
    option_create,
    option_move,
    option_set_active,
    option_update,
    options_reorder,
    requirement_create,
    requirement_update,
    rules_review_mark,
    rules_review_remind,
)
from needpool.requirements.services.classification import quarter_of, review_due
from tests.conftest import option
from tests.intake.transfer.conftest import INTAKE_HEADERS, run_sheet, sheet  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _audit(obj: ClassOption) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ClassOption), object_id=obj.pk
        ).order_by("id")
    )


# ---------------------------------------------------------------- create and edit


def test_an_admin_adds_a_tag_at_the_end_and_the_rule_version_moves_on(admin_user):
    start = current_rule_version()
    tag = option_create(actor=admin_user, dimension="tag", key="data_export", label="数据导出", label_en="Data export")
    last = ClassOption.objects.filter(dimension="tag").exclude(pk=tag.pk).order_by("-sort_order").first()
    assert tag.sort_order > last.sort_order
    assert current_rule_version() == start + 1
    version = ClassificationRuleVersion.objects.get(number=start + 1)
    assert version.created_by == admin_user and "数据导出" in version.summary
    [entry] = _audit(tag)
    assert entry.action == AuditEntry.Action.CREATE and entry.changes["label"] == "数据导出"


def test_an_edit_is_audited_old_to_new_and_summarised(admin_user):
    urgent = option("urgency", "urgent")
    option_update(actor=admin_user, option=urgent, sla_hours=12, label="特急")
    [entry] = _audit(urgent)
    assert entry.changes == {"label": ["紧急", "特急"], "sla_hours": [24, 12]}
    assert entry.actor == admin_user
    summary = ClassificationRuleVersion.objects.order_by("-number").first().summary
    assert "24 → 12" in summary and "紧急 → 特急" in summary
    urgent.refresh_from_db()
    assert urgent.version == 2


def test_an_edit_that_changes_nothing_makes_no_version(admin_user):
    urgent = option("urgency", "urgent")
    start = current_rule_version()
    option_update(actor=admin_user, option=urgent, label="紧急", sla_hours=24)
    assert current_rule_version() == start and not _audit(urgent)


@pytest.mark.parametrize(
    ("dimension", "data", "field", "message"),
    [
        ("tag", {"key": "bulk_operation", "label": "新的"}, "key", "已在“标签”中使用"),
        ("tag", {"key": "fresh", "label": "批量操作"}, "label", "名称“批量操作”已在“标签”中使用"),
        ("tag", {"key": "fresh", "label": "新的", "label_en": "bulk operation"}, "label_en", "英文名称"),
        ("tag", {"key": "Fresh Key", "label": "新的"}, "key", "小写英文字母"),
        ("tag", {"key": "", "label": "新的"}, "key", "请填写键"),
        ("tag", {"key": "fresh", "label": "  "}, "label", "请填写名称"),
        ("tag", {"key": "fresh", "label": "长" * 61}, "label", "最多 60 个字"),
        ("urgency", {"key": "fresh", "label": "新的", "sla_hours": 0}, "sla_hours", "1 到 8760"),
        ("urgency", {"key": "fresh", "label": "新的", "sla_hours": 8761}, "sla_hours", "1 到 8760"),
        ("tag", {"key": "fresh", "label": "新的", "sla_hours": 24}, "sla_hours", "只有紧急程度"),
        ("tag", {"key": "fresh", "label": "新的", "sort_order": 40000}, "sort_order", "0 到 32767"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_writes_nothing(admin_user, dimension, data, field, message):
    before = (ClassOption.objects.count(), current_rule_version(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as caught:
        option_create(actor=admin_user, dimension=dimension, **data)
    assert message in " ".join(caught.value.message_dict[field])
    assert (ClassOption.objects.count(), current_rule_version(), AuditEntry.objects.count()) == before


def test_an_unknown_dimension_or_field_is_refused(admin_user):
    with pytest.raises(ValidationError):
        option_create(actor=admin_user, dimension="colour", key="red", label="红")
    with pytest.raises(ValidationError):
        option_update(actor=admin_user, option=option("tag", "efficiency"), dimension="type")


def test_parents_only_within_types_and_categories_and_never_in_a_cycle(admin_user):
    function = option("type", "function")
    improvement = option("type", "function_improvement")  # under 功能 already
    with pytest.raises(ValidationError, match="自己下级"):
        option_update(actor=admin_user, option=function, parent=improvement)
    with pytest.raises(ValidationError, match="自己下级"):
        option_update(actor=admin_user, option=function, parent=function)
    with pytest.raises(ValidationError, match="同一分类"):
        option_update(actor=admin_user, option=function, parent=option("category", "business"))
    with pytest.raises(ValidationError, match="只有需求类型"):
        option_update(actor=admin_user, option=option("tag", "efficiency"), parent=option("tag", "bulk_operation"))
    group = option_create(actor=admin_user, dimension="category", key="non_functional", label="非功能需求")
    option_update(actor=admin_user, option=option("category", "performance"), parent=group)
    assert option("category", "performance").parent == group


def test_a_key_taken_at_the_last_moment_is_a_message_not_a_crash(admin_user, monkeypatch):
    from needpool.requirements.services import classification

    monkeypatch.setattr(classification, "_clean", lambda dimension, data, option: data)
    with pytest.raises(ValidationError, match="已在使用"):
        option_create(actor=admin_user, dimension="tag", key="efficiency", label="另一个")
    with pytest.raises(ValidationError, match="已在使用"):
        option_update(actor=admin_user, option=option("tag", "efficiency"), key="bulk_operation")


def test_a_stale_version_is_refused(admin_user):
    tag = option("tag", "efficiency")
    option_update(actor=admin_user, option=tag, label="提效", expected_version=1)
    with pytest.raises(StaleVersion):
        option_update(actor=admin_user, option=tag, label="效率", expected_version=1)
    assert option("tag", "efficiency").label == "提效"


# ---------------------------------------------------------------- deactivate, reorder


def test_deactivating_keeps_what_was_classified_and_hides_it_from_new_choices(admin_user, requirement):
    from needpool.requirements.selectors import options

    urgent = option("urgency", "urgent")
    requirement_update(actor=admin_user, requirement=requirement, urgency=urgent)
    option_set_active(actor=admin_user, option=urgent, active=False)
    requirement.refresh_from_db()
    assert requirement.urgency == urgent
    assert urgent not in options("urgency")
    assert _audit(urgent)[-1].changes == {"is_active": [True, False]}
    option_set_active(actor=admin_user, option=urgent, active=True)
    assert urgent in options("urgency")


def test_a_parent_with_active_children_or_the_last_active_option_stays_active(admin_user):
    with pytest.raises(ValidationError, match="下级选项"):
        option_set_active(actor=admin_user, option=option("type", "function"), active=False)
    option_set_active(actor=admin_user, option=option("source", "implicit"), active=False)
    with pytest.raises(ValidationError, match="至少要保留一个"):
        option_set_active(actor=admin_user, option=option("source", "explicit"), active=False)


def test_reorder_and_move(admin_user):
    urgencies = list(ClassOption.objects.filter(dimension="urgency").order_by("sort_order"))
    start = current_rule_version()
    options_reorder(actor=admin_user, dimension="urgency", ordered_ids=[o.pk for o in reversed(urgencies)])
    assert [o.key for o in ClassOption.objects.filter(dimension="urgency").order_by("sort_order")] == [
        "normal",
        "important",
        "urgent",
    ]
    assert current_rule_version() == start + 1
    assert "调整紧急程度的顺序" in ClassificationRuleVersion.objects.get(number=start + 1).summary
    option_move(actor=admin_user, option=option("urgency", "urgent"), offset=-1)
    assert [o.key for o in ClassOption.objects.filter(dimension="urgency").order_by("sort_order")] == [
        "normal",
        "urgent",
        "important",
    ]
    # Moving the first one up changes nothing and makes no version.
    now = current_rule_version()
    option_move(actor=admin_user, option=option("urgency", "normal"), offset=-1)
    assert current_rule_version() == now


@pytest.mark.parametrize("ids", ["empty", "missing", "duplicate", "foreign"])
def test_a_reorder_must_list_each_option_once(admin_user, ids):
    own = list(ClassOption.objects.filter(dimension="urgency").values_list("pk", flat=True))
    given = {
        "empty": [],
        "missing": own[:-1],
        "duplicate": [*own, own[0]],
        "foreign": [*own[:-1], option("tag", "efficiency").pk],
    }[ids]
    with pytest.raises(ValidationError, match="恰好列出"):
        options_reorder(actor=admin_user, dimension="urgency", ordered_ids=given)
    with pytest.raises(ValidationError):
        options_reorder(actor=admin_user, dimension="colour", ordered_ids=own)


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "service", "engineer", "compliance", "viewer"])
def test_only_admins_write(users, role):
    actor = users[role]
    tag = option("tag", "efficiency")
    calls = [
        lambda: option_create(actor=actor, dimension="tag", key="x", label="x"),
        lambda: option_update(actor=actor, option=tag, label="x"),
        lambda: option_set_active(actor=actor, option=tag, active=False),
        lambda: options_reorder(actor=actor, dimension="tag", ordered_ids=[tag.pk]),
        lambda: rules_review_mark(actor=actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


# ---------------------------------------------------------------- the rule version on requirements


def test_a_requirement_records_the_rule_version_it_was_classified_under(admin_user, users, customer):
    first = requirement_create(actor=users["sales"], title="批量导出", customer=customer)
    assert first.rule_version == current_rule_version()
    option_update(actor=admin_user, option=option("tag", "efficiency"), label="提效")
    later = current_rule_version()
    assert later == first.rule_version + 1
    # An edit that does not classify keeps the version; a classification change records the new one.
    requirement_update(actor=admin_user, requirement=first, description="补充说明")
    first.refresh_from_db()
    assert first.rule_version == later - 1
    requirement_update(actor=admin_user, requirement=first, tags=[option("tag", "efficiency")])
    first.refresh_from_db()
    assert first.rule_version == later
    second = requirement_create(actor=users["sales"], title="另一个", customer=customer)
    assert second.rule_version == later


@pytest.mark.parametrize("field", ["type", "urgency", "nature", "source", "category"])
def test_each_classifying_field_stamps_the_version(admin_user, requirement, field):
    option_update(actor=admin_user, option=option("tag", "efficiency"), label="提效")
    choice = ClassOption.objects.filter(dimension=field, is_active=True).exclude(pk=getattr(requirement, f"{field}_id"))
    requirement_update(actor=admin_user, requirement=requirement, **{field: choice.first()})
    requirement.refresh_from_db()
    assert requirement.rule_version == current_rule_version()


def test_the_rules_start_at_version_one():
    assert ClassificationRuleVersion.objects.filter(number=1).exists()
    assert current_rule_version() >= 1


# ---------------------------------------------------------------- the SLA decision


def test_new_sla_hours_apply_to_what_is_classified_from_then_on(admin_user, users, customer):
    urgent = option("urgency", "urgent")
    before = requirement_create(actor=users["sales"], title="旧的", customer=customer, urgency=urgent)
    due_before = before.first_response_due
    assert due_before == before.submitted_at + dt.timedelta(hours=24)
    option_update(actor=admin_user, option=urgent, sla_hours=4)
    # The existing requirement keeps its deadline, even when the same urgency is sent again (an edit form).
    requirement_update(actor=admin_user, requirement=before, urgency=option("urgency", "urgent"), title="旧的 2")
    before.refresh_from_db()
    assert before.first_response_due == due_before
    urgent = option("urgency", "urgent")
    after = requirement_create(actor=users["sales"], title="新的", customer=customer, urgency=urgent)
    assert after.first_response_due == after.submitted_at + dt.timedelta(hours=4)
    # Changing to that urgency later uses the hours of that moment.
    normal = requirement_create(
        actor=users["sales"], title="一般", customer=customer, urgency=option("urgency", "normal")
    )
    requirement_update(actor=admin_user, requirement=normal, urgency=urgent)
    normal.refresh_from_db()
    assert normal.first_response_due == normal.submitted_at + dt.timedelta(hours=4)


# ---------------------------------------------------------------- the quarterly review


def test_marking_reviewed_records_who_and_the_version(admin_user):
    review = rules_review_mark(actor=admin_user, note="本季度无需调整")
    assert review.rule_version == current_rule_version() and review.reviewed_by == admin_user
    assert AuditEntry.objects.filter(object_id=review.pk, action=AuditEntry.Action.CREATE).exists()
    with pytest.raises(ValidationError, match="300"):
        rules_review_mark(actor=admin_user, note="长" * 301)


def test_quarters():
    assert quarter_of(dt.date(2026, 1, 1)) == ("2026Q1", dt.date(2026, 1, 1))
    assert quarter_of(dt.date(2026, 6, 30)) == ("2026Q2", dt.date(2026, 4, 1))
    assert quarter_of(dt.date(2026, 12, 6)) == ("2026Q4", dt.date(2026, 10, 1))


def _admins_told() -> int:
    return Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP, text__contains="复核分类规则").count()


def test_the_reminder_goes_to_admins_once_per_quarter(users, make_user):
    second_admin = make_user("admin", username="admin-2")
    make_user("admin", username="gone", is_active=False)
    ClassificationRuleVersion.objects.update(created_at=timezone.now())
    assert rules_review_remind(today=dt.date(2026, 10, 2)) == 0  # not the first day, rules are new
    assert rules_review_remind(today=dt.date(2026, 10, 1)) == 2
    recipients = set(Notification.objects.filter(text__contains="复核分类规则").values_list("recipient", flat=True))
    assert recipients == {users["admin"].pk, second_admin.pk}
    assert rules_review_remind(today=dt.date(2026, 10, 1)) == 0
    assert rules_review_remind(today=dt.date(2026, 11, 20)) == 0
    assert _admins_told() == 2
    assert ClassificationReminder.objects.get().quarter == "2026Q4"
    assert rules_review_remind(today=dt.date(2027, 1, 1)) == 2
    assert _admins_told() == 4


def test_the_reminder_comes_when_the_last_review_is_older_than_90_days(users):
    review = rules_review_mark(actor=users["admin"])
    ClassificationReview.objects.filter(pk=review.pk).update(reviewed_at=timezone.make_aware(dt.datetime(2026, 7, 1)))
    assert not review_due(dt.date(2026, 8, 15))  # the quarter's own review
    assert review_due(dt.date(2026, 10, 5))  # 96 days: due
    assert rules_review_remind(today=dt.date(2026, 10, 5)) == 1
    ClassificationReview.objects.filter(pk=review.pk).update(reviewed_at=timezone.make_aware(dt.datetime(2026, 9, 30)))
    assert not review_due(dt.date(2026, 11, 5))  # 36 days and not the first day


def test_a_review_this_quarter_silences_the_first_day(users):
    rules_review_mark(actor=users["admin"])
    today = timezone.localdate()
    _key, first = quarter_of(today)
    assert not review_due(today)
    assert rules_review_remind(today=today) == 0
    assert review_due(first + dt.timedelta(days=200))


def test_without_any_version_row_a_review_is_due(users):
    ClassificationRuleVersion.objects.all().delete()
    assert review_due(dt.date(2026, 11, 5))
    assert current_rule_version() == 1


def test_the_periodic_task_calls_the_reminder(users):
    from needpool.requirements.tasks import classification_review_reminder

    ClassificationRuleVersion.objects.update(created_at=timezone.now() - dt.timedelta(days=200))
    assert classification_review_reminder.call_local() == 1
    assert classification_review_reminder.call_local() == 0


def test_requirement_rule_version_is_in_the_api(api, users, requirement):
    body = api(users["admin"]).get(f"/api/v1/requirements/{requirement.pk}/").json()
    assert body["rule_version"] == Requirement.objects.get(pk=requirement.pk).rule_version


def test_an_import_records_the_rule_version_through_the_same_services(users, customer, sheet, run_sheet):  # noqa: F811
    option_update(actor=users["admin"], option=option("tag", "efficiency"), label="提效")
    row = ["DEM20240301001", "A科技公司", "王总", "销售沟通", "功能", "批量导出报表", "2024-06-30", "", ""]
    assert run_sheet(users["sales"], sheet([INTAKE_HEADERS, row])).counts["create"] == 1
    assert Requirement.objects.get(code="DEM20240301001").rule_version == current_rule_version()
    option_update(actor=users["admin"], option=option("type", "experience"), description="体验")
    row[4] = "体验"
    changed = run_sheet(users["sales"], sheet([INTAKE_HEADERS, row]), update_policy={"type": "overwrite"})
    assert changed.counts["update"] == 1
    assert Requirement.objects.get(code="DEM20240301001").rule_version == current_rule_version()

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from needpool.core.models import AuditEntry, Notification
from needpool.customers.services import customer_create, interaction_create
from needpool.requirements.models import Feedback, Requirement, StatusChange, Workflow
from needpool.requirements.services import (
    attachment_add,
    code_pattern_set,
    comment_create,
    feedback_create,
    feedback_from_interaction_ask,
    feedback_link,
    requirement_create,
    requirement_transition,
    requirement_update,
    sla_mark_breaches,
    workflow_activate,
)
from tests.conftest import option


def make(actor, customer=None, **extra):
    fields = {"title": "导出报表到 Excel", "customer": customer}
    fields.update(extra)
    return requirement_create(actor=actor, **fields)


def complete(actor, customer, **extra):
    return make(
        actor,
        customer,
        background="月底对账",
        concrete_ask="一键导出",
        expected_date=dt.date(2030, 1, 1),
        **extra,
    )


class TestCreate:
    def test_code_defaults_to_dem_date_and_sequence(self, users, customer):
        day = timezone.localtime().strftime("%Y%m%d")
        first, second = make(users["sales"], customer), make(users["sales"], customer)
        assert first.code == f"DEM{day}001"
        assert second.code == f"DEM{day}002"

    def test_code_sequence_restarts_per_day_of_submission(self, users, customer):
        when = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
        req = make(users["sales"], customer, submitted_at=when)
        assert req.code == "DEM20240301001"

    def test_month_pattern_is_a_setting(self, users, customer):
        code_pattern_set(actor=users["admin"], pattern="{yyyymm}-{seq:03d}")
        req = make(users["sales"], customer, submitted_at=dt.datetime(2024, 5, 6, 9, tzinfo=dt.UTC))
        assert req.code == "202405-001"

    @pytest.mark.parametrize("pattern", ["DEM{yyyymmdd}", "{seq}{seq}", "DEM{foo}{seq:03d}", "需求{seq:03d}"])
    def test_bad_patterns_are_refused(self, users, pattern):
        with pytest.raises(ValidationError):
            code_pattern_set(actor=users["admin"], pattern=pattern)

    def test_only_admin_sets_the_pattern(self, users):
        with pytest.raises(PermissionDenied):
            code_pattern_set(actor=users["manager"], pattern="R{seq:04d}")

    def test_customer_words_become_feedback_evidence(self, users, customer):
        req = make(users["sales"], customer, feedback_text="希望能一键导出月度报表", channel="interview")
        evidence = Feedback.objects.get(requirement=req)
        assert evidence.customer == customer
        assert evidence.raw_text == "希望能一键导出月度报表"
        assert evidence.channel == "interview"

    def test_existing_feedback_items_from_many_customers_are_gathered(self, users, customer):
        other = customer_create(actor=users["sales"], name="中客户", yearly_purchase=2_000_000)
        items = [
            feedback_create(actor=users["sales"], customer=c, channel="ticket", raw_text=f"{c.name} 要导出")
            for c in (customer, other)
        ]
        req = make(users["product_manager"], None, feedback=items)
        assert set(req.feedback_items.values_list("customer__name", flat=True)) == {"A科技公司", "中客户"}
        assert req.customer_value == "high"  # the best tier among its customers

    def test_sla_due_from_urgency(self, users, customer):
        now = timezone.now()
        urgent = make(users["sales"], customer, urgency=option("urgency", "urgent"), submitted_at=now)
        normal = make(users["sales"], customer, urgency=option("urgency", "normal"), submitted_at=now)
        assert urgent.first_response_due == now + dt.timedelta(hours=24)
        assert normal.first_response_due is None

    def test_wrong_dimension_and_empty_title_write_nothing(self, users, customer):
        with pytest.raises(ValidationError) as err:
            make(users["sales"], customer, type=option("urgency", "urgent"))
        assert "type" in err.value.message_dict
        with pytest.raises(ValidationError) as err:
            make(users["sales"], customer, title="   ")
        assert "title" in err.value.message_dict
        assert not Requirement.objects.exists()
        assert not Feedback.objects.exists()

    def test_viewer_and_engineer_cannot_create(self, users, customer):
        for role in ("viewer", "engineer", "compliance"):
            with pytest.raises(PermissionDenied):
                make(users[role], customer)
        assert not Requirement.objects.exists()

    def test_creation_is_recorded(self, users, customer):
        req = make(users["sales"], customer)
        assert StatusChange.objects.filter(requirement=req, source=None, target__key="new").exists()
        assert AuditEntry.objects.filter(object_id=req.pk, action="create").exists()


class TestWorkflow:
    def test_allowed_move_is_recorded_with_who_when_and_note(self, users, customer):
        req = complete(users["sales"], customer)
        requirement_transition(actor=users["product_manager"], requirement=req, to="in_progress", note="开始处理")
        req.refresh_from_db()
        assert req.status.key == "in_progress"
        change = req.status_changes.first()
        assert (change.source.key, change.target.key, change.actor, change.note) == (
            "new",
            "in_progress",
            users["product_manager"],
            "开始处理",
        )
        assert req.first_responded_at is not None

    def test_disallowed_move_is_refused_with_the_allowed_list(self, users, customer):
        req = complete(users["sales"], customer)
        with pytest.raises(ValidationError) as err:
            requirement_transition(actor=users["product_manager"], requirement=req, to="launched")
        message = err.value.message_dict["to"][0]
        assert "不允许" in message and "处理中" in message
        req.refresh_from_db()
        assert req.status.key == "new"
        assert req.status_changes.count() == 1

    def test_unknown_status_is_refused(self, users, customer):
        req = complete(users["sales"], customer)
        with pytest.raises(ValidationError):
            requirement_transition(actor=users["product_manager"], requirement=req, to="nowhere")

    def test_standardisation_gate_lists_what_is_missing(self, users):
        req = make(users["sales"], None)
        with pytest.raises(ValidationError) as err:
            requirement_transition(actor=users["product_manager"], requirement=req, to="in_progress")
        message = err.value.message_dict["to"][0]
        for missing in ("客户", "背景", "具体诉求", "期望时间"):
            assert missing in message
        req.refresh_from_db()
        assert req.status.key == "new"

    def test_gate_does_not_block_rejecting_or_deferring(self, users):
        req = make(users["sales"], None)
        requirement_transition(actor=users["product_manager"], requirement=req, to="rejected", note="不做")
        req.refresh_from_db()
        assert req.status.key == "rejected"

    def test_full_path_to_closed(self, users, customer):
        req = complete(users["sales"], customer)
        for to in ("in_progress", "testing", "launched", "closed"):
            requirement_transition(actor=users["engineer"], requirement=req, to=to)
        assert list(req.status_changes.order_by("at", "id").values_list("target__key", flat=True)) == [
            "new",
            "in_progress",
            "testing",
            "launched",
            "closed",
        ]

    def test_who_may_transition(self, users, customer):
        req = complete(users["sales"], customer, owner=users["manager"])
        for role in ("viewer", "compliance", "sales"):
            with pytest.raises(PermissionDenied):
                requirement_transition(actor=users[role], requirement=req, to="in_progress")
        own = complete(users["sales"], customer)
        requirement_transition(actor=users["sales"], requirement=own, to="in_progress")

    def test_active_flow_is_chosen_by_admin(self, users, customer):
        reviewed = Workflow.objects.get(key="reviewed")
        with pytest.raises(PermissionDenied):
            workflow_activate(actor=users["manager"], workflow=reviewed)
        workflow_activate(actor=users["admin"], workflow=reviewed)
        req = complete(users["sales"], customer)
        assert req.status.key == "to_analyse"
        requirement_transition(actor=users["product_manager"], requirement=req, to="in_review")
        with pytest.raises(ValidationError):
            requirement_transition(actor=users["product_manager"], requirement=req, to="launched")


class TestEditAndHistory:
    def test_update_records_each_changed_field(self, users, requirement):
        requirement_update(
            actor=users["product_manager"],
            requirement=requirement,
            title="新标题",
            urgency=option("urgency", "urgent"),
            tags=[option("tag", "efficiency")],
        )
        entry = AuditEntry.objects.filter(object_id=requirement.pk, action="update").get()
        assert entry.changes["title"] == ["按客户等级设置批量订单折扣规则", "新标题"]
        assert entry.changes["urgency"] == ["重要", "紧急"]
        assert entry.changes["tags"] == ["批量操作", "效率提升"]

    def test_urgency_change_moves_the_sla_due_time(self, users, requirement):
        requirement_update(actor=users["product_manager"], requirement=requirement, urgency=option("urgency", "urgent"))
        requirement.refresh_from_db()
        assert requirement.first_response_due == requirement.submitted_at + dt.timedelta(hours=24)

    def test_sales_edit_only_their_own(self, users, requirement, make_user):
        other_sales = make_user("sales", username="other-sales")
        with pytest.raises(PermissionDenied):
            requirement_update(actor=other_sales, requirement=requirement, title="x")
        requirement_update(actor=users["sales"], requirement=requirement, title="销售自己改")

    def test_unknown_field_is_refused(self, users, requirement):
        with pytest.raises(ValidationError):
            requirement_update(actor=users["product_manager"], requirement=requirement, code="HACK")


class TestCommentsAndAttachments:
    def test_mention_notifies_the_mentioned_user(self, users, requirement):
        comment_create(actor=users["sales"], requirement=requirement, body="@product_manager 请评估，@nobody 无此人")
        notes = Notification.objects.filter(kind="mention")
        assert [n.recipient for n in notes] == [users["product_manager"]]
        assert requirement.code in notes[0].text

    def test_empty_comment_is_refused(self, users, requirement):
        with pytest.raises(ValidationError):
            comment_create(actor=users["sales"], requirement=requirement, body="  ")

    def test_viewer_cannot_comment(self, users, requirement):
        with pytest.raises(PermissionDenied):
            comment_create(actor=users["viewer"], requirement=requirement, body="hi")

    def test_comment_by_someone_else_is_the_first_response(self, users, requirement):
        comment_create(actor=users["sales"], requirement=requirement, body="补充说明")
        requirement.refresh_from_db()
        assert requirement.first_responded_at is None
        comment_create(actor=users["product_manager"], requirement=requirement, body="收到")
        requirement.refresh_from_db()
        assert requirement.first_responded_at is not None

    def test_attachment_limits(self, users, requirement, settings):
        settings.NEEDPOOL_ATTACHMENT_MAX_BYTES = 10
        with pytest.raises(ValidationError) as err:
            attachment_add(
                actor=users["sales"], requirement=requirement, upload=SimpleUploadedFile("big.pdf", b"x" * 11)
            )
        assert "过大" in err.value.message_dict["file"][0]
        with pytest.raises(ValidationError) as err:
            attachment_add(actor=users["sales"], requirement=requirement, upload=SimpleUploadedFile("run.exe", b"MZ"))
        assert "不支持" in err.value.message_dict["file"][0]
        ok = attachment_add(actor=users["sales"], requirement=requirement, upload=SimpleUploadedFile("a.pdf", b"%PDF"))
        assert ok.size == 4
        assert requirement.attachments.count() == 1


class TestFeedback:
    def test_key_ask_becomes_feedback_once(self, users, customer):
        interaction = interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=timezone.now(),
            channel="visit",
            key_content="季度拜访",
            key_asks="实时监控大屏\n开放 API",
            mood="satisfied",
        )
        first = feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=1)
        again = feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=1)
        assert first.pk == again.pk
        assert (first.raw_text, first.customer, first.channel, first.sentiment) == (
            "开放 API",
            customer,
            "sales",
            "positive",
        )
        with pytest.raises(ValidationError):
            feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=5)

    def test_feedback_for_an_invisible_customer_is_refused(self, users, make_user):
        from needpool.accounts.models import Team

        outsider = make_user("sales", username="outsider", team=Team.objects.create(name="销售二部"))
        theirs = customer_create(actor=outsider, name="别人的客户")
        with pytest.raises(ValidationError):
            feedback_create(actor=users["sales"], customer=theirs, channel="ticket", raw_text="x")

    def test_linking_feedback_refreshes_customer_value(self, users, customer):
        small = customer_create(actor=users["sales"], name="小客户", yearly_purchase=1)
        req = make(users["product_manager"], small)
        assert req.customer_value == "low"
        item = feedback_create(actor=users["sales"], customer=customer, channel="ticket", raw_text="也要")
        feedback_link(actor=users["product_manager"], feedback=item, requirement=req)
        req.refresh_from_db()
        assert req.customer_value == "high"


class TestSla:
    def test_breaches_are_marked_and_owners_told(self, users, customer):
        nearly = timezone.now() - dt.timedelta(hours=23)
        late = make(users["sales"], customer, urgency=option("urgency", "urgent"), submitted_at=nearly)
        fresh = make(users["sales"], customer, urgency=option("urgency", "urgent"))
        assert not late.sla_breached
        later = timezone.now() + dt.timedelta(hours=2)
        assert sla_mark_breaches(now=later) == 1
        assert sla_mark_breaches(now=later) == 0  # safe to run twice
        late.refresh_from_db()
        fresh.refresh_from_db()
        assert late.sla_breached and not fresh.sla_breached
        assert Notification.objects.filter(kind="sla", recipient=users["sales"]).count() == 1
        breaches = AuditEntry.objects.filter(action=AuditEntry.Action.SLA_BREACH)
        assert list(breaches.values_list("object_id", flat=True)) == [late.pk]

    def test_a_backdated_requirement_already_past_due_is_flagged_at_once(self, users, customer):
        past = timezone.now() - dt.timedelta(hours=30)
        late = make(users["sales"], customer, urgency=option("urgency", "urgent"), submitted_at=past)
        late.refresh_from_db()
        assert late.sla_breached
        assert AuditEntry.objects.filter(action=AuditEntry.Action.SLA_BREACH, object_id=late.pk).count() == 1
        assert Notification.objects.filter(kind="sla", recipient=users["sales"]).count() == 1
        assert sla_mark_breaches() == 0  # nothing left for the job

    def test_a_late_first_response_counts_as_breach(self, users, customer):
        past = timezone.now() - dt.timedelta(hours=30)
        req = complete(users["sales"], customer, urgency=option("urgency", "urgent"), submitted_at=past)
        requirement_transition(actor=users["product_manager"], requirement=req, to="in_progress")
        req.refresh_from_db()
        assert req.sla_breached


def test_messages_speak_the_users_language(users):
    from django.utils import translation

    req = make(users["sales"], None)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        requirement_transition(actor=users["product_manager"], requirement=req, to="in_progress")
    message = err.value.message_dict["to"][0]
    assert "Customer, Background" in message and "、" not in message

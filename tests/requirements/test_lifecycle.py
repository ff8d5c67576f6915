"""Gates as data on statuses, checked by one rule, filled by a registry; the active flow; audited priority."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import close_old_connections, connection
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.core.models import AuditEntry
from needpool.requirements import lifecycle
from needpool.requirements import workflow as flow_rules
from needpool.requirements.models import Requirement, Workflow, WorkflowStatus
from needpool.requirements.services import (
    requirement_create,
    requirement_transition,
    requirements_priority_set,
    workflow_activate,
)
from tests.conftest import option

MISSING = ("customer", "background", "concrete_ask", "expected_date")
CATEGORIES = ("new", "active", "done", "deferred", "rejected")


def _move(target_category: str, note: str = "") -> flow_rules.Move:
    return flow_rules.Move(
        source_key="new",
        source_label="待处理",
        source_category="new",
        target_key="x",
        target_label="X",
        target_category=target_category,
        note=note,
    )


STANDARDISED = lifecycle.registered_gates()[flow_rules.GATE_STANDARDISED]


class TestPureRule:
    def test_gate_keys_keep_order_and_come_once(self):
        keys = flow_rules.gate_keys_for(exit_gates=["a", "b"], entry_gates=["b", "c"])
        assert keys == ["a", "b", "c"]

    def test_every_gate_speaks_and_passing_gates_say_nothing(self):
        says_no = flow_rules.Gate(key="no", label=lambda: "no", check=lambda move, facts: f"不行：{facts['n']}")
        says_yes = flow_rules.Gate(key="yes", label=lambda: "yes", check=lambda move, facts: None)
        refusals = flow_rules.gate_refusals([says_yes, says_no, says_no], _move("active"), {"n": 1})
        assert refusals == ["不行：1", "不行：1"]
        assert flow_rules.gate_refusals([says_yes], _move("active"), {}) == []

    @given(
        missing=st.lists(st.sampled_from(MISSING), min_size=1, unique=True),
        category=st.sampled_from(CATEGORIES),
        note=st.text(alphabet=" \t\n\u3000", max_size=5),
    )
    @settings(max_examples=150, deadline=None)
    def test_no_move_leaves_unstandardised_without_a_real_reason(self, missing, category, note):
        """Whatever the target (暂缓 included) and however blank the note, a missing detail refuses the move."""
        message = STANDARDISED.check(_move(category, note), {"standardisation_missing": missing})
        assert message and "未标准化" in message

    @given(note=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()))
    @settings(max_examples=50, deadline=None)
    def test_an_explicit_rejection_with_a_reason_passes(self, note):
        facts = {"standardisation_missing": list(MISSING)}
        assert STANDARDISED.check(_move("rejected", note), facts) is None
        assert STANDARDISED.check(_move("deferred", note), facts)  # only a rejection is exempt

    def test_a_standardised_requirement_passes(self):
        assert STANDARDISED.check(_move("active"), {"standardisation_missing": []}) is None


def _complete(actor, customer, **extra):
    return requirement_create(
        actor=actor,
        title="批量订单折扣",
        customer=customer,
        background="大客户",
        concrete_ask="按客户等级打折",
        expected_date=dt.date(2030, 6, 30),
        **extra,
    )


class TestGatesOnTheFlow:
    def test_deferring_from_new_passes_the_standardisation_gate(self, users, customer):
        bare = requirement_create(actor=users["product_manager"], title="只有标题", customer=customer)
        with pytest.raises(ValidationError) as err:
            requirement_transition(actor=users["product_manager"], requirement=bare, to="deferred")
        assert "未标准化" in err.value.message_dict["to"][0]
        assert Requirement.objects.get(pk=bare.pk).status.key == "new"

    def test_deferred_has_a_way_back_to_new(self, users, customer):
        req = _complete(users["product_manager"], customer)
        requirement_transition(actor=users["product_manager"], requirement=req, to="deferred")
        back = requirement_transition(actor=users["product_manager"], requirement=req, to="new")
        assert back.status.key == "new"

    def test_gates_are_data_an_admin_can_move(self, users, customer):
        pm = users["product_manager"]
        bare = requirement_create(actor=pm, title="只有标题", customer=customer)
        new = WorkflowStatus.objects.get(workflow__key="standard", key="new")
        new.exit_gates = []
        new.save()
        assert requirement_transition(actor=pm, requirement=bare, to="in_progress").status.key == "in_progress"
        testing = WorkflowStatus.objects.get(workflow__key="standard", key="testing")
        testing.entry_gates = [flow_rules.GATE_STANDARDISED]
        testing.save()
        with pytest.raises(ValidationError):
            requirement_transition(actor=pm, requirement=bare, to="testing")

    def test_a_gate_no_installed_app_provides_does_not_block(self, users, customer):
        req = _complete(users["product_manager"], customer)
        WorkflowStatus.objects.filter(workflow__key="standard", key="in_progress").update(
            entry_gates=["acceptance_passed_from_an_app_not_installed"]
        )
        moved = requirement_transition(actor=users["product_manager"], requirement=req, to="in_progress")
        assert moved.status.key == "in_progress"

    def test_root_cause_gate_follows_the_status_that_carries_it(self, users, customer):
        pm = users["product_manager"]
        req = _complete(pm, customer, priority="P0")
        WorkflowStatus.objects.filter(workflow__key="standard", key="in_progress").update(
            entry_gates=[flow_rules.GATE_ROOT_CAUSE]
        )
        with pytest.raises(ValidationError) as err:
            requirement_transition(actor=pm, requirement=req, to="in_progress")
        assert "P0 需求进入“处理中”前必须完成 5 Whys" in err.value.message_dict["to"][0]

    def test_the_default_flows_carry_their_gates(self, db):
        for status in WorkflowStatus.objects.filter(is_initial=True):
            assert status.exit_gates == [flow_rules.GATE_STANDARDISED]
        assert WorkflowStatus.objects.get(workflow__key="reviewed", key="in_review").entry_gates == ["root_cause"]

    def test_an_unprovided_fact_gives_its_default(self, requirement):
        assert lifecycle.fact("no_such_fact", requirement, default="x") == "x"


class TestActiveFlow:
    def test_one_flow_is_active_and_new_requirements_enter_it(self, users, customer):
        reviewed = Workflow.objects.get(key="reviewed")
        workflow_activate(actor=users["admin"], workflow=reviewed)
        assert list(Workflow.objects.filter(is_active=True)) == [reviewed]
        req = requirement_create(actor=users["product_manager"], title="新需求", customer=customer)
        assert req.status.key == "to_analyse"
        assert AuditEntry.objects.filter(object_id=reviewed.pk, changes__has_key="active_workflow").exists()

    def test_only_admins_switch_flows(self, users):
        for role in ("manager", "product_manager", "sales"):
            with pytest.raises(PermissionDenied):
                workflow_activate(actor=users[role], workflow=Workflow.objects.get(key="reviewed"))
        assert Workflow.objects.get(is_active=True).key == "standard"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_admins_switching_flows_at_once_leave_exactly_one_active():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    from needpool.accounts.models import User

    admins = [User.objects.create_user(username=f"admin{i}", password="x-9-long-enough", role="admin") for i in (1, 2)]
    flows = [Workflow.objects.get(key="standard"), Workflow.objects.get(key="reviewed")]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(actor, flow) -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                workflow_activate(actor=actor, workflow=flow)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=pair) for pair in zip(admins, flows, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert Workflow.objects.filter(is_active=True).count() == 1


class TestPriority:
    def test_priority_changes_are_audited_once_per_change(self, users, requirement):
        pm = users["product_manager"]
        assert requirements_priority_set(actor=pm, priorities=[(requirement.pk, "P1")], reason="客户停产") == 1
        assert requirements_priority_set(actor=pm, priorities=[(requirement.pk, "P1")]) == 0  # unchanged
        requirement.refresh_from_db()
        assert requirement.priority == "P1"
        rows = AuditEntry.objects.filter(object_id=requirement.pk, action="update", changes__has_key="priority")
        assert [r.changes for r in rows] == [{"priority": ["", "P1"], "reason": "客户停产"}]

    @pytest.mark.parametrize("value", ["P4", "p0", "高", " P0"])
    def test_an_unknown_priority_is_refused_and_nothing_changes(self, users, requirement, value):
        with pytest.raises(ValidationError):
            requirements_priority_set(actor=users["product_manager"], priorities=[(requirement.pk, value)])
        requirement.refresh_from_db()
        assert requirement.priority == ""

    def test_only_analysts_set_priority(self, users, requirement):
        with pytest.raises(PermissionDenied):
            requirements_priority_set(actor=users["sales"], priorities=[(requirement.pk, "P0")])

    def test_an_analysis_override_goes_through_the_audited_service(self, users, requirement):
        from needpool.analysis.services import priority_override

        priority_override(actor=users["product_manager"], requirement=requirement, priority="P0", reason="高层要求")
        requirement.refresh_from_db()
        assert requirement.priority == "P0"
        row = AuditEntry.objects.filter(object_id=requirement.pk, action="update", changes__has_key="priority").get()
        assert row.changes == {"priority": ["", "P0"], "reason": "高层要求"}


def test_urgency_option_helper_still_resolves(db):
    assert option("urgency", "urgent").sla_hours == 24


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_moving_one_requirement_at_once_get_one_move_and_one_clear_refusal():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are proven on PostgreSQL (SQLite serialises every writer)")
    from needpool.accounts.models import User
    from needpool.customers.services import customer_create

    pms = [
        User.objects.create_user(username=f"pm{i}", password="x-9-long-enough", role="product_manager") for i in (1, 2)
    ]
    customer = customer_create(actor=pms[0], name="并发客户")
    req = _complete(pms[0], customer)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker(actor) -> None:
        try:
            barrier.wait(timeout=10)
            requirement_transition(actor=actor, requirement=req, to="in_progress")
            outcomes.append("moved")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(pm,)) for pm in pms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes)[0] == "moved" and "已处于" in sorted(outcomes)[1]
    assert req.status_changes.count() == 2  # the creation and one move

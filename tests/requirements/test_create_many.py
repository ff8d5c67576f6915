"""``requirements_create_many`` (an import's new rows, a few queries per call) leaves exactly what
``requirement_create`` called once per requirement leaves: the same rows, refusals, audit, history and notices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.core.models import AuditEntry
from needpool.notify.models import Event
from needpool.requirements.models import Feedback, Requirement, StatusChange
from needpool.requirements.services import NewRequirement, requirement_create, requirements_create_many
from tests.conftest import option

pytestmark = pytest.mark.django_db

TEXTS = st.sampled_from(["导出报表到 Excel", "  批量订单折扣  ", "", "x" * 250, "客户希望按部门细分权限，减少对账时间"])
DAYS = st.sampled_from([None, dt.date(2024, 6, 30), dt.date(2031, 1, 1)])
WHEN = st.sampled_from([None, "past", "recent"])


def _moment(kind: str | None) -> dt.datetime | None:
    if kind is None:
        return None
    base = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)
    return base if kind == "past" else timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)


@st.composite
def drafts(draw: Any) -> list[dict[str, Any]]:
    """Drafts as the import builds them, and as a careless or hostile sheet would: wrong-dimension options,
    a customer the actor may not see, a contact of another customer, a code given twice or already taken,
    texts too long or empty, backdated submissions that breach the SLA on entry."""
    count = draw(st.integers(1, 6))
    return [
        {
            "title": draw(TEXTS),
            "description": draw(TEXTS),
            "concrete_ask": draw(st.sampled_from(["", "支持按客户等级配置"])),
            "expected_date": draw(DAYS),
            "type": draw(st.sampled_from([None, ("type", "function_improvement"), ("tag", "bulk_operation")])),
            "urgency": draw(st.sampled_from([None, ("urgency", "important"), ("urgency", "urgent")])),
            "tags": draw(st.sampled_from([(), (("tag", "bulk_operation"),), (("type", "function_improvement"),)])),
            "customer": draw(st.sampled_from([None, "mine", "hidden"])),
            "contact": draw(st.sampled_from([None, "mine", "other"])),
            "code": draw(st.sampled_from(["", "", "IMP-1", "IMP-2", "TAKEN"])),
            "submitted": draw(WHEN),
            "unassigned": draw(st.booleans()),
            "owner": draw(st.sampled_from([None, "pm"])),
        }
        for _ in range(count)
    ]


def _realise(spec: dict[str, Any], world: dict[str, Any], submitted_at: dt.datetime | None) -> NewRequirement:
    def opt(pair: tuple[str, str] | None) -> Any:
        return option(*pair) if pair else None

    contact = {"mine": world["contact"], "other": world["other_contact"]}.get(spec["contact"] or "")
    return NewRequirement(
        title=spec["title"],
        description=spec["description"],
        concrete_ask=spec["concrete_ask"],
        expected_date=spec["expected_date"],
        type=opt(spec["type"]),
        urgency=opt(spec["urgency"]),
        tags=[opt(t) for t in spec["tags"]],
        customer={"mine": world["customer"], "hidden": world["hidden"]}.get(spec["customer"] or ""),
        contact=contact,
        code=spec["code"],
        submitted_at=submitted_at,
        unassigned=spec["unassigned"],
        owner=world["pm"] if spec["owner"] else None,
    )


def _errors(exc: ValidationError) -> Any:
    return sorted((k, sorted(map(str, v))) for k, v in exc.message_dict.items())


def _state(made: list[Requirement | ValidationError], specs: list[dict[str, Any]], since: dict[str, int]) -> list[Any]:
    """What each draft left, with what differs by nature between two runs (generated codes, ids, the moment of a
    create without a submission time) replaced by markers."""
    out: list[Any] = []
    for item, spec in zip(made, specs, strict=True):
        if isinstance(item, ValidationError):
            out.append(("refused", _errors(item)))
            continue
        r = Requirement.all_objects.get(pk=item.pk)
        code = r.code if spec["code"] else "<generated>"

        def plain(value: Any, r: Requirement = r, code: str = code, spec: dict[str, Any] = spec) -> Any:
            text = str(value).replace(r.code, code)
            return text if spec["submitted"] else "<now>" if "20" in text and ":" in text else text

        fields = {
            f.attname: getattr(r, f.attname)
            for f in Requirement._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at")
        }
        fields["code"] = code
        fields["search_text"] = r.search_text.replace(r.code, code)
        if not spec["submitted"]:
            assert abs((r.submitted_at - timezone.now()).total_seconds()) < 120
            fields["submitted_at"] = fields["first_response_due"] = "<now>"
        feedback = [
            (
                f.customer_id,
                f.contact_id,
                f.channel,
                f.raw_text,
                f.received_at == r.submitted_at,
                f.created_by_id,
                f.importance,
                f.sentiment,
            )
            for f in Feedback.objects.filter(requirement=r)
        ]
        history = list(StatusChange.objects.filter(requirement=r).values_list("source_id", "target_id", "actor_id"))
        audit = [
            (a.action, a.actor_id, a.object_repr.replace(r.code, code), plain(a.changes), a.job_id)
            for a in AuditEntry.objects.filter(object_id=r.pk, pk__gt=since["audit"]).order_by("pk")
            if a.content_type.model == "requirement"
        ]
        events = sorted(
            (e.kind, e.actor_id, e.recipients if hasattr(e, "recipients") else None)
            for e in Event.objects.filter(pk__gt=since["event"])
            if f"{r.pk}" in e.key.split(":")
        )
        out.append(
            ("created", sorted(fields.items()), sorted(r.tags.values_list("pk", flat=True)), feedback, history, audit)
        )
        out.append(("events", events))
    return out


@pytest.fixture
def world(users: dict[str, Any], customer: Any, customer_b: Any) -> dict[str, Any]:
    from needpool.customers.permissions import can_view_customer
    from needpool.customers.services import contact_create, customer_create

    hidden = customer_create(actor=users["admin"], name="看不到的客户", owner=users["admin"])
    assert not can_view_customer(users["sales"], hidden)
    requirement_create(actor=users["sales"], title="已有", code="TAKEN", customer=customer)
    return {
        "actor": users["sales"],
        "pm": users["product_manager"],
        "customer": customer,
        "hidden": hidden,
        "contact": customer.contacts.first(),
        "other_contact": contact_create(actor=users["admin"], customer=customer_b, name="李经理"),
    }


def _marks() -> dict[str, int]:
    return {
        "audit": AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
        "event": Event.objects.order_by("-pk").values_list("pk", flat=True).first() or 0,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=drafts())
def test_many_at_once_leaves_what_one_by_one_leaves(world: dict[str, Any], specs: list[dict[str, Any]]) -> None:
    actor = world["actor"]
    states = []
    # One moment per draft for both ways: "recent" is computed from the clock, and two readings a second
    # apart would differ in submitted_at (and the SLA due) though both ways did the same.
    moments = [_moment(s["submitted"]) for s in specs]
    for way in ("one by one", "at once"):
        with transaction.atomic():
            since = _marks()
            items = [_realise(s, world, at) for s, at in zip(specs, moments, strict=True)]
            made: list[Requirement | ValidationError] = []
            if way == "one by one":
                for item in items:
                    try:
                        with transaction.atomic():
                            made.append(requirement_create(actor=actor, **vars(item)))
                    except ValidationError as exc:
                        made.append(exc)
            else:
                made = requirements_create_many(actor=actor, drafts=items)
            states.append(_state(made, specs, since))
            transaction.set_rollback(True)
    assert states[0] == states[1]


def test_a_thousand_cost_a_fixed_number_of_queries(world: dict[str, Any]) -> None:
    """A call costs a few queries, however many requirements it creates (each table's rows go in one prepared
    statement run for all of them)."""

    def count(n: int) -> int:
        items = [
            NewRequirement(
                title=f"需求 {i}",
                description="客户希望批量导出报表",
                customer=world["customer"],
                contact=world["contact"],
                tags=[option("tag", "bulk_operation")],
                submitted_at=timezone.now(),
                code=f"Q{n}-{i}" if i % 2 else "",
            )
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            made = requirements_create_many(actor=world["actor"], drafts=items)
        assert all(isinstance(m, Requirement) for m in made)
        return len(queries.captured_queries)

    assert count(40) == count(400) <= 20


def test_a_viewer_may_create_nothing(users: dict[str, Any]) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        requirements_create_many(actor=users["viewer"], drafts=[NewRequirement(title="x")])
    assert not Requirement.objects.filter(title="x").exists()

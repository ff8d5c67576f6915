"""New requirements of a sheet are created a chunk at a time (``requirements_create_many``): what one refuses lands
on its row, a database error on the chunk's new rows, and the queries do not grow with the rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.requirements import services as requirement_services
from needpool.requirements.models import Feedback, Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS

pytestmark = pytest.mark.django_db


def _rows(n: int, prefix: str = "BULK", *, new_contacts: bool = False) -> list[list[Any]]:
    def contact(i: int) -> str:
        return f"人{prefix}{i}" if new_contacts else "王总"

    return [
        INTAKE_HEADERS,
        *(
            [
                f"{prefix}{i:04d}",
                "A科技公司",
                contact(i),
                "销售沟通",
                "功能",
                f"客户希望批量导出第 {i} 号报表",
                "",
                "",
                "",
            ]
            for i in range(n)
        ),
    ]


def test_a_refusal_of_the_bulk_create_lands_on_its_row_and_nothing_is_kept(
    users: Any, customer: Any, sheet: Any, run_sheet: Any, monkeypatch: Any
) -> None:
    real = requirement_services.requirements_create_many

    def refuse_second(*, actor: Any, drafts: Any) -> Any:
        made = real(actor=actor, drafts=[d for i, d in enumerate(drafts) if i != 1])
        return [*made[:1], ValidationError({"title": "标题不合规"}), *made[1:]]

    monkeypatch.setattr(requirement_services, "requirements_create_many", refuse_second)
    result = run_sheet(users["sales"], sheet(_rows(3)))
    assert [r["action"] for r in result.rows] == ["create", "error", "create"]
    assert [(e["row"], e["column"], e["message"]) for e in result.errors] == [(3, "描述内容", "标题不合规")]
    assert not Requirement.objects.filter(code__startswith="BULK").exists()  # all or nothing


def test_a_database_error_while_creating_a_chunk_fails_its_new_rows(
    users: Any, customer: Any, sheet: Any, run_sheet: Any, monkeypatch: Any
) -> None:
    def broken(**kwargs: Any) -> Any:
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(requirement_services, "requirements_create_many", broken)
    result = run_sheet(users["sales"], sheet(_rows(2)))
    assert result.counts["error"] == 2
    assert all("disk I/O error" in e["message"] for e in result.errors)
    assert not Requirement.objects.filter(code__startswith="BULK").exists()


@pytest.mark.parametrize("contacts", ["known", "new"])
def test_new_rows_cost_no_query_of_their_own_beyond_the_row_savepoint(
    users: Any, customer: Any, sheet: Any, run_sheet: Any, contacts: str
) -> None:
    """Known contacts are read once per customer; new ones are saved with the chunk."""

    def queries(n: int, prefix: str) -> int:
        path = sheet(_rows(n, prefix, new_contacts=contacts == "new"))
        with CaptureQueriesContext(connection) as captured:
            result = run_sheet(users["sales"], path)
        assert result.counts["create"] == n, result.errors
        return len(captured.captured_queries)

    small, large = queries(20, "S"), queries(220, "L")
    # Each row opens and releases its savepoint (2 statements); the rest is per chunk, not per row.
    assert large - small <= 200 * 2 + 10
    made = Requirement.objects.filter(code__startswith="L")
    assert made.count() == 220
    named = Feedback.objects.filter(requirement__in=made, contact__isnull=False)
    assert named.count() == 220
    assert named.filter(contact__name="王总").count() == (220 if contacts == "known" else 0)


def test_new_contacts_wait_for_the_chunk_and_serve_every_row_naming_them(
    users: Any, customer: Any, sheet: Any, run_sheet: Any
) -> None:
    from needpool.core.models import AuditEntry
    from needpool.customers.models import Contact

    rows = [
        INTAKE_HEADERS,
        *(
            [f"NC{i}", "A科技公司", "赵经理" if i % 2 else "钱主管", "", "功能", f"需求 {i}", "", "", ""]
            for i in range(6)
        ),
    ]
    since = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    result = run_sheet(users["sales"], sheet(rows))
    assert result.counts["create"] == 6, result.errors
    made = {c.name: c for c in Contact.objects.filter(customer=customer, name__in=["赵经理", "钱主管"])}
    assert set(made) == {"赵经理", "钱主管"}  # one contact per name, however many rows name it
    for i in range(6):
        feedback = Feedback.objects.get(requirement__code=f"NC{i}")
        assert feedback.contact_id == made["赵经理" if i % 2 else "钱主管"].pk
    audited = AuditEntry.objects.filter(
        pk__gt=since, object_id=customer.pk, action="create", changes__has_key="contact"
    )
    assert sorted(a.changes["contact"] for a in audited) == ["赵经理", "钱主管"]
    warned = [w for r in result.rows for w in r["warnings"] if "新建联系人" in w]
    assert len(warned) == 2


ROW_KINDS = st.sampled_from(["new", "again", "taken", "no-code", "bad-contact", "no-description"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(ROW_KINDS, min_size=1, max_size=9), chunk=st.integers(1, 4))
def test_the_preview_says_what_the_import_does(
    users: Any, customer: Any, requirement: Any, sheet: Any, run_sheet: Any, kinds: list[str], chunk: int
) -> None:
    """A preview only checks its new rows (it writes none of them), yet reports each row as the import then does
    it: a code met again in a later chunk is an update there, a taken code an update of that requirement, an
    unusable contact an error — whatever the chunk size."""
    from needpool.intake.transfer import services as transfer

    rows: list[list[Any]] = [INTAKE_HEADERS]
    for i, kind in enumerate(kinds):
        code = {"new": f"P{i}", "again": "P-SAME", "taken": requirement.code, "no-code": ""}.get(kind, f"P{i}")
        contact = "x" * 61 if kind == "bad-contact" else "王总"
        description = "" if kind == "no-description" else f"需求描述 {i}"
        rows.append([code, "A科技公司", contact, "", "功能", description, "", "", ""])
    path = sheet(rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transfer, "PREPARE_EVERY", chunk)
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                preview = run_sheet(users["sales"], path, dry_run=True, update_policy={"description": "overwrite"})
            written = sum('INSERT INTO "requirements_requirement" ' in q["sql"] for q in captured.captured_queries)
            transaction.set_rollback(True)
        with transaction.atomic():
            done = run_sheet(users["sales"], path, update_policy={"description": "overwrite"})
            transaction.set_rollback(True)
    assert written == (kinds.count("again") > 1)  # only a new row a later row names again is written
    assert [r["action"] for r in preview.rows] == [r["action"] for r in done.rows]
    assert [(e["row"], e["column"], e["message"]) for e in preview.errors] == [
        (e["row"], e["column"], e["message"]) for e in done.errors
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 500])
def test_a_code_met_again_in_a_later_chunk_is_previewed_as_an_update(
    users: Any, customer: Any, sheet: Any, run_sheet: Any, chunk: int
) -> None:
    from needpool.intake.transfer import services as transfer

    rows = [
        INTAKE_HEADERS,
        *(
            [code, "A科技公司", "王总", "", "功能", f"描述 {i}", "", "", ""]
            for i, code in enumerate(["N", "S", "S", "S"])
        ),
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transfer, "PREPARE_EVERY", chunk)
        preview = run_sheet(users["sales"], sheet(rows), dry_run=True, update_policy={"description": "overwrite"})
    assert [r["action"] for r in preview.rows] == ["create", "create", "update", "update"], preview.errors


@pytest.mark.parametrize(("chunk", "inserts"), [(1, 4), (2, 2), (3, 2), (500, 1)])
def test_new_rows_are_written_once_per_chunk(
    users: Any, customer: Any, sheet: Any, run_sheet: Any, chunk: int, inserts: int
) -> None:
    """Every chunk of ``PREPARE_EVERY`` rows is written at its end, also when a chunk is a single row."""
    from needpool.intake.transfer import services as transfer

    rows = [INTAKE_HEADERS, *([f"C{i}", "A科技公司", "王总", "", "功能", f"描述 {i}", "", "", ""] for i in range(4))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transfer, "PREPARE_EVERY", chunk)
        with CaptureQueriesContext(connection) as captured:
            done = run_sheet(users["sales"], sheet(rows))
    assert [r["action"] for r in done.rows] == ["create"] * 4, done.errors
    assert sum('INSERT INTO "requirements_requirement" ' in q["sql"] for q in captured.captured_queries) == inserts

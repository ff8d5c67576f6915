"""Creating many requirements in one transaction (an import, a bulk intake) reads the configuration once, and
still sees a change of it made in that transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jieba
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.core.text import _clean_tokens, segment_for_index
from needpool.requirements.models import ClassificationRuleVersion, Workflow, WorkflowStatus
from needpool.requirements.services import (
    code_pattern_set,
    requirement_create,
    workflow_activate,
)
from tests.conftest import option

CONFIG_TABLES = (
    '"requirements_workflow"',
    '"requirements_workflowstatus"',
    '"requirements_classificationruleversion"',
    '"core_siteconfig"',
)


def create(users: dict[str, Any], customer: Any, n: int = 1, **extra: Any) -> Any:
    fields = {
        "title": "导出报表到 Excel",
        "description": "客户希望批量导出报表，并按部门细分权限",
        "customer": customer,
        "contact": customer.contacts.first(),
        "type": option("type", "function_improvement"),
        "tags": [option("tag", "bulk_operation")],
    }
    fields.update(extra)
    made = [requirement_create(actor=users["sales"], **fields) for _ in range(n)]
    return made[0] if n == 1 else made


def config_reads(queries: CaptureQueriesContext) -> int:
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and any(t in q["sql"] for t in CONFIG_TABLES)
    )


def test_the_configuration_is_read_once_per_transaction(users: Any, customer: Any) -> None:
    with transaction.atomic():
        create(users, customer)  # warm: users, contact, content types
        with CaptureQueriesContext(connection) as one:
            create(users, customer)
    with transaction.atomic(), CaptureQueriesContext(connection) as twenty:
        made = create(users, customer, n=20, code="")
    assert config_reads(twenty) <= 4  # flow, its initial status, rule version, site configuration: once each
    assert len(twenty.captured_queries) <= 20 * len(one.captured_queries) + 4
    assert {r.status.key for r in made} == {"new"}
    assert {r.customer_value for r in made} == {"high"}
    assert all([t.key for t in r.tags.all()] == ["bulk_operation"] for r in made)


def test_a_new_requirement_reads_no_tags_before_adding_them(users: Any, customer: Any) -> None:
    create(users, customer)
    with CaptureQueriesContext(connection) as queries:
        create(users, customer, code="R-1")
    current_tags = 'FROM "requirements_classoption" INNER JOIN "requirements_requirement_tags"'
    assert not [q["sql"] for q in queries.captured_queries if current_tags in q["sql"]]


def test_an_activated_flow_is_entered_in_the_same_transaction(users: Any, customer: Any) -> None:
    with transaction.atomic():
        assert create(users, customer).status.key == "new"
        workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))
        assert create(users, customer).status.key == "to_analyse"


def test_a_rolled_back_activation_is_forgotten(users: Any, customer: Any) -> None:
    with transaction.atomic():
        create(users, customer)
        with pytest.raises(RuntimeError), transaction.atomic():
            workflow_activate(actor=users["admin"], workflow=Workflow.objects.get(key="reviewed"))
            assert create(users, customer).status.key == "to_analyse"
            raise RuntimeError
        assert create(users, customer).status.key == "new"


def test_a_moved_initial_status_is_seen_in_the_same_transaction(users: Any, customer: Any) -> None:
    with transaction.atomic():
        first = create(users, customer)
        flow = first.status.workflow
        old = WorkflowStatus.objects.get(pk=first.status_id)
        other = flow.statuses.exclude(pk=old.pk).order_by("order").first()
        old.is_initial = False
        old.save()
        other.is_initial = True
        other.save()
        assert create(users, customer).status_id == other.pk


def test_a_new_code_pattern_and_rule_version_apply_in_the_same_transaction(users: Any, customer: Any) -> None:
    when = dt.datetime(2024, 5, 6, 9, tzinfo=dt.UTC)
    with transaction.atomic():
        first = create(users, customer, submitted_at=when)
        assert first.code == "DEM20240506001"
        code_pattern_set(actor=users["admin"], pattern="{yyyymm}-{seq:03d}")
        ClassificationRuleVersion.objects.create(number=first.rule_version + 1, summary="新规则")
        second = create(users, customer, submitted_at=when)
    assert second.code == "202405-001"
    assert second.rule_version == first.rule_version + 1


def _joined(*texts: str | None) -> str:
    """The index text as made from the texts joined by spaces and segmented at once."""
    return " ".join(_clean_tokens(list(jieba.cut_for_search(" ".join(t for t in texts if t)))))


_PIECES = st.sampled_from(
    ["客户", "希望", "批量导出", "报表", "按部门", "细分权限", "中华人民共和国", "Excel", "v2.1", "ABC_def", "é",
     "１２", "。", "，", " ", "\n", "-", "_", "2024-03-01", "DEM20240301001", "对账", "时间"]
)  # fmt: skip
_TEXTS = st.lists(st.lists(_PIECES, max_size=8).map("".join), max_size=5)


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_index_text_is_that_of_the_joined_texts(texts: list[str]) -> None:
    assert segment_for_index(*texts) == _joined(*texts)
    assert segment_for_index(*texts, *texts) == _joined(*texts, *texts)

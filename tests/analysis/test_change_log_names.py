"""The change log shows names people know (紧急程度评分, 人工优先级, 调整理由, 鱼骨图 人/机/料/法/环), never an
internal key such as ``analysis.urgency_score`` or a stored value such as ``people:…``.

Every key the code can write on a requirement's log is found by reading the source: the string keys of the
``changes`` of each ``audit_record`` call on a requirement, ``analysis.<field>`` for every analysis field (the
desk writes those from a diff) and every field of the requirement (the edit writes those from a diff)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string

from needpool.analysis.models import RequirementAnalysis
from needpool.core.models import AuditEntry
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import history_field_label, requirement_history_visible

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[2] / "src" / "needpool"
AUDIT_CALLS = {"audit_record", "audit_record_many"}
ON_A_REQUIREMENT = {"requirement", "survivor", "change.requirement", "requirements"}


def _dict_keys(node: ast.AST) -> set[str]:
    """The string keys of a ``changes`` literal, with those of its ``**`` spreads (``**({…} if x else {})``)."""
    if isinstance(node, ast.IfExp):
        return _dict_keys(node.body) | _dict_keys(node.orelse)
    if not isinstance(node, ast.Dict):
        return set()
    keys: set[str] = set()
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None:
            keys |= _dict_keys(value)
        elif isinstance(key, ast.Constant) and isinstance(key.value, str):
            keys.add(key.value)
    return keys


def _written_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"audit_record", "audit_record_many"}
            ):
                continue
            arguments = {keyword.arg: keyword.value for keyword in node.keywords}
            target = arguments.get("obj") or arguments.get("objs")
            if target is None or ast.unparse(target) not in ON_A_REQUIREMENT or "changes" not in arguments:
                continue
            keys |= _dict_keys(arguments["changes"])
    keys |= {f"analysis.{f.name}" for f in RequirementAnalysis._meta.get_fields() if not f.is_relation}
    keys |= {"analysis.whys", "analysis.override_by"}
    keys |= {f.name for f in Requirement._meta.get_fields() if f.concrete}
    return keys - {"id", "search_text", "analysis.id"}


def test_the_scan_finds_the_keys_of_the_desk_and_the_pool():
    keys = _written_keys()
    assert {"priority_override", "override_reason", "analysis.fishbone", "kano_survey", "status", "feedback"} <= keys
    assert {"analysis.urgency_score", "analysis.root_cause", "review_decision", "iteration"} <= keys


def test_every_key_has_a_name_people_know():
    raw = {key for key in _written_keys() if history_field_label(key) == key or "_" in history_field_label(key)}
    assert not raw


def test_the_names_of_the_priority_desk():
    assert history_field_label("analysis.urgency_score") == "紧急度（1–5）"  # the name on the scoring form
    assert history_field_label("priority_override") == "人工优先级"
    assert history_field_label("override_reason") == "调整理由"
    assert history_field_label("analysis.fishbone").startswith("鱼骨图")


def test_a_change_log_with_every_key_shows_no_key(users, requirement):
    """The detail page's change log (``includes/audit_log.html`` with the rows the detail view reads)."""
    keys = sorted(_written_keys())
    values = {key: ["旧值", "新值"] for key in keys}
    values["analysis.fishbone"] = ["", "people:培训不足, machine:设备老化, method:流程缺失"]
    values["analysis.compliance_status"] = ["pending", "approved"]
    values["priority_override"] = ["", "P1"]
    values["sla_breached"] = [False, True]
    values["analysis.criteria_scores"] = [{}, {"战略契合": 8}]
    AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Requirement),
        object_id=requirement.pk,
        object_repr=str(requirement),
        action=AuditEntry.Action.UPDATE,
        changes=values,
        actor=users["product_manager"],
    )
    history = requirement_history_visible(requirement, user=users["admin"], evidence=[])
    html = render_to_string("includes/audit_log.html", {"history": history, "card_id": "audit-log"})
    log = html[html.index('id="audit-log"') :]
    log = log[: log.index("</table>", log.rindex("<table"))]
    labels = re.findall(r"<th[^>]*>([^<]*)</th>", log)
    assert len(labels) >= len(keys)
    shown_keys = [label for label in labels if label.strip() in keys or re.fullmatch(r"[a-z_.]+", label.strip())]
    assert not shown_keys
    for name in ("紧急度", "人工优先级", "调整理由", "鱼骨图", "合规检查"):
        assert name in log
    assert "人：培训不足；机：设备老化；法：流程缺失" in log and "people:" not in log
    assert "合规通过" in log and "approved" not in log
    assert "是" in log and "True" not in log
    assert "战略契合：8" in log

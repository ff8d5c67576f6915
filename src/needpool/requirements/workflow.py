"""Status flows as data, and the pure rules over them (no database).

Two default flows come from the templates; both carry 暂缓 deferred and 已拒绝 rejected.
The database copy (Workflow / WorkflowStatus / WorkflowTransition) is seeded from here and is
admin-editable afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StatusDef:
    key: str
    label: str
    label_en: str
    category: str
    initial: bool = False
    entry_gates: tuple[str, ...] = ()  # gates checked on every move into this status
    exit_gates: tuple[str, ...] = ()  # gates checked on every move out of this status


@dataclass(frozen=True)
class FlowDef:
    key: str
    name: str
    statuses: tuple[StatusDef, ...]
    transitions: tuple[tuple[str, str], ...]


# Gate keys named by the default flows. Their checks are registered in requirements.lifecycle (its own
# gates) and by the apps that take part in a requirement's life (analysis: root cause; later reviews,
# delivery) from their AppConfig.ready().
GATE_STANDARDISED = "standardised"
GATE_ROOT_CAUSE = "root_cause"

_DEFERRED = StatusDef("deferred", "暂缓", "Deferred", "deferred")
_REJECTED = StatusDef("rejected", "已拒绝", "Rejected", "rejected")

STANDARD = FlowDef(
    key="standard",
    name="标准流程（待处理 → 处理中 → 测试中 → 已上线 → 已关闭）",
    statuses=(
        StatusDef("new", "待处理", "New", "new", initial=True, exit_gates=(GATE_STANDARDISED,)),
        StatusDef("in_progress", "处理中", "In progress", "active"),
        StatusDef("testing", "测试中", "Testing", "active"),
        StatusDef("launched", "已上线", "Launched", "done"),
        StatusDef("closed", "已关闭", "Closed", "done"),
        _DEFERRED,
        _REJECTED,
    ),
    transitions=(
        ("new", "in_progress"),
        ("new", "deferred"),
        ("new", "rejected"),
        ("in_progress", "testing"),
        ("in_progress", "deferred"),
        ("in_progress", "rejected"),
        ("testing", "launched"),
        ("testing", "in_progress"),
        ("launched", "closed"),
        ("deferred", "in_progress"),
        ("deferred", "new"),
        ("deferred", "rejected"),
        ("rejected", "closed"),
    ),
)

REVIEWED = FlowDef(
    key="reviewed",
    name="评审流程（待分析 → 评审中 → 开发中 → 测试中 → 已上线 → 已关闭）",
    statuses=(
        StatusDef("to_analyse", "待分析", "To analyse", "new", initial=True, exit_gates=(GATE_STANDARDISED,)),
        StatusDef("in_review", "评审中", "In review", "active", entry_gates=(GATE_ROOT_CAUSE,)),
        StatusDef("developing", "开发中", "In development", "active"),
        StatusDef("testing", "测试中", "Testing", "active"),
        StatusDef("launched", "已上线", "Launched", "done"),
        StatusDef("closed", "已关闭", "Closed", "done"),
        _DEFERRED,
        _REJECTED,
    ),
    transitions=(
        ("to_analyse", "in_review"),
        ("to_analyse", "deferred"),
        ("to_analyse", "rejected"),
        ("in_review", "developing"),
        ("in_review", "to_analyse"),
        ("in_review", "deferred"),
        ("in_review", "rejected"),
        ("developing", "testing"),
        ("developing", "deferred"),
        ("testing", "launched"),
        ("testing", "developing"),
        ("launched", "closed"),
        ("deferred", "in_review"),
        ("deferred", "to_analyse"),
        ("deferred", "rejected"),
        ("rejected", "closed"),
    ),
)

DEFAULT_FLOWS = (STANDARD, REVIEWED)
DEFAULT_ACTIVE_FLOW = STANDARD.key


def is_allowed(transitions: Iterable[tuple[str, str]], source: str, target: str) -> bool:
    return (source, target) in set(transitions)


def targets_from(transitions: Iterable[tuple[str, str]], source: str) -> list[str]:
    return [t for s, t in transitions if s == source]


def missing_for_leaving_initial(
    *, has_customer: bool, background: str, concrete_ask: str, expected_date: object
) -> list[str]:
    """The standardisation gate (信息标准化): names of what is missing, empty when complete."""
    missing: list[str] = []
    if not has_customer:
        missing.append("customer")
    if not (background or "").strip():
        missing.append("background")
    if not (concrete_ask or "").strip():
        missing.append("concrete_ask")
    if expected_date is None:
        missing.append("expected_date")
    return missing


# ---------------------------------------------------------------- gates


@dataclass(frozen=True)
class Move:
    """One proposed status move, as plain data: what every gate check sees besides the facts."""

    source_key: str
    source_label: str
    source_category: str
    target_key: str
    target_label: str
    target_category: str
    note: str = ""


Facts = Mapping[str, Any]
GateCheck = Callable[[Move, Facts], str | None]


@dataclass(frozen=True)
class Gate:
    """A condition a move must meet: ``check`` returns the refusal in the user's language, or None.

    ``facts`` names what the check reads; each fact is computed once per move by the provider that was
    registered for it (requirements.lifecycle), so checks stay pure and testable without a database.
    """

    key: str
    label: Callable[[], str]
    check: GateCheck
    facts: tuple[str, ...] = field(default=())


def gate_keys_for(*, exit_gates: Sequence[str], entry_gates: Sequence[str]) -> list[str]:
    """The gates of a move from a status with ``exit_gates`` to one with ``entry_gates``, in order, once each."""
    return list(dict.fromkeys([*exit_gates, *entry_gates]))


def gate_refusals(gates: Sequence[Gate], move: Move, facts: Facts) -> list[str]:
    """The single rule of every gate: each gate's refusal for ``move`` given ``facts``, in gate order."""
    refusals = []
    for gate in gates:
        message = gate.check(move, facts)
        if message:
            refusals.append(message)
    return refusals

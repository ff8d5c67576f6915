"""The registry through which other apps take part in a requirement's life, without requirements importing them.

Requirements owns status, transitions, gates, priority and SLA. Apps that add conditions or facts to that
life (analysis: the root cause before review; later reviews: a decision before 开发中; delivery: acceptance
before 已上线) register them here from their ``AppConfig.ready()``:

- a **fact** is a named value about one requirement (``root_cause_complete``), computed by its provider;
- a **gate** (``workflow.Gate``) is a pure check over a move and the facts it names; which gates apply is
  data on the workflow's statuses (``WorkflowStatus.entry_gates`` / ``exit_gates``);
- a **merge participant** moves an app's rows from merged requirements to the survivor, and back on undo.

This is the one plugin registry in the code base: it exists to break the import cycle, so it stays small,
typed and explicit. Registration is idempotent by key, so a reloaded app config does not double up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from needpool.core.text import human_join
from needpool.requirements import workflow as flow_rules
from needpool.requirements.choices import StatusCategory

if TYPE_CHECKING:
    from needpool.requirements.models import Requirement, WorkflowStatus

FactProvider = Callable[["Requirement"], Any]

_facts: dict[str, FactProvider] = {}
_gates: dict[str, flow_rules.Gate] = {}


def register_fact(name: str, provider: FactProvider) -> None:
    _facts[name] = provider


def register_gate(gate: flow_rules.Gate) -> None:
    _gates[gate.key] = gate


def registered_gates() -> Mapping[str, flow_rules.Gate]:
    return dict(_gates)


def fact(name: str, requirement: Requirement, default: Any = None) -> Any:
    """One fact about ``requirement``; ``default`` when no app provides it (that app is not installed)."""
    provider = _facts.get(name)
    return default if provider is None else provider(requirement)


def _facts_for(gates: Sequence[flow_rules.Gate], requirement: Requirement) -> dict[str, Any]:
    names = dict.fromkeys(name for gate in gates for name in gate.facts)
    return {name: fact(name, requirement) for name in names}


def move_between(source: WorkflowStatus, target: WorkflowStatus, note: str) -> flow_rules.Move:
    """The move ``source`` → ``target`` as the flow's gates judge it."""
    return flow_rules.Move(
        source_key=source.key,
        source_label=str(source),
        source_category=source.category,
        target_key=target.key,
        target_label=str(target),
        target_category=target.category,
        note=note,
    )


def _gates_named(keys: Sequence[str]) -> list[flow_rules.Gate]:
    # A key no installed app provides (its app was removed) cannot be checked and does not block.
    return [_gates[key] for key in keys if key in _gates]


def refusals(requirement: Requirement, source: WorkflowStatus, target: WorkflowStatus, note: str = "") -> list[str]:
    """Why the move ``source`` → ``target`` is refused by its gates (empty when every gate passes)."""
    keys = flow_rules.gate_keys_for(exit_gates=source.exit_gates or [], entry_gates=target.entry_gates or [])
    gates = _gates_named(keys)
    if not gates:
        return []
    return flow_rules.gate_refusals(gates, move_between(source, target, note), _facts_for(gates, requirement))


def exit_blockers(requirement: Requirement, source: WorkflowStatus) -> list[str]:
    """What must be done before the requirement can leave ``source`` at all (for the detail page).

    Evaluated as a move to an ordinary active status, so exemptions for rejection do not hide the work.
    """
    gates = _gates_named(source.exit_gates or [])
    if not gates:
        return []
    move = flow_rules.Move(
        source_key=source.key,
        source_label=str(source),
        source_category=source.category,
        target_key="",
        target_label="",
        target_category=StatusCategory.ACTIVE,
    )
    return flow_rules.gate_refusals(gates, move, _facts_for(gates, requirement))


# ---------------------------------------------------------------- merge participants


@dataclass(frozen=True)
class MergeParticipant:
    """An app's rows that follow a merge from the merged requirements to the survivor, and back on undo.

    ``move(survivor, merged_ids)`` moves them and returns entries for ``RequirementMerge.moved`` (each a
    name from ``labels`` mapping origin requirement id → moved ids); ``undo(survivor, moved, left)`` moves
    back what still is on the survivor and adds to ``left`` (name → ids) what had moved on since;
    ``count(moved)`` says how many items moved, for the merge's summary.
    """

    key: str
    labels: Mapping[str, Callable[[], str]]
    move: Callable[[Requirement, list[int]], dict[str, Any]]
    undo: Callable[[Requirement, Mapping[str, Any], dict[str, list[int]]], None]
    count: Callable[[Mapping[str, Any]], int]


_merge_participants: dict[str, MergeParticipant] = {}


def register_merge_participant(participant: MergeParticipant) -> None:
    _merge_participants[participant.key] = participant


def merge_participants() -> list[MergeParticipant]:
    return list(_merge_participants.values())


# ---------------------------------------------------------------- after a move, and sections of a requirement


@dataclass(frozen=True)
class StatusMoved:
    """A committed status move, as plain data, handed to every listener after the transaction commits."""

    requirement_id: int
    source_key: str
    source_category: str
    target_key: str
    target_category: str
    actor_id: int | None
    note: str


StatusListener = Callable[[StatusMoved], object]  # what it returns is ignored
_status_listeners: dict[str, StatusListener] = {}


def register_status_listener(key: str, listener: StatusListener) -> None:
    """``listener`` runs after every committed status move (e.g. loop: tell the customer when it launched).

    Listeners run after commit and must be quick: they queue jobs or write their own rows; one failing is
    logged and does not stop the others (the move itself is already committed).
    """
    _status_listeners[key] = listener


def status_moved(event: StatusMoved) -> None:
    """Called by the transition service inside its transaction: hands ``event`` to listeners on commit."""
    from django.db import transaction

    def deliver() -> None:
        import logging

        for key, listener in list(_status_listeners.items()):
            try:
                listener(event)
            except Exception:  # one failing app must not hide the move from the others
                logging.getLogger("needpool.lifecycle").exception("status listener %s failed", key)

    transaction.on_commit(deliver)


@dataclass(frozen=True)
class Section:
    """A panel another app adds to a requirement's pages without requirements importing it.

    ``context(requirement, user)`` returns the template's context, or None to show nothing (nothing recorded,
    or the user may not see it). ``places`` says where it shows: ``detail`` (the requirement page) and/or
    ``dossier`` (the archive of a closed requirement, also printed to PDF).

    ``probe()``, when given, is a boolean expression over the page's requirement (``OuterRef("pk")``) that is
    false when the section has nothing recorded for it, whoever looks. A page asks every section's probe in one
    statement and calls ``context`` only where the probe holds; elsewhere ``when_empty(requirement, user)``
    gives the context of the empty section (None, the default, hides it). Most requirements have no reviews,
    evaluations or notices: their sections then cost no statement each.
    """

    key: str
    label: Callable[[], str]
    order: int
    template: str
    context: Callable[[Requirement, Any], dict[str, Any] | None]
    places: frozenset[str] = frozenset({"detail", "dossier"})
    probe: Callable[[], Any] | None = None
    when_empty: Callable[[Requirement, Any], dict[str, Any] | None] | None = None


_sections: dict[str, Section] = {}


def register_section(section: Section) -> None:
    _sections[section.key] = section


def sections(place: str) -> list[Section]:
    return sorted((s for s in _sections.values() if place in s.places), key=lambda s: (s.order, s.key))


# ---------------------------------------------------------------- edits another app must allow

EditGuard = Callable[["Requirement", set[str]], str | None]
_edit_guards: dict[str, EditGuard] = {}


def register_edit_guard(key: str, guard: EditGuard) -> None:
    """``guard(requirement, changed_fields)`` returns why an edit of those fields is refused now, or None
    (delivery: a requirement being built in an active iteration changes only through an approved change
    request)."""
    _edit_guards[key] = guard


def edit_refusals(requirement: Requirement, changed: set[str]) -> list[str]:
    """Why an edit changing ``changed`` is refused (empty when every guard allows it)."""
    if not changed:
        return []
    return [message for guard in _edit_guards.values() if (message := guard(requirement, changed))]


# ---------------------------------------------------------------- names on the change log

_history_labels: dict[str, Any] = {}


def register_history_labels(labels: Mapping[str, Any]) -> None:
    """Names people know for the keys an app writes on a requirement's change log (e.g. ``analysis.root_cause``
    → 根本原因); values are lazy translations."""
    _history_labels.update(labels)


def history_label(key: str) -> str | None:
    label = _history_labels.get(key)
    return None if label is None else str(label)


_history_values: dict[str, Callable[[Any], Any]] = {}


def register_history_values(formatters: Mapping[str, Callable[[Any], Any]]) -> None:
    """How an app's stored values read on the change log (e.g. ``people:培训不足`` → 人：培训不足): ``key`` →
    ``format(value)``, called with each non-empty old and new value."""
    _history_values.update(formatters)


def history_value(key: str, value: Any) -> Any:
    formatter = _history_values.get(key)
    if formatter is None or value in ("", None):
        return value
    return formatter(value)


# ---------------------------------------------------------------- requirements' own gates and facts


GATE_LABELS: dict[str, Callable[[], str]] = {
    "customer": lambda: _("客户"),
    "background": lambda: _("背景"),
    "concrete_ask": lambda: _("具体诉求"),
    "expected_date": lambda: _("期望时间"),
}


def standardisation_missing(requirement: Requirement) -> list[str]:
    """Keys of what the standardisation gate (信息标准化) still misses."""
    return flow_rules.missing_for_leaving_initial(
        has_customer=requirement.feedback_items.filter(customer__isnull=False).exists(),
        background=requirement.background,
        concrete_ask=requirement.concrete_ask,
        expected_date=requirement.expected_date,
    )


def _check_standardised(move: flow_rules.Move, facts: flow_rules.Facts) -> str | None:
    missing = facts.get("standardisation_missing") or []
    if not missing:
        return None
    # An explicit rejection with a reason may leave without the details: nothing will be built from it.
    if move.target_category == StatusCategory.REJECTED and move.note.strip():
        return None
    names = human_join([GATE_LABELS[m]() for m in missing])
    message = _("需求信息未标准化，不能离开“%(source)s”：缺少%(missing)s。") % {
        "source": move.source_label,
        "missing": names,
    }
    if move.target_category == StatusCategory.REJECTED:
        message += _("拒绝时请填写理由。")
    return message


register_fact("standardisation_missing", standardisation_missing)
register_fact("priority", lambda requirement: requirement.priority)
register_gate(
    flow_rules.Gate(
        key=flow_rules.GATE_STANDARDISED,
        label=lambda: _("信息已标准化（客户、背景、具体诉求、期望时间）"),
        check=_check_standardised,
        facts=("standardisation_missing",),
    )
)

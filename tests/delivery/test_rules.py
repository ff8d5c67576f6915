"""Pure rules: dependency cycles and the date warnings, with property tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from needpool.delivery import rules
from needpool.delivery.lifecycle import check_acceptance
from needpool.requirements.workflow import Move

nodes = st.integers(min_value=1, max_value=8)
graphs = st.dictionaries(nodes, st.sets(nodes, max_size=4), max_size=8)


def _reachable(edges: dict[int, set[int]], start: int, goal: int) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges.get(node, ()))
    return False


@given(graphs, nodes, st.sets(nodes, max_size=4))
def test_a_cycle_is_found_exactly_when_a_dependency_leads_back(edges, task, deps):
    expected = any(_reachable({**edges, task: set(deps)}, dep, task) for dep in deps)
    assert rules.creates_cycle(edges, task, deps) is expected


@given(graphs, nodes)
def test_depending_on_oneself_is_always_a_cycle(edges, task):
    assert rules.creates_cycle(edges, task, [task])


def test_the_worked_example_chain_is_no_cycle_but_closing_it_is():
    edges = {2: {1}, 3: {2}}  # 开发 waits for PRD, 测试 for 开发
    assert not rules.creates_cycle(edges, 3, [2])
    assert rules.creates_cycle(edges, 1, [3])


day = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 12, 31))


@given(day, st.integers(0, 60), day, st.integers(0, 60), st.booleans())
def test_a_task_is_warned_exactly_when_it_starts_before_an_open_dependency_is_due(s1, l1, s2, l2, done):
    task = rules.Dated("任务", s1, s1 + dt.timedelta(days=l1))
    dep = rules.Dated("前置", s2, s2 + dt.timedelta(days=l2), done)
    warned = bool(rules.dependency_warnings(task, [dep]))
    assert warned is (not done and task.start <= dep.due)


@given(day, st.integers(0, 60), day, st.integers(0, 60))
def test_outside_the_plan_means_a_day_beyond_either_end(start, length, wstart, wlength):
    due, wend = start + dt.timedelta(days=length), wstart + dt.timedelta(days=wlength)
    assert rules.outside(start, due, wstart, wend) is (start < wstart or due > wend)


def _move(target: str = "launched") -> Move:
    return Move(
        source_key="testing",
        source_label="测试中",
        source_category="active",
        target_key=target,
        target_label="已上线",
        target_category="done",
    )


@given(st.one_of(st.none(), st.booleans()))
def test_the_acceptance_gate_lets_through_only_a_passed_acceptance(passed):
    refusal = check_acceptance(_move(), {"acceptance_passed": passed})
    assert (refusal is None) is bool(passed)
    if refusal:
        assert "验收通过" in refusal

"""Pure rules of plans and tasks (no database): dependency cycles and the date warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def creates_cycle(edges: Mapping[int, Iterable[int]], task: int, depends_on: Iterable[int]) -> bool:
    """Whether giving ``task`` the dependencies ``depends_on`` closes a loop in ``edges`` (task → what it waits
    for). A task depending on itself is a loop too."""
    graph = {node: set(targets) for node, targets in edges.items()}
    graph[task] = set(depends_on)
    stack = list(graph[task])
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if node == task:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(graph.get(node, ()))
    return False


@dataclass(frozen=True)
class Dated:
    """What the date warnings read of a task: its title, dates and whether it is done."""

    title: str
    start: dt.date
    due: dt.date
    done: bool = False


def dependency_warnings(task: Dated, depends_on: Iterable[Dated]) -> list[tuple[Dated, str]]:
    """Each dependency that does not finish before ``task`` starts, with the kind of warning: ``start``
    (``task`` is planned to start on or before the dependency's due date), for an open dependency only."""
    return [(dep, "start") for dep in depends_on if not dep.done and task.start <= dep.due]


def outside(start: dt.date, due: dt.date, window_start: dt.date, window_end: dt.date) -> bool:
    """Whether ``start``–``due`` leaves the window (a task outside its plan's dates)."""
    return start < window_start or due > window_end

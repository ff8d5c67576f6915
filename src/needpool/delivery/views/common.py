"""What the delivery pages share: the Gantt data, safe redirects, form helpers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from needpool.delivery.choices import TaskStatus
from needpool.delivery.models import Task

PROGRESS: dict[str, int] = {TaskStatus.TODO: 0, TaskStatus.DOING: 50, TaskStatus.DONE: 100, TaskStatus.BLOCKED: 0}


def gantt_rows(tasks: Iterable[Task], *, group: bool = False) -> list[dict[str, Any]]:
    """Tasks as frappe-gantt rows (ids as strings, dependencies as a comma list, a CSS class per status)."""
    today = timezone.localdate()
    rows = []
    for task in tasks:
        name = f"{task.plan.title} · {task.title}" if group else task.title
        css = "overdue" if task.is_overdue(today) else task.status
        rows.append(
            {
                "id": f"t{task.pk}",
                "name": name,
                "start": task.start_date.isoformat(),
                "end": task.due_date.isoformat(),
                "progress": PROGRESS.get(task.status, 0),
                "dependencies": ",".join(f"t{d.pk}" for d in task.depends_on.all()),
                "custom_class": f"gantt-{css}",
                "owner": str(task.owner) if task.owner_id else "",
                "status": task.get_status_display(),
            }
        )
    return rows


def safe_next(request: HttpRequest, value: str, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return default


def plan_url(pk: int) -> str:
    return reverse("delivery:plan", args=[pk])

"""The home page: a user's own work, gathered from the apps that own it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from needpool.core.selectors import notification_list
from needpool.customers.selectors import follow_ups_due
from needpool.delivery.selectors import overdue_tasks
from needpool.evaluation.selectors import evaluations_due
from needpool.requirements.permissions import can_create_requirement
from needpool.requirements.selectors import my_open_requirements, sla_breaches


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    context: dict[str, Any] = {
        "my_open": list(my_open_requirements(user=user, limit=20)),
        "breaches": list(sla_breaches(user=user, limit=20)),
        "follow_ups": list(follow_ups_due(user=user, within_days=7, limit=20, today=today)),
        "overdue_tasks": list(overdue_tasks(user, today=today, limit=20)),
        "evaluations_due": list(evaluations_due(user=user, today=today, limit=20)),
        "unread_count": notification_list(user=user).filter(read_at__isnull=True).count(),
        "can_create": can_create_requirement(user),
        "today": today,
    }
    return render(request, "home/home.html", context)

"""The requirement list's ``project`` parameter: an analysis project's scope, as the reader sees it.

Requirements may not import analysis, so the list applies ``project`` through the function registered here
(``register``, called once when the analysis app is ready): the dashboard's project slice and the list it links to
count the same requirements.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from needpool.accounts.models import User
from needpool.analysis.selectors import project_get, project_requirements
from needpool.requirements.filters import register_scope_filter
from needpool.requirements.models import Requirement


def project_scope(queryset: QuerySet[Requirement], value: Any, user: User | None) -> QuerySet[Requirement]:
    """The requirements of the project ``value`` that ``user`` may see; a project they cannot open: none."""
    if user is None:
        return queryset.none()
    try:
        project = project_get(user=user, pk=value)
    except Http404:
        return queryset.none()
    return queryset.filter(pk__in=project_requirements(project, user=user).order_by().values("pk"))


def register() -> None:
    register_scope_filter("project", project_scope)

"""Permission base shared by every app: capability checks and the not-found-or-forbidden rule."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from needpool.core.config import site_config
from needpool.core.models import BackgroundJob

# The capability to change site settings; the roles that hold it are defined in accounts.roles (Cap.CONFIGURE).
CONFIGURE = "configure"


def user_can(user: Any, cap: str) -> bool:
    return bool(user and user.is_authenticated and user.can(cap))


def require(user: Any, cap: str, message: str | None = None) -> None:
    """Raise PermissionDenied with a message in the user's language unless ``user`` has ``cap``."""
    if not user_can(user, cap):
        raise PermissionDenied(message or _("您没有执行此操作的权限。"))


def is_admin(user: Any) -> bool:
    """An admin (holds CONFIGURE) or a superuser."""
    return bool(user and user.is_authenticated and (user.is_superuser or user.can(CONFIGURE)))


def visible_jobs(user: Any) -> QuerySet[BackgroundJob]:
    """Background jobs a user may see on the shared job page: their own; an admin sees every job."""
    if not (user and user.is_authenticated):
        return BackgroundJob.objects.none()
    if is_admin(user):
        return BackgroundJob.objects.all()
    return BackgroundJob.objects.filter(created_by=user.pk)


def can_retry_job(user: Any, job: BackgroundJob) -> bool:
    """The job's creator or an admin may start an interrupted or failed job again."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return is_admin(user) or (job.created_by_id is not None and job.created_by_id == user.pk)


def can_read_api_docs(user: Any) -> bool:
    """The OpenAPI document and Swagger UI: signed-in users; everyone once an admin publishes them (站点设置)."""
    return bool(user and user.is_authenticated) or site_config().api_docs_public

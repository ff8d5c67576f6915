"""Who may do what on the analysis desk.

Every rule of the app is one ``can_<action>(user, obj=None)`` here: the services check them (the last word),
views and the API ask them first (a refusal is 403 before any input error), and pages get the answers
precomputed (``desk_permissions``) instead of asking in templates. ``visible_projects`` and
``visible_jobs`` are the read scopes the selectors build on.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.analysis.models import AnalysisProject
from needpool.core.models import BackgroundJob
from needpool.core.permissions import user_can

# Who is asking: a signed-in user, or the anonymous one a request carries before sign-in.
Asker = User | AnonymousUser | None

# The background jobs the analysis desk starts (and shows).
JOB_KINDS = ("priority_recompute",)


def deny(message: str | None = None) -> PermissionDenied:
    """The refusal, in the user's language."""
    return PermissionDenied(message or _("您没有执行此操作的权限。"))


def acting_user(user: Asker) -> User:
    """The signed-in user behind a request (pages and the API only let signed-in users this far)."""
    if isinstance(user, User) and user.is_authenticated:
        return user
    raise deny()


# ---------------------------------------------------------------- one requirement's desk


def can_score(user: Asker, obj: Any = None) -> bool:
    """Change a requirement's scoring inputs, pain points and value statement."""
    return user_can(user, Cap.ANALYSE)


def can_override_priority(user: Asker, obj: Any = None) -> bool:
    """Set or clear a manual priority beside the computed one."""
    return user_can(user, Cap.ANALYSE)


def can_edit_root_cause(user: Asker, obj: Any = None) -> bool:
    """Edit the 5-Whys chain and the fishbone diagram."""
    return user_can(user, Cap.ANALYSE)


def can_estimate(user: Asker, obj: Any = None) -> bool:
    """Assess feasibility (difficulty, effort, cost, resources)."""
    return user_can(user, Cap.ESTIMATE)


def can_sign_compliance(user: Asker, obj: Any = None) -> bool:
    """Approve or reject a requirement's compliance (the compliance role only)."""
    return user_can(user, Cap.COMPLIANCE_SIGN)


def can_edit_kano_survey(user: Asker, obj: Any = None) -> bool:
    """Create or reword a requirement's Kano survey."""
    return user_can(user, Cap.ANALYSE)


def can_enter_kano_answer(user: Asker, obj: Any = None) -> bool:
    """Enter a customer's Kano answers on their behalf (the public link needs no account)."""
    return user_can(user, Cap.FEEDBACK_WRITE)


def desk_permissions(user: Asker, requirement: Any = None) -> dict[str, bool]:
    """What the desk page may offer the user, for the templates (``allowed.score`` …)."""
    return {
        "score": can_score(user, requirement),
        "override": can_override_priority(user, requirement),
        "root_cause": can_edit_root_cause(user, requirement),
        "estimate": can_estimate(user, requirement),
        "sign": can_sign_compliance(user, requirement),
        "kano_survey": can_edit_kano_survey(user, requirement),
        "kano_answer": can_enter_kano_answer(user, requirement),
    }


# ---------------------------------------------------------------- settings and jobs


def can_change_settings(user: Asker, obj: Any = None) -> bool:
    """Change the priority model, its weights, thresholds and the 5-Whys rule."""
    return user_can(user, Cap.ANALYSE)


def can_watch_all_jobs(user: Asker, obj: Any = None) -> bool:
    """Watch every analysis job (others watch only the jobs they started)."""
    return user_can(user, Cap.ANALYSE)


def visible_jobs(user: Asker) -> QuerySet[BackgroundJob]:
    qs = BackgroundJob.objects.filter(kind__in=JOB_KINDS)
    if can_watch_all_jobs(user):
        return qs
    pk = getattr(user, "pk", None)
    return qs.filter(created_by=pk) if pk is not None else qs.none()


# ---------------------------------------------------------------- analysis projects


def can_create_project(user: Asker, obj: Any = None) -> bool:
    return user_can(user, Cap.ANALYSE)


def can_edit_project(user: Asker, obj: AnalysisProject | None = None) -> bool:
    """Analysts edit any project; a project's leader edits theirs."""
    if user_can(user, Cap.ANALYSE):
        return True
    pk = getattr(user, "pk", None)
    return obj is not None and pk is not None and pk == obj.leader_id


def can_see_all_projects(user: Asker, obj: Any = None) -> bool:
    return user_can(user, Cap.SEE_ALL)


def visible_projects(user: Asker) -> QuerySet[AnalysisProject]:
    """Projects are visible to pool-wide roles, to their leader and to their members."""
    if can_see_all_projects(user):
        return AnalysisProject.objects.all()
    if not (user is not None and user.is_authenticated):
        return AnalysisProject.objects.none()
    return AnalysisProject.objects.filter(Q(leader=user) | Q(members__user=user)).distinct()

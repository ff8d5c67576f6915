"""Permission-scoped reads of the analysis desk."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, Count, F, IntegerField, Max, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from needpool.accounts.models import User
from needpool.analysis import scoring
from needpool.analysis.filters import ProjectFilter, project_filter_data
from needpool.analysis.models import (
    AnalysisProject,
    FishboneCause,
    KanoSurvey,
    ProjectMember,
    RequirementAnalysis,
    WhyStep,
)
from needpool.analysis.permissions import visible_jobs, visible_projects
from needpool.core.models import BackgroundJob
from needpool.core.pagination import NarrowPageQuerySet, narrow_pages
from needpool.customers.models import Customer
from needpool.customers.permissions import customer_scope, visible_customers
from needpool.requirements.choices import StatusCategory
from needpool.requirements.filters import RequirementFilter
from needpool.requirements.models import Feedback, Requirement
from needpool.requirements.permissions import requirement_scope, visible_requirements
from needpool.requirements.selectors import LIST_RELATED, requirement_list

PRIORITY_ORDER = Case(
    When(priority="P0", then=Value(0)),
    When(priority="P1", then=Value(1)),
    When(priority="P2", then=Value(2)),
    When(priority="P3", then=Value(3)),
    default=Value(9),
    output_field=IntegerField(),
)


def analysis_of(requirement: Requirement) -> RequirementAnalysis:
    """The requirement's analysis row, or an unsaved empty one."""
    found = (
        RequirementAnalysis.objects.filter(requirement=requirement)
        .select_related("override_by", "compliance_by")
        .first()
    )
    return found or RequirementAnalysis(requirement=requirement)


def whys_of(requirement: Requirement) -> list[WhyStep]:
    return list(requirement.whys.order_by("position"))


def fishbone_of(requirement: Requirement) -> dict[str, list[FishboneCause]]:
    grouped: dict[str, list[FishboneCause]] = {}
    for cause in requirement.fishbone.order_by("category", "position", "id"):
        grouped.setdefault(cause.category, []).append(cause)
    return grouped


class RankedQuerySet(NarrowPageQuerySet[Requirement]):
    """``ranked``'s rows: a page (a slice) sorts only the few columns the order needs, then reads the page's rows.

    The order (priority, computed score, newest) is on an expression and on the analysis table, so no index
    serves it and the database sorts every visible requirement to find a page. Sorted whole, each of them
    carried its full row and its joins (type, urgency, owner) into the sort: 130 ms on SQLite at 100,000
    requirements. A slice instead picks the page's ids by a narrow copy of the same query
    (``NarrowPageQuerySet``): 60 ms; 35 ms where it reads ``req_ranking_idx``.
    """

    #: Whether the page's ids and the count may read requirements' ``req_ranking_idx`` (its comment): only
    #: for the whole pool, unfiltered. A filter or a user's scope on another column (owner, type, customer
    #: value …) would have the database walk the index and then read each row anyway: slower than the table.
    reads_ranking_index = False

    def count(self) -> int:
        if self._result_cache is not None:
            return len(self._result_cache)
        return self._narrow().count()

    def _narrow(self) -> QuerySet[Requirement]:
        """The same query as a plain QuerySet, opted into the ranking's index where it helps ("id IS NOT NULL"
        always holds). The page's own query leaves the condition out: it reads its rows by id."""
        plain = super()._narrow()
        return plain.filter(pk__isnull=False) if self.reads_ranking_index else plain


class _WholePoolRanked(RankedQuerySet):
    reads_ranking_index = True


def ranked(
    *, user: User, filters: dict[str, Any] | None = None, base: QuerySet[Requirement] | None = None
) -> RankedQuerySet:
    """Visible requirements with their analysis, best priority and highest score first.

    Without ``base``: the requirement list's (merged ones left out), less the rejected ones, which are
    not going to be done whatever their priority. A slice of the result (a page) is read as
    ``RankedQuerySet`` says."""
    if base is not None:
        qs = base
    else:
        qs = requirement_list(user=user, filters=filters).exclude(status__category=StatusCategory.REJECTED)
    ordered = (
        qs.select_related("analysis")
        .annotate(priority_rank=PRIORITY_ORDER)
        .order_by("priority_rank", F("analysis__computed_score").desc(nulls_last=True), "-submitted_at", "-id")
    )
    filtered = any(filters.get(name) for name in RequirementFilter.base_filters if name != "sort") if filters else False
    whole_pool = base is None and not filtered and requirement_scope(user) is None
    return _as_ranked(ordered, _WholePoolRanked if whole_pool else RankedQuerySet)


def _as_ranked(qs: QuerySet[Requirement], kind: type[RankedQuerySet]) -> RankedQuerySet:
    return cast(RankedQuerySet, narrow_pages(qs, kind))


def matrix_points(
    *, user: User, base: QuerySet[Requirement] | None = None, limit: int = 2000, overrides: bool = False
) -> list[dict[str, Any]]:
    """Points for the urgency × importance chart (requirements that have both scores).

    ``overrides``: each point also says the computed priority (``computed``), and when a person overrode it,
    ``overridden`` and the ``reason`` (the chart then shows both the computed and the effective point)."""
    qs = base if base is not None else visible_requirements(user).filter(merged_into__isnull=True)
    fields = [
        "pk",
        "code",
        "title",
        "priority",
        "analysis__urgency_score",
        "analysis__importance_score",
        "analysis__value_score",
        "analysis__cost_score",
        "analysis__effort",
    ]
    if overrides:
        fields += ["analysis__computed_priority", "analysis__override_priority", "analysis__override_reason"]
    rows = (
        qs.filter(analysis__urgency_score__isnull=False, analysis__importance_score__isnull=False)
        .values(*fields)
        .order_by("-submitted_at", "-id")[:limit]
    )
    points = [
        {
            "id": r["pk"],
            "code": r["code"],
            "title": r["title"],
            "priority": r["priority"],
            "urgency": r["analysis__urgency_score"],
            "importance": r["analysis__importance_score"],
            "value": r["analysis__value_score"],
            "cost": r["analysis__cost_score"],
            "effort": float(r["analysis__effort"]) if r["analysis__effort"] is not None else None,
        }
        for r in rows
    ]
    if overrides:
        for point, r in zip(points, rows, strict=True):
            overridden = bool(r["analysis__override_priority"])
            point["computed"] = r["analysis__computed_priority"] or ""
            point["overridden"] = overridden
            point["reason"] = r["analysis__override_reason"] if overridden else ""
    return points


def value_effort_points(
    *, user: User, base: QuerySet[Requirement] | None = None, limit: int = 2000
) -> list[dict[str, Any]]:
    qs = base if base is not None else visible_requirements(user).filter(merged_into__isnull=True)
    rows = (
        qs.filter(analysis__value_score__isnull=False)
        .filter(Q(analysis__cost_score__isnull=False) | Q(analysis__effort_days__isnull=False))
        .values(
            "pk", "code", "title", "priority", "analysis__value_score", "analysis__cost_score", "analysis__effort_days"
        )
        .order_by("-submitted_at", "-id")[:limit]
    )
    return [
        {
            "id": r["pk"],
            "code": r["code"],
            "title": r["title"],
            "priority": r["priority"],
            "value": r["analysis__value_score"],
            "effort": float(r["analysis__effort_days"])
            if r["analysis__effort_days"] is not None
            else r["analysis__cost_score"],
        }
        for r in rows
    ]


def _votes(user: User) -> QuerySet[Feedback]:
    """Live feedback from a live customer ``user`` sees: the votes of the weighted demand.

    The customers are a condition on the join the value tier needs anyway, not ``customer_id IN (SELECT id
    FROM customers …)``: a list SQLite builds from every customer before it reads one row (and, for one
    requirement's votes, probed once per customer in it)."""
    votes = Feedback.objects.filter(customer__isnull=False, customer__deleted_at__isnull=True)
    customers = customer_scope(user, prefix="customer__")
    return votes if customers is None else votes.filter(customers)


def demand_of(*, user: User, requirement: Requirement) -> tuple[scoring.Scored, list[dict[str, Any]]]:
    """One vote per customer (its best importance on this requirement), weighted by value tier."""
    if not (user and user.is_authenticated):
        return scoring.demand([]), []
    rows = (
        _votes(user)
        .filter(requirement=requirement)
        .values("customer_id", "customer__code", "customer__name", "customer__value_tier")
        .annotate(importance=Max("importance"), items=Count("id"))
        .order_by("customer__name")
    )
    voters = [
        {
            "id": r["customer_id"],
            "code": r["customer__code"],
            "name": r["customer__name"],
            "tier": r["customer__value_tier"],
            "importance": r["importance"],
            "items": r["items"],
            "weight": scoring.TIER_WEIGHTS.get(r["customer__value_tier"], 1) * r["importance"],
        }
        for r in rows
    ]
    return scoring.demand((v["tier"], v["importance"]) for v in voters), voters


def demand_ranking(*, user: User, base: QuerySet[Requirement] | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Requirements by weighted demand (Σ tier weight × importance over distinct customers the user sees,
    the same votes as ``demand_of``)."""
    if not (user and user.is_authenticated):
        return []
    tier_weight = Case(
        *[When(customer__value_tier=t, then=Value(w)) for t, w in scoring.TIER_WEIGHTS.items()],
        default=Value(1),
        output_field=IntegerField(),
    )
    votes = _votes(user).filter(importance__gte=0)  # always true: opts into feedback_demand_idx (its comment)
    if base is None and requirement_scope(user) is None:
        # The whole pool: every requirement but the deleted and the merged ones. Those few are what the query
        # leaves out (``NOT IN``, read from their indexes), instead of listing the live ones to keep (a list as
        # long as the pool) or looking each feedback's requirement up (one row read per feedback).
        gone = Requirement.all_objects.filter(Q(deleted_at__isnull=False) | Q(merged_into__isnull=False))
        votes = votes.filter(requirement__isnull=False).exclude(requirement__in=gone.order_by().values("pk"))
    else:
        scope = base if base is not None else visible_requirements(user).filter(merged_into__isnull=True)
        votes = votes.filter(requirement__in=scope.order_by().values("pk"))
    per_customer = (
        votes.values("requirement_id", "customer_id").annotate(weight=Max(tier_weight * F("importance"))).order_by()
    )
    # The sum over customers, the order and the limit run in the database: only ``limit`` rows come back
    # (summing in Python read one row per requirement and customer: 2.9 s at 100,000 requirements).
    try:
        inner, params = per_customer.query.get_compiler(using=per_customer.db).as_sql()
    except EmptyResultSet:  # the scope is empty by construction (e.g. a project with no customers)
        return []
    outer = (
        "SELECT requirement_id, SUM(weight) AS demand, COUNT(*) AS customers "
        f"FROM ({inner}) per_customer GROUP BY requirement_id "
        "ORDER BY demand DESC, customers DESC, requirement_id DESC LIMIT %s"
    )
    with connections[per_customer.db].cursor() as cursor:
        cursor.execute(outer, [*params, max(int(limit), 0)])
        best = [(int(pk), {"demand": int(demand), "customers": int(count)}) for pk, demand, count in cursor.fetchall()]
    rows = Requirement.objects.filter(pk__in=[pk for pk, _v in best]).select_related(*LIST_RELATED).order_by()
    by_pk = {r.pk: r for r in rows}
    return [{"requirement": by_pk[pk], **values} for pk, values in best if pk in by_pk]


def kano_of(requirement: Requirement) -> tuple[KanoSurvey | None, scoring.KanoSummary]:
    survey = KanoSurvey.objects.filter(requirement=requirement).first()
    if survey is None:
        return None, scoring.kano_summary([])
    return survey, scoring.kano_summary(survey.responses.values_list("category", flat=True))


def kano_survey_by_token(token: str) -> KanoSurvey:
    try:
        return KanoSurvey.objects.select_related("requirement").get(
            token=token, is_open=True, requirement__merged_into__isnull=True
        )
    except KanoSurvey.DoesNotExist as exc:
        raise Http404 from exc


# ------------------------------------------------------------------ projects


def project_list(*, user: User, filters: Any = None) -> QuerySet[AnalysisProject]:
    """The projects the user sees (pool-wide roles, their leader and members), filtered by ``ProjectFilter``
    (q, leader): the list page's and the API's rules. Invalid values are ignored here; the API refuses them."""
    qs = (
        visible_projects(user)
        .select_related("leader")
        .prefetch_related(Prefetch("members", queryset=ProjectMember.objects.select_related("user")))
    )
    data = project_filter_data(filters or {})
    return ProjectFilter(data, queryset=qs).qs if data else qs


def project_get(*, user: User, pk: Any) -> AnalysisProject:
    try:
        return project_list(user=user).get(pk=pk)
    except (AnalysisProject.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def project_customers(project: AnalysisProject, *, user: User) -> QuerySet[Customer]:
    scope = project.scope or {}
    qs = visible_customers(user)
    if scope.get("industries"):
        qs = qs.filter(industry__in=scope["industries"])
    if scope.get("regions"):
        qs = qs.filter(region__in=scope["regions"])
    if scope.get("segments"):
        qs = qs.filter(segment__in=scope["segments"])
    if scope.get("top_n_by_order"):
        top = list(qs.order_by("-total_order_amount", "id").values_list("pk", flat=True)[: scope["top_n_by_order"]])
        qs = Customer.objects.filter(pk__in=top)
    return qs


def project_requirements(project: AnalysisProject, *, user: User) -> QuerySet[Requirement]:
    """The visible requirements in the project's scope: feedback from in-scope customers within the period."""
    scope = project.scope or {}
    qs = visible_requirements(user).filter(merged_into__isnull=True)
    customer_filters = any(scope.get(k) for k in ("industries", "regions", "segments", "top_n_by_order"))
    if customer_filters:
        customers = project_customers(project, user=user)
        qs = qs.filter(pk__in=Feedback.objects.filter(customer__in=customers).values("requirement_id"))
    if scope.get("period_start"):
        qs = qs.filter(submitted_at__date__gte=dt.date.fromisoformat(scope["period_start"]))
    if scope.get("period_end"):
        qs = qs.filter(submitted_at__date__lte=dt.date.fromisoformat(scope["period_end"]))
    return qs


def project_counts(project: AnalysisProject, *, user: User) -> dict[str, Any]:
    qs = project_requirements(project, user=user)
    by_priority = dict(qs.order_by().values_list("priority").annotate(n=Count("id")))
    by_status = dict(qs.order_by().values_list("status__category").annotate(n=Count("id")))
    return {"total": sum(by_priority.values()), "by_priority": by_priority, "by_status": by_status}


# ------------------------------------------------------------------ background jobs


def _jobs(user: User) -> QuerySet[BackgroundJob]:
    return visible_jobs(user).select_related("created_by")


def job_get(*, user: User, pk: Any) -> BackgroundJob:
    """An analysis job its creator or an analyst may watch; Http404 for anyone else."""
    try:
        return _jobs(user).get(pk=pk)
    except (BackgroundJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def job_current(*, user: User) -> BackgroundJob | None:
    """The newest unfinished analysis job the caller may watch (for a page reloaded mid-recompute)."""
    running = (BackgroundJob.Status.QUEUED, BackgroundJob.Status.RUNNING)
    return _jobs(user).filter(status__in=running).order_by("-created_at", "-id").first()

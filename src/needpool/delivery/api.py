"""REST API of delivery (included under /api/v1/): iterations, plans, tasks, acceptance, change requests.

Thin edges: reads through ``delivery.selectors`` (a row the caller may not see is 404), writes through
``delivery.services`` (403 without the permission, checked before the input; 400 with per-field messages and
nothing written for bad input). No DELETE: there is no delete use-case.

- ``delivery/iterations/`` list, create, read, PATCH; ``…/{id}/requirements/`` POST ids to plan them in
- ``delivery/plans/`` list, create, read, PATCH (milestones replace the plan's list when sent)
- ``delivery/tasks/`` list (``?plan=``, ``?status=``, ``?mine=1``), create, read, PATCH; ``…/{id}/status/`` POST
  (the owner or a planner); ``delivery/tasks/overdue/`` the caller's overdue tasks
- ``delivery/acceptances/`` list, create, read
- ``delivery/changes/`` list, create, read; ``…/{id}/evaluate|decide|implement|tell/`` POST, one step each
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from needpool.accounts.models import Team, User
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, ServiceUpdateMixin, deny_unless
from needpool.core.schema import NamedChoiceField
from needpool.core.validation import DateField, DateTimeField, IdField, parse_id
from needpool.customers.models import Contact
from needpool.delivery import permissions, selectors, services
from needpool.delivery.choices import ChangeStatus, Comparator, Strategy, TaskStatus
from needpool.delivery.models import Acceptance, ChangeRequest, Iteration, Plan, Task
from needpool.requirements.permissions import visible_requirements

TAGS = ["delivery"]


class RejectUnknown:
    """Input serializers: an unknown key is a 400 naming it."""

    initial_data: Any
    fields: Any

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return attrs


def _name(user: Any) -> str:
    return str(user) if user is not None else ""


def _active_users() -> Any:
    return User.objects.filter(is_active=True)


class RelatedIdsField(serializers.ListField):
    """Ids in, the related rows' ids out (a many-to-many manager read through its prefetch)."""

    def to_representation(self, data: Any) -> list[Any]:
        if hasattr(data, "all"):
            return [row.pk for row in data.all()]
        return super().to_representation(data)


class VisibleRequirements(serializers.PrimaryKeyRelatedField):
    """Requirement ids the caller may see (another's is "does not exist", like a wrong id)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return visible_requirements(user).filter(merged_into__isnull=True).select_related("status")


# ---------------------------------------------------------------- iterations


class IterationSerializer(RejectUnknown, serializers.ModelSerializer):
    """An iteration / release 迭代 and the ids of the requirements planned into it."""

    start_date = DateField()
    end_date = DateField()
    status = NamedChoiceField(Iteration.Status.choices, enum_name="IterationStatusEnum", required=False)
    requirement_ids = serializers.SerializerMethodField()

    class Meta:
        model = Iteration
        fields = [
            "id",
            "name",
            "goal",
            "start_date",
            "end_date",
            "status",
            "is_public",
            "public_summary",
            "requirement_ids",
            "version",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        extra_kwargs = {"public_summary": {"max_length": 1000}, "goal": {"max_length": 4000}}

    def get_requirement_ids(self, obj: Iteration) -> list[int]:
        return [item.requirement_id for item in obj.items.all()]


class PlanIdsSerializer(RejectUnknown, serializers.Serializer):
    requirements = serializers.ListField(child=IdField(), max_length=200, allow_empty=False)


@extend_schema(tags=TAGS)
class IterationViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Iterations: read by staff who see the pool and by planners; written by planners (Cap.PLAN)."""

    model = Iteration
    serializer_class = IterationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_denied = gettext_lazy("您没有管理迭代的权限。")
    update_denied = gettext_lazy("您没有管理迭代的权限。")

    def select_list(self, user: Any) -> Any:
        return selectors.iteration_list(user=user).prefetch_related("items")

    def may_create(self, user: Any) -> bool:
        return permissions.can_plan(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Iteration:
        return services.iteration_create(actor=actor, **data)

    def may_update(self, user: Any, obj: Iteration) -> bool:
        return permissions.can_plan(user)

    def update_service(self, actor: Any, obj: Iteration, data: dict[str, Any]) -> Iteration:
        return services.iteration_update(actor=actor, iteration=obj, **data)

    @extend_schema(request=PlanIdsSerializer, responses=IterationSerializer)
    @action(detail=True, methods=["post"], serializer_class=PlanIdsSerializer, url_path="requirements")
    def plan_requirements(self, request: Request, pk: str | None = None) -> Response:
        """Plan requirements (ids) into the iteration; each leaves the iteration it was in."""
        iteration = self.get_object()
        deny_unless(permissions.can_plan(request.user), _("您没有管理迭代的权限。"))
        body = PlanIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(body.validated_data["requirements"]))
        found = selectors.requirements_by_ids(user=request.user, ids=ids)
        missing = sorted(set(ids) - {r.pk for r in found})
        if missing:
            raise exceptions.ValidationError(
                {"requirements": [_("需求不存在或无权查看：%(ids)s") % {"ids": ", ".join(map(str, missing))}]}
            )
        services.iteration_plan_requirements(actor=request.user, iteration=iteration, requirements=found)  # type: ignore[arg-type]
        fresh = self.select_one(request.user, iteration.pk)
        return Response(IterationSerializer(fresh, context=self.get_serializer_context()).data)


# ---------------------------------------------------------------- plans


class MilestoneSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    date = DateField()
    done = serializers.BooleanField(required=False, default=False)


class PlanSerializer(RejectUnknown, serializers.ModelSerializer):
    """A plan 落地计划: strategy, solution, team and owner, dates, milestones, resources and the acceptance
    criterion (metric, comparator, target, unit; e.g. 使用率 ≥ 30 %)."""

    requirements = VisibleRequirements(many=True, required=False)
    strategy = NamedChoiceField(Strategy.choices, enum_name="PlanStrategyEnum")
    comparator = NamedChoiceField(Comparator.choices, enum_name="ComparatorEnum", required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    owner_name = serializers.SerializerMethodField()
    start_date = DateField()
    end_date = DateField()
    budget = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, coerce_to_string=False
    )
    target_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, coerce_to_string=False
    )
    milestones = MilestoneSerializer(many=True, required=False)
    criterion = serializers.CharField(read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "title",
            "requirements",
            "strategy",
            "solution",
            "team",
            "owner",
            "owner_name",
            "start_date",
            "end_date",
            "milestones",
            "budget",
            "people",
            "tools",
            "metric_name",
            "comparator",
            "target_value",
            "unit",
            "criterion",
            "version",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        extra_kwargs = {"solution": {"max_length": 10000}}

    def get_owner_name(self, obj: Plan) -> str:
        return _name(obj.owner)

    def to_representation(self, instance: Plan) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["requirements"] = [r.pk for r in instance.requirements.all()]
        return data


@extend_schema(tags=TAGS)
class PlanViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Plans: planners write; delivery staff read all, others the plans of their own tasks."""

    model = Plan
    serializer_class = PlanSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_denied = gettext_lazy("您没有制定计划的权限。")
    update_denied = gettext_lazy("您没有制定计划的权限。")

    def select_list(self, user: Any) -> Any:
        return selectors.plan_list(user=user).prefetch_related("milestones", "requirements")

    def may_create(self, user: Any) -> bool:
        return permissions.can_plan(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Plan:
        return services.plan_create(actor=actor, **data)

    def may_update(self, user: Any, obj: Plan) -> bool:
        return permissions.can_plan(user)

    def update_service(self, actor: Any, obj: Plan, data: dict[str, Any]) -> Plan:
        return services.plan_update(actor=actor, plan=obj, **data)


# ---------------------------------------------------------------- tasks


class TaskSerializer(RejectUnknown, serializers.ModelSerializer):
    """A task 任务 of a plan; ``warnings`` says what is odd about its dates (not refused)."""

    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.all())
    owner = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    owner_name = serializers.SerializerMethodField()
    status = NamedChoiceField(TaskStatus.choices, enum_name="TaskStatusEnum", required=False)
    depends_on = RelatedIdsField(child=IdField(), required=False, max_length=50)
    start_date = DateField()
    due_date = DateField()
    overdue = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "plan",
            "title",
            "owner",
            "owner_name",
            "start_date",
            "due_date",
            "deliverable",
            "status",
            "depends_on",
            "overdue",
            "warnings",
            "version",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]

    def get_owner_name(self, obj: Task) -> str:
        return _name(obj.owner)

    def get_overdue(self, obj: Task) -> bool:
        from django.utils import timezone

        return obj.is_overdue(timezone.localdate())

    def get_warnings(self, obj: Task) -> list[str]:
        return services.task_warnings(obj)


class TaskUpdateSerializer(TaskSerializer):
    plan = serializers.PrimaryKeyRelatedField(read_only=True)


class TaskMoveSerializer(RejectUnknown, serializers.Serializer):
    status = NamedChoiceField(TaskStatus.choices, enum_name="TaskStatusEnum")
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


def _tasks_of(plan: Plan, ids: list[int]) -> list[Task]:
    tasks = list(Task.objects.filter(plan=plan, pk__in=ids))
    if len(tasks) != len(set(ids)):
        raise exceptions.ValidationError({"depends_on": [_("前置任务须是本计划的任务。")]})
    return tasks


@extend_schema(tags=TAGS)
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("plan", int, description=gettext_lazy("只看此计划的任务")),
            OpenApiParameter("status", str, enum=TaskStatus.values),
            OpenApiParameter("mine", bool, description=gettext_lazy("只看我负责的任务")),
        ]
    ),
    partial_update=extend_schema(request=TaskUpdateSerializer),
)
class TaskViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet
):
    """Tasks: planners write every field; a task's owner moves its status (``…/status/``)."""

    model = Task
    serializer_class = TaskSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    create_denied = gettext_lazy("您没有管理任务的权限。")
    update_denied = gettext_lazy("您没有修改该任务的权限。")

    def get_serializer_class(self) -> Any:
        if self.action == "partial_update":
            return TaskUpdateSerializer
        if self.action == "status":
            return TaskMoveSerializer
        return TaskSerializer

    def select_list(self, user: Any) -> Any:
        qs = selectors.task_list(user=user)
        if getattr(self, "action", None) != "list":
            return qs
        params = self.request.query_params
        plan = params.get("plan")
        if plan not in (None, ""):
            pk = parse_id(plan)
            if pk is None:
                raise exceptions.ValidationError({"plan": [_("无效的编号。")]})
            qs = qs.filter(plan_id=pk)
        state = params.get("status")
        if state not in (None, ""):
            if state not in TaskStatus.values:
                raise exceptions.ValidationError({"status": [_("无效的任务状态。")]})
            qs = qs.filter(status=state)
        if params.get("mine") in ("1", "true", "True"):
            qs = qs.filter(owner=user.pk)
        return qs

    def may_create(self, user: Any) -> bool:
        return permissions.can_plan(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Task:
        data = dict(data)
        plan = data.pop("plan")
        if not selectors.plan_list(user=actor).filter(pk=plan.pk).exists():
            raise exceptions.ValidationError({"plan": [_("计划不存在或无权查看。")]})
        deps = _tasks_of(plan, data.pop("depends_on", []))
        return services.task_create(actor=actor, plan=plan, depends_on=deps, **data)

    def may_update(self, user: Any, obj: Task) -> bool:
        return permissions.can_plan(user)

    def update_service(self, actor: Any, obj: Task, data: dict[str, Any]) -> Task:
        data = dict(data)
        deps = _tasks_of(obj.plan, data.pop("depends_on")) if "depends_on" in data else None
        return services.task_update(actor=actor, task=obj, depends_on=deps, **data)

    @extend_schema(request=TaskMoveSerializer, responses=TaskSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request: Request, pk: str | None = None) -> Response:
        """Move the task's status (its owner or a planner); ``version`` refuses a move made on a stale read."""
        task = self.get_object()
        deny_unless(permissions.can_move_task(request.user, task), _("只有任务负责人和计划人员可以更新任务状态。"))
        body = TaskMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.task_move(
            actor=request.user,  # type: ignore[arg-type]
            task=task,
            status=body.validated_data["status"],
            expected_version=body.validated_data.get("version"),
        )
        fresh = self.select_one(request.user, task.pk)
        return Response(TaskSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(responses=TaskSerializer(many=True), parameters=[])
    @action(detail=False, methods=["get"])
    def overdue(self, request: Request) -> Response:
        """The caller's overdue tasks: owned, or of a plan the caller manages (the 20 most overdue, paginated)."""
        rows = selectors.overdue_tasks(request.user).prefetch_related("depends_on")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(TaskSerializer(page, many=True, context=self.get_serializer_context()).data)


# ---------------------------------------------------------------- acceptance


class AcceptanceSerializer(RejectUnknown, serializers.ModelSerializer):
    """An acceptance record 验收单: who accepted (a contact of a customer behind the requirement, or an
    internal user), when, pass / fail, the actual value against the plan's criterion, remarks."""

    requirement = VisibleRequirements()
    plan = serializers.PrimaryKeyRelatedField(queryset=Plan.objects.all(), required=False, allow_null=True)
    accepted_by_contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    accepted_by_user = serializers.PrimaryKeyRelatedField(queryset=_active_users(), required=False, allow_null=True)
    accepted_by_name = serializers.SerializerMethodField()
    accepted_at = DateTimeField(required=False)
    actual_value = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True, coerce_to_string=False
    )
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    class Meta:
        model = Acceptance
        fields = [
            "id",
            "requirement",
            "plan",
            "accepted_by_contact",
            "accepted_by_user",
            "accepted_by_name",
            "accepted_at",
            "passed",
            "actual_value",
            "remarks",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_accepted_by_name(self, obj: Acceptance) -> str:
        return _name(obj.accepted_by)


@extend_schema(tags=TAGS)
class AcceptanceViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Acceptance records: planners record them; a failed one sends the requirement back to development."""

    model = Acceptance
    serializer_class = AcceptanceSerializer
    create_denied = gettext_lazy("您没有记录验收的权限。")

    def select_list(self, user: Any) -> Any:
        return selectors.acceptance_list(user=user)

    def may_create(self, user: Any) -> bool:
        return permissions.can_plan(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Acceptance:
        return services.acceptance_record(actor=actor, **data)


# ---------------------------------------------------------------- change requests


class ChangeSerializer(RejectUnknown, serializers.ModelSerializer):
    """A change request 需求变更 and where it stands (requested → evaluated → approved / rejected →
    implemented → told); ``next_steps`` names the step it may take now."""

    requirement = VisibleRequirements()
    status = NamedChoiceField(ChangeStatus.choices, enum_name="ChangeStatusEnum", read_only=True)
    requested_by = serializers.CharField(required=False, allow_blank=True, max_length=100)
    what = serializers.CharField(max_length=4000)
    why = serializers.CharField(max_length=4000)
    next_steps = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "requirement",
            "what",
            "why",
            "requested_by",
            "status",
            "impact_scope",
            "impact_schedule",
            "impact_cost",
            "impact_risk",
            "evaluated_at",
            "decision_reason",
            "decided_at",
            "implemented_note",
            "implemented_at",
            "told_note",
            "told_at",
            "next_steps",
            "version",
            "created_at",
        ]
        read_only_fields = [
            "impact_scope",
            "impact_schedule",
            "impact_cost",
            "impact_risk",
            "evaluated_at",
            "decision_reason",
            "decided_at",
            "implemented_note",
            "implemented_at",
            "told_note",
            "told_at",
            "version",
            "created_at",
        ]

    def get_next_steps(self, obj: ChangeRequest) -> list[str]:
        return services.next_steps(obj.status)


class EvaluateSerializer(RejectUnknown, serializers.Serializer):
    impact_scope = serializers.CharField(max_length=4000)
    impact_schedule = serializers.CharField(max_length=4000)
    impact_cost = serializers.CharField(max_length=4000)
    impact_risk = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class DecideSerializer(RejectUnknown, serializers.Serializer):
    approved = serializers.BooleanField()
    reason = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class ImplementSerializer(RejectUnknown, serializers.Serializer):
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class TellSerializer(RejectUnknown, serializers.Serializer):
    note = serializers.CharField(max_length=4000)
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


@extend_schema(tags=TAGS)
class ChangeViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Change requests on the requirements the caller can see; each step has its own permission."""

    model = ChangeRequest
    serializer_class = ChangeSerializer
    create_denied = gettext_lazy("您没有提出需求变更的权限。")

    def select_list(self, user: Any) -> Any:
        return selectors.change_list(user=user)

    def may_create(self, user: Any) -> bool:
        return permissions.can_request_change(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> ChangeRequest:
        return services.change_request_create(actor=actor, **data)

    def _step(self, request: Request, body_class: Any, allowed: Any, denied: str, run: Any) -> Response:
        change = self.get_object()
        deny_unless(allowed(request.user, change), denied)
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("version", None)
        run(actor=request.user, change=change, expected_version=version, **data)
        return self.respond_with(change)

    @extend_schema(request=EvaluateSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def evaluate(self, request: Request, pk: str | None = None) -> Response:
        return self._step(
            request,
            EvaluateSerializer,
            permissions.can_evaluate_change,
            _("您没有评估变更影响的权限。"),
            services.change_evaluate,
        )

    @extend_schema(request=DecideSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        return self._step(
            request,
            DecideSerializer,
            permissions.can_decide_change,
            _("您没有决定需求变更的权限。"),
            services.change_decide,
        )

    @extend_schema(request=ImplementSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def implement(self, request: Request, pk: str | None = None) -> Response:
        return self._step(
            request,
            ImplementSerializer,
            permissions.can_implement_change,
            _("您没有记录变更实施的权限。"),
            services.change_implement,
        )

    @extend_schema(request=TellSerializer, responses=ChangeSerializer)
    @action(detail=True, methods=["post"])
    def tell(self, request: Request, pk: str | None = None) -> Response:
        return self._step(
            request, TellSerializer, permissions.can_tell_change, _("您没有记录告知的权限。"), services.change_tell
        )


router = SimpleRouter()
router.register("delivery/iterations", IterationViewSet, basename="delivery-iteration")
router.register("delivery/plans", PlanViewSet, basename="delivery-plan")
router.register("delivery/tasks", TaskViewSet, basename="delivery-task")
router.register("delivery/acceptances", AcceptanceViewSet, basename="delivery-acceptance")
router.register("delivery/changes", ChangeViewSet, basename="delivery-change")

urlpatterns = router.urls

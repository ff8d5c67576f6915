"""Delivery fixtures: a planner, an engineer who owns tasks, the worked example's plan and tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from needpool.accounts.models import Team, User
from needpool.delivery.models import Iteration, Plan, Task
from needpool.requirements.models import Requirement

D = dt.date
START, DUE = D(2024, 3, 1), D(2024, 3, 5)


@pytest.fixture
def pm(users: dict[str, User]) -> User:
    return users["product_manager"]


@pytest.fixture
def engineer(users: dict[str, User]) -> User:
    return users["engineer"]


@pytest.fixture
def product_team(db: Any) -> Team:
    return Team.objects.create(name="产品部")


@pytest.fixture
def plan(pm: User, requirement: Requirement, product_team: Team) -> Plan:
    from needpool.delivery.services import plan_create

    return plan_create(
        actor=pm,
        requirements=[requirement],
        title="批量折扣规则上线",
        strategy="product_iteration",
        solution="在订单模块增加按客户等级的批量折扣配置",
        team=product_team,
        owner=pm,
        start_date=D(2024, 3, 1),
        end_date=D(2024, 4, 30),
        budget=Decimal("50000"),
        people="产品 1 人，开发 2 人，测试 1 人",
        tools="PingCode",
        metric_name="使用率",
        comparator="ge",
        target_value=Decimal("30"),
        unit="%",
        milestones=[{"title": "PRD 评审", "date": D(2024, 3, 5)}, {"title": "上线", "date": D(2024, 4, 25)}],
    )


@pytest.fixture
def make_task(pm: User, plan: Plan) -> Callable[..., Task]:
    from needpool.delivery.services import task_create

    def make(title: str = "任务", start: dt.date = START, due: dt.date = DUE, **extra: Any) -> Task:
        extra.setdefault("plan", plan)
        return task_create(actor=pm, title=title, start_date=start, due_date=due, **extra)

    return make


@pytest.fixture
def example_tasks(make_task: Callable[..., Task], engineer: User, pm: User) -> dict[str, Task]:
    """The worked example: PRD 3/1–3/5, 开发 3/6–4/10, 测试 4/11–4/20, each waiting for the one before."""
    prd = make_task("PRD", D(2024, 3, 1), D(2024, 3, 5), owner=pm, deliverable="PRD 文档")
    dev = make_task("开发", D(2024, 3, 6), D(2024, 4, 10), owner=engineer, depends_on=[prd], deliverable="可测试版本")
    test = make_task("测试", D(2024, 4, 11), D(2024, 4, 20), owner=engineer, depends_on=[dev], deliverable="测试报告")
    return {"prd": prd, "dev": dev, "test": test}


@pytest.fixture
def iteration(pm: User) -> Iteration:
    from needpool.delivery.services import iteration_create

    return iteration_create(
        actor=pm, name="2024 Q1 迭代", goal="折扣规则", start_date=D(2024, 3, 1), end_date=D(2024, 4, 30)
    )

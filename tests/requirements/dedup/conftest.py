"""Duplicate-detection fixtures: a fresh in-process index per test, and a small pool of requirements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.requirements.dedup import index as dedup
from needpool.requirements.models import Feedback, Requirement
from tests.conftest import option

POOL = {
    "discount": ("按客户等级设置批量订单折扣", "批量下单时根据客户等级自动计算折扣，不需要销售手工改价。"),
    "export": ("订单列表支持导出Excel", "在订单列表按当前筛选条件把订单导出成Excel文件。"),
    "sso": ("支持企业微信和钉钉单点登录", "员工用企业微信或钉钉账号直接登录系统。"),
    "stock": ("库存不足自动预警", "商品库存低于安全库存时自动提醒采购人员补货。"),
    "invoice": ("支持开具电子发票", "订单完成后客户可以在线申请并下载电子发票。"),
}


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    """The index lives in the process; each test starts from the database it sees."""
    dedup.reset_index()
    yield
    dedup.get_index().wait_for_embeddings(timeout=60)  # its threads' writes end with the test
    dedup.reset_index()


@pytest.fixture(params=[True, False], ids=["hybrid", "lexical"])
def embeddings(request: Any, settings: Any) -> bool:
    settings.NEEDPOOL_DEDUP_EMBEDDINGS = request.param
    return bool(request.param)


@pytest.fixture
def other_sales(make_user: Callable[..., User]) -> User:
    """A sales user of another team: sees none of the ``sales`` user's customers or requirements."""
    return make_user(Role.SALES, username="sales-other", team=Team.objects.create(name="销售二部"))


@pytest.fixture
def pool(users: dict[str, User], customer: Customer) -> dict[str, Requirement]:
    """Five different needs: created by the sales user for the fixture customer (team 销售一部)."""
    from needpool.requirements.services import requirement_create

    made = {}
    for i, (key, (title, description)) in enumerate(POOL.items()):
        made[key] = requirement_create(
            actor=users["sales"],
            customer=customer,
            title=title,
            description=description,
            type=option("type", "function"),
            submitted_at=timezone.now() - dt.timedelta(minutes=i),
        )
    forget_pending_index_changes()
    return made


def forget_pending_index_changes() -> None:
    """As if the fixture's writes had committed: the test transaction never commits, and a pending
    ``index_changed`` would make later writes of the same transaction schedule none of their own."""
    from django.db import connection

    connection.run_on_commit = [e for e in connection.run_on_commit if e[1] is not dedup.index_changed]


@pytest.fixture
def make_feedback(users: dict[str, User], customer: Customer) -> Callable[..., Feedback]:
    from needpool.requirements.services import feedback_create

    def make(text: str, **extra: Any) -> Feedback:
        actor = extra.pop("actor", users["sales"])
        fields: dict[str, Any] = {"customer": customer, "channel": "website_form", **extra}
        return feedback_create(actor=actor, raw_text=text, **fields)

    return make

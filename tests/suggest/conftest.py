"""Suggestion fixtures: a feedback item, an interaction, and a generated classified pool to learn from."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Role
from needpool.customers.models import Customer, Interaction
from needpool.requirements.models import ClassOption, Feedback, Requirement

OBJECTS = (
    "订单列表", "客户档案", "库存报表", "合同管理", "发票模块", "审批流程", "商品目录", "会员积分",
    "工单系统", "数据看板", "采购单", "物流跟踪", "报价单", "线索池", "排班表",
)  # fmt: skip
HELD_OUT_OBJECTS = ("报销单", "营销活动", "门店管理")

# type key → (templates, tag keys); every template names an object
TEMPLATES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "price": (
        ("{obj}的价格太贵了，能不能便宜点", "请问{obj}续费的报价是多少", "{obj}怎么收费，有没有折扣优惠"),
        ("price_inquiry",),
    ),
    "service": (
        ("客服处理{obj}的问题太慢了，一直没人回复", "售后对{obj}不熟悉，态度也不好", "{obj}的实施顾问响应不及时"),
        ("service_complaint",),
    ),
    "bug": (
        ("{obj}一打开就报错", "{obj}导出时系统崩溃了", "{obj}的数据显示乱码，保存失败"),
        (),
    ),
    "function": (
        ("希望{obj}能支持批量导入", "能否在{obj}里新增一键导出", "建议{obj}增加批量修改的功能"),
        ("feature_suggestion", "bulk_operation"),
    ),
}


def option(dimension: str, key: str) -> ClassOption:
    return ClassOption.objects.get(dimension=dimension, key=key)


@pytest.fixture
def feedback(users: dict[str, User], customer: Customer) -> Feedback:
    from needpool.requirements.services import feedback_create

    return feedback_create(
        actor=users["sales"], customer=customer, channel="ticket", raw_text="你们的报价太贵了，续费能不能打个折？"
    )


@pytest.fixture
def interaction(users: dict[str, User], customer: Customer) -> Interaction:
    from needpool.customers.services import interaction_create

    return interaction_create(
        actor=users["sales"],
        customer=customer,
        channel="phone",
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        key_content="客户对上次的售后处理非常不满意，投诉工单三天没人回复",
        key_asks="尽快安排技术人员上门",
    )


@pytest.fixture
def other_sales(make_user: Callable[..., User]) -> User:
    """A sales user of another team: cannot see the fixture customer or its feedback."""
    return make_user(Role.SALES, username="sales-b", team=Team.objects.create(name="销售二部"))


@pytest.fixture
def classified_pool(users: dict[str, User]) -> Callable[..., int]:
    """Bulk-create classified requirements (type + tags) from the templates; returns how many."""

    def make(per_type: int | None = None, objects: tuple[str, ...] = OBJECTS) -> int:
        from needpool.requirements.services import active_workflow, initial_status

        status = initial_status(active_workflow())
        types = {key: option("type", key) for key in TEMPLATES}
        tags = {o.key: o for o in ClassOption.objects.filter(dimension="tag")}
        rows: list[tuple[Requirement, tuple[str, ...]]] = []
        now = timezone.now()
        for key, (templates, tag_keys) in TEMPLATES.items():
            texts = [t.format(obj=o) for o in objects for t in templates]
            for text in texts[: per_type or len(texts)]:
                req = Requirement(
                    code=f"T{len(rows):05d}",
                    title=text,
                    type=types[key],
                    status=status,
                    submitted_at=now,
                    created_by=users["product_manager"],
                )
                rows.append((req, tag_keys))
        Requirement.objects.bulk_create([r for r, _t in rows])
        through = Requirement.tags.through
        through.objects.bulk_create(
            [through(requirement_id=r.pk, classoption_id=tags[k].pk) for r, keys in rows for k in keys]
        )
        return len(rows)

    return make


@pytest.fixture
def sentiment_pool(users: dict[str, User]) -> Callable[[int], int]:
    """Bulk-create feedback labelled with a sentiment."""
    phrases = {
        "positive": ("{obj}非常好用，很满意", "感谢你们，{obj}帮了大忙", "{obj}上线后效率提升明显，点赞"),
        "negative": ("{obj}太难用了，很失望", "{obj}一直报错，非常不满", "{obj}又出故障了，投诉"),
        "neutral": ("想了解一下{obj}的用法", "请问{obj}在哪里设置", "{obj}可以导出吗"),
    }

    def make(per_label: int) -> int:
        now = timezone.now()
        rows = [
            Feedback(channel="ticket", raw_text=t.format(obj=o), received_at=now, sentiment=label)
            for label, templates in phrases.items()
            for o in OBJECTS
            for t in templates
        ]
        by_label: dict[str, list[Feedback]] = {}
        for row in rows:
            by_label.setdefault(row.sentiment, []).append(row)
        chosen = [f for group in by_label.values() for f in group[:per_label]]
        Feedback.objects.bulk_create(chosen)
        return len(chosen)

    return make

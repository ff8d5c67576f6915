"""The worked examples of PRODUCT.md §4, entered through the services.

``load_examples`` enters the worked examples exactly as a user would, through the service
functions, acting as the demo sales user and the demo product manager. It is idempotent: each
example is keyed by a fixed code (DEM20240301001, C2024001 …) and skipped when that code exists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from needpool.accounts.models import User
from needpool.customers.choices import DecisionRole, FollowStatus, InteractionChannel, Mood, Segment
from needpool.customers.models import Contact, Customer
from needpool.customers.services import contact_create, customer_create, interaction_create
from needpool.demo.example_one import CONTACT_EMAIL, bulk_discount_life
from needpool.demo.users import DEMO_PM, DEMO_SALES, demo_users_ensure
from needpool.requirements.choices import Channel, Dimension, Priority
from needpool.requirements.models import ClassOption, Requirement
from needpool.requirements.services import (
    comment_create,
    feedback_from_interaction_ask,
    requirement_create,
)

EXAMPLE_REQUIREMENT_CODE = "DEM20240301001"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _opt(dimension: str, key: str) -> ClassOption:
    return ClassOption.objects.get(dimension=dimension, key=key)


def _local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def _customer_with_contact(
    *, sales: User, code: str, customer: dict[str, Any], contact: dict[str, Any]
) -> tuple[Customer, Contact, bool]:
    """The customer with ``code`` (created through the services when missing) and its first contact."""
    existing = Customer.objects.filter(code=code).first()
    if existing is not None:
        return (
            existing,
            existing.contacts.order_by("id").first() or contact_create(actor=sales, customer=existing, **contact),
            False,
        )
    made = customer_create(actor=sales, code=code, owner=sales, **customer)
    return made, contact_create(actor=sales, customer=made, **contact), True


def _example_bulk_discount(pm: User, sales: User) -> list[str]:
    """§4.1: the e-commerce customer's bulk-order discount rules, DEM20240301001."""
    if Requirement.objects.filter(code=EXAMPLE_REQUIREMENT_CODE).exists():
        return []
    customer, contact, _new = _customer_with_contact(
        sales=sales,
        code="C2024003",
        customer={
            "name": "悦购电子商务有限公司",
            "industry": "电子商务",
            "region": "杭州",
            "employees": 860,
            "annual_revenue": Decimal("320000000"),
            "main_business": "线上零售与批发分销",
            "first_cooperation": dt.date(2021, 5, 10),
            "products_bought": "订单管理、会员体系、报表中心",
            "total_order_amount": Decimal("18600000"),
            "yearly_purchase": Decimal("6800000"),
            "segment": Segment.HIGH_VALUE,
            "follow_status": FollowStatus.ONGOING,
            "tags": "电商,批发,年采购超 500 万",
        },
        contact={
            "name": "陈静",
            "title": "运营总监",
            "phone": "0571-87654321",
            # A reserved domain: the demo tells this customer of the launch and invites her to a survey by mail.
            "email": CONTACT_EMAIL,
            "decision_role": DecisionRole.DECISION_MAKER,
        },
    )
    submitted = _local(2024, 3, 1, 9, 0)
    requirement = requirement_create(
        actor=sales,
        code=EXAMPLE_REQUIREMENT_CODE,
        submitted_at=submitted,
        customer=customer,
        contact=contact,
        channel=Channel.SALES,
        title="按客户等级设置批量订单折扣规则",
        description=(
            "电商客户（年采购额超过 500 万元）希望在批量下单时，按客户等级自动计算折扣，"
            "不同等级享受不同的阶梯折扣，避免销售逐单手工改价。"
        ),
        background="客户批量订单占比高，目前由销售逐单手工改价，耗时且容易出错，月底对账经常出现差异。",
        concrete_ask=(
            "支持按客户等级配置批量订单折扣规则（数量阶梯 × 客户等级），下单时自动套用并在订单上显示折扣明细。"
        ),
        feedback_text="我们批量下单很多，希望能按客户等级自动给不同的批量折扣，6 月底前能用上。",
        expected_date=dt.date(2024, 6, 30),
        type=_opt(Dimension.TYPE, "function_improvement"),
        urgency=_opt(Dimension.URGENCY, "important"),
        nature=_opt(Dimension.NATURE, "functional"),
        source=_opt(Dimension.SOURCE, "explicit"),
        category=_opt(Dimension.CATEGORY, "business"),
        tags=[_opt(Dimension.TAG, "bulk_operation"), _opt(Dimension.TAG, "efficiency")],
        owner=pm,
        priority=Priority.P1,
    )
    comment_create(
        actor=pm,
        requirement=requirement,
        body=(
            f"@{sales.username} 已评估：重要且为高价值客户，优先排期。"
            "计划：PRD 3/1–3/5，开发 3/6–4/10，测试 4/11–4/20。"
        ),
    )
    return [requirement.code]


def _example_bulk_discount_life(pm: User, sales: User) -> list[str]:
    """§4.1 continued: reviewed, planned, delivered, launched, told, rated and evaluated (each step once)."""
    requirement = Requirement.objects.filter(code=EXAMPLE_REQUIREMENT_CODE).first()
    if requirement is not None:
        bulk_discount_life(pm, sales, requirement)
    return []


def _example_delivery_complaint(pm: User, sales: User) -> list[str]:
    """§4.2: the "delivery is slow" complaint, as feedback from an interaction plus a service requirement."""
    if Customer.objects.filter(code="C2024004").exists():
        return []
    customer, contact, _new = _customer_with_contact(
        sales=sales,
        code="C2024004",
        customer={
            "name": "鲜达生鲜连锁有限公司",
            "industry": "零售",
            "region": "上海",
            "employees": 1200,
            "main_business": "社区生鲜连锁与到家配送",
            "first_cooperation": dt.date(2022, 9, 1),
            "products_bought": "物流配送、工单系统",
            "total_order_amount": Decimal("3600000"),
            "yearly_purchase": Decimal("1500000"),
            "segment": Segment.CHURN_RISK,
            "follow_status": FollowStatus.ONGOING,
            "tags": "配送,投诉",
            "praise_complaint": "投诉：近一个月配送多次延迟。",
        },
        contact={
            "name": "刘洋",
            "title": "供应链经理",
            "phone": "021-64321987",
            "email": "liuyang@xianda-fresh.com.cn",
            "decision_role": DecisionRole.INFLUENCER,
        },
    )
    now = timezone.now()
    interaction = interaction_create(
        actor=sales,
        customer=customer,
        contact=contact,
        occurred_at=now - dt.timedelta(hours=3),
        channel=InteractionChannel.PHONE,
        participants="刘洋；演示销售",
        key_content="客户来电投诉配送慢：近一个月有十余单延迟 3 天以上送达，门店缺货，终端顾客投诉增多。",
        mood=Mood.DISSATISFIED,
        key_asks="配送慢：近一个月多次订单延迟 3 天以上送达，希望尽快改善配送时效",
        next_follow_up_plan="每周电话同步改进进展（流失风险客户，附挽回方案）",
        next_follow_up_date=timezone.localdate() + dt.timedelta(days=7),
    )
    feedback = feedback_from_interaction_ask(actor=sales, interaction=interaction, index=0)
    requirement = requirement_create(
        actor=sales,
        title="配送慢：提升配送时效并建立供应商履约管理",
        description="客户投诉配送慢，近一个月多次订单延迟 3 天以上送达，门店缺货。",
        background="配送由第三方供应商承担，目前没有按时履约率的考核，延迟发生后才被动处理。",
        concrete_ask="配送时效恢复到承诺的 48 小时内；每周提供延迟订单明细和原因。",
        expected_date=timezone.localdate() + dt.timedelta(days=30),
        type=_opt(Dimension.TYPE, "service"),
        urgency=_opt(Dimension.URGENCY, "important"),
        nature=_opt(Dimension.NATURE, "emotional"),
        source=_opt(Dimension.SOURCE, "explicit"),
        category=_opt(Dimension.CATEGORY, "business"),
        tags=[_opt(Dimension.TAG, "service_complaint")],
        owner=pm,
        feedback=[feedback],
        customer=customer,
    )
    comment_create(
        actor=pm,
        requirement=requirement,
        body="需做根因分析（5 Whys、鱼骨图：人、机、料、法、环），初步判断缺少供应商配送履约管理机制。",
    )
    return [requirement.code]


def _example_tech_company(pm: User, sales: User) -> list[str]:
    """§4.3a: C2024001 A科技公司 — real-time monitoring and open API (explicit), operating cost (implicit)."""
    if Customer.objects.filter(code="C2024001").exists():
        return []
    customer, contact, _new = _customer_with_contact(
        sales=sales,
        code="C2024001",
        customer={
            "name": "A科技公司",
            "industry": "互联网",
            "region": "北京",
            "employees": 350,
            "main_business": "SaaS 平台与数据服务",
            "first_cooperation": dt.date(2023, 11, 15),
            "products_bought": "数据看板",
            "total_order_amount": Decimal("2100000"),
            "yearly_purchase": Decimal("2800000"),
            "segment": Segment.POTENTIAL,
            "follow_status": FollowStatus.ONGOING,
            "tags": "互联网,API",
        },
        contact={
            "name": "王磊",
            "title": "采购总监",
            "phone": "010-62345678",
            "email": "wanglei@a-tech.com.cn",
            "decision_role": DecisionRole.DECISION_MAKER,
        },
    )
    now = timezone.now()
    follow_up = timezone.localdate() + dt.timedelta(days=14)
    interaction = interaction_create(
        actor=sales,
        customer=customer,
        contact=contact,
        occurred_at=now - dt.timedelta(hours=2),
        channel=InteractionChannel.ONLINE_MEETING,
        participants="王磊（采购总监）；演示销售",
        key_content="采购总监介绍业务扩张计划：需要实时掌握系统运行状态，并与自有平台打通；多次询问上线后的运维投入。",
        mood=Mood.NEUTRAL,
        key_asks=(
            "实时监控：实时查看各业务系统运行状态与告警\n"
            "开放 API：开放 API 接口，与自有平台对接\n"
            "担心运营成本：多次询问上线后的运维人力与费用"
        ),
        next_follow_up_plan="发送实时监控与开放 API 方案及运营成本测算",
        next_follow_up_date=follow_up,
    )
    asks = [feedback_from_interaction_ask(actor=sales, interaction=interaction, index=i) for i in range(3)]
    common: dict[str, Any] = {
        "actor": sales,
        "owner": pm,
        "customer": customer,
        "expected_date": timezone.localdate() + dt.timedelta(days=90),
        "category": _opt(Dimension.CATEGORY, "functional"),
    }
    made = [
        requirement_create(
            **common,
            title="实时监控：业务系统运行状态与告警大屏",
            description="客户希望实时查看各业务系统的运行状态，异常时及时告警。",
            background="客户业务扩张，现有日报方式发现问题滞后。",
            concrete_ask="提供实时监控大屏，展示关键指标，异常 5 分钟内告警。",
            type=_opt(Dimension.TYPE, "function"),
            urgency=_opt(Dimension.URGENCY, "important"),
            nature=_opt(Dimension.NATURE, "functional"),
            source=_opt(Dimension.SOURCE, "explicit"),
            tags=[_opt(Dimension.TAG, "feature_suggestion")],
            feedback=[asks[0]],
        ),
        requirement_create(
            **common,
            title="开放 API：与客户自有平台对接",
            description="客户希望通过开放 API 接口把需求与工单数据同步到自有平台。",
            background="客户有自研平台，需要双向同步数据，目前靠人工导入。",
            concrete_ask="提供带鉴权的 REST 开放 API 与接口文档。",
            type=_opt(Dimension.TYPE, "function"),
            urgency=_opt(Dimension.URGENCY, "normal"),
            nature=_opt(Dimension.NATURE, "functional"),
            source=_opt(Dimension.SOURCE, "explicit"),
            tags=[_opt(Dimension.TAG, "feature_suggestion"), _opt(Dimension.TAG, "efficiency")],
            feedback=[asks[1]],
        ),
        requirement_create(
            **common,
            title="降低运营成本：上线后的运维投入测算与优化",
            description="客户未明说，但多次询问上线后的运维人力和费用，担心运营成本。",
            background="在线会议中采购总监三次问到运维投入，属于隐性需求。",
            concrete_ask="提供运营成本测算，并给出自动化运维方案以减少人力投入。",
            type=_opt(Dimension.TYPE, "price"),
            urgency=_opt(Dimension.URGENCY, "normal"),
            nature=_opt(Dimension.NATURE, "latent"),
            source=_opt(Dimension.SOURCE, "implicit"),
            tags=[_opt(Dimension.TAG, "price_inquiry")],
            feedback=[asks[2]],
        ),
    ]
    return [r.code for r in made]


def _example_manufacturer(pm: User, sales: User) -> list[str]:
    """§4.3b: C2024002 B制造企业 — custom reports fitting its ERP, Excel export; monthly updates."""
    if Customer.objects.filter(code="C2024002").exists():
        return []
    customer, contact, _new = _customer_with_contact(
        sales=sales,
        code="C2024002",
        customer={
            "name": "B制造企业",
            "industry": "制造业",
            "region": "苏州",
            "employees": 2600,
            "main_business": "工业零部件制造",
            "first_cooperation": dt.date(2024, 1, 8),
            "products_bought": "报表中心",
            "total_order_amount": Decimal("900000"),
            "yearly_purchase": Decimal("1200000"),
            "segment": Segment.POTENTIAL,
            "follow_status": FollowStatus.ONGOING,
            "tags": "制造业,ERP,决策周期长",
        },
        contact={
            "name": "张敏",
            "title": "信息部经理",
            "phone": "0512-65432109",
            "email": "zhangmin@b-manufacturing.cn",
            "decision_role": DecisionRole.INFLUENCER,
        },
    )
    interaction = interaction_create(
        actor=sales,
        customer=customer,
        contact=contact,
        occurred_at=timezone.now() - dt.timedelta(hours=5),
        channel=InteractionChannel.VISIT,
        participants="张敏（信息部经理）；演示销售",
        key_content="上门拜访：客户需要适配现有 ERP 的定制报表，并能导出 Excel；采购需集团审批，决策周期长。",
        mood=Mood.SATISFIED,
        key_asks="定制报表：报表口径与现有 ERP 系统一致\n导出 Excel：报表支持一键导出 Excel",
        next_follow_up_plan="决策周期长：每月发送一次产品与方案进展更新",
        next_follow_up_date=timezone.localdate() + dt.timedelta(days=30),
    )
    asks = [feedback_from_interaction_ask(actor=sales, interaction=interaction, index=i) for i in range(2)]
    common: dict[str, Any] = {
        "actor": sales,
        "owner": pm,
        "customer": customer,
        "expected_date": timezone.localdate() + dt.timedelta(days=120),
        "type": _opt(Dimension.TYPE, "function"),
        "urgency": _opt(Dimension.URGENCY, "normal"),
        "nature": _opt(Dimension.NATURE, "functional"),
        "source": _opt(Dimension.SOURCE, "explicit"),
        "category": _opt(Dimension.CATEGORY, "functional"),
    }
    made = [
        requirement_create(
            **common,
            title="定制报表：与 ERP 系统口径一致",
            description="制造业客户希望报表字段与口径适配其现有 ERP 系统。",
            background="客户财务与生产数据在 ERP 中，现有报表口径不一致，需要人工核对。",
            concrete_ask="支持自定义报表模板，字段映射 ERP 科目。",
            tags=[_opt(Dimension.TAG, "feature_suggestion")],
            feedback=[asks[0]],
        ),
        requirement_create(
            **common,
            title="报表导出 Excel",
            description="客户希望所有报表都能一键导出 Excel，便于内部流转。",
            background="客户内部审批材料使用 Excel。",
            concrete_ask="报表页提供导出 Excel 按钮，保留格式与合计行。",
            tags=[_opt(Dimension.TAG, "efficiency")],
            feedback=[asks[1]],
        ),
    ]
    return [r.code for r in made]


def load_examples(*, users: dict[str, User] | None = None) -> list[str]:
    """Enter the worked examples that are not there yet; returns the requirement codes created."""
    users = users or demo_users_ensure()
    pm, sales = users[DEMO_PM], users[DEMO_SALES]
    created: list[str] = []
    for example in (
        _example_bulk_discount,
        _example_bulk_discount_life,
        _example_delivery_complaint,
        _example_tech_company,
        _example_manufacturer,
    ):
        with transaction.atomic():
            created += example(pm, sales)
    return created

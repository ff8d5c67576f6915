"""Demo data: the worked examples of PRODUCT.md §4 (through the services) and generated volume.

``load_examples`` enters the worked examples exactly as a user would, through the service
functions, acting as the demo sales user and the demo product manager. It is idempotent: each
example is keyed by a fixed code (DEM20240301001, C2024001 …) and skipped when that code exists.

``generate`` creates realistic Chinese customers and requirements in bulk for demos and the
benchmark (``bench/``). It does *not* call the per-row services: one ``requirement_create`` runs
about ten statements (code counter, insert, feedback, customer value, status change, audit …),
which is minutes for ten thousand rows and hours for a million. Instead it writes the same rows
the services would write with ``bulk_create`` in chunks, each chunk in one transaction:

- codes come from contiguous blocks reserved on the same ``CodeSequence`` counters that
  ``core.codes.next_code`` advances, so codes handed out later by the services never collide;
  codes already taken (entered by hand, imported) are skipped, as ``next_code`` does;
- ``search_text`` is exactly ``core.text.segment_for_index`` of the same fields: texts are built
  from fragments that end in punctuation, jieba never joins words across punctuation, so the
  segmentation of each fragment is computed once and reused (jieba is the slow part);
- every requirement has its evidence (feedback rows linking customers and contacts), its
  ``customer_value`` (the best tier among those customers), ``first_response_due`` from the
  urgency's SLA hours, a status spread over the active workflow with the status-change rows of
  an allowed path to it, and the audit rows of its creation and transitions.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from needpool.accounts.models import User
from needpool.accounts.roles import Role
from needpool.core.audit import _plain, audit_record, snapshot
from needpool.core.codes import render_prefix, reserve_numbers
from needpool.core.config import site_config
from needpool.core.models import AuditEntry
from needpool.core.text import segment_for_index
from needpool.customers.choices import (
    DecisionRole,
    FollowStatus,
    InteractionChannel,
    Mood,
    Segment,
    ValueTier,
)
from needpool.customers.models import Contact, Customer
from needpool.customers.services import (
    CUSTOMER_CODE_PATTERN,
    CUSTOMER_FIELDS,
    contact_create,
    customer_create,
    interaction_create,
)
from needpool.requirements.choices import Channel, Dimension, Priority, Sentiment, StatusCategory
from needpool.requirements.models import (
    ClassOption,
    Feedback,
    Requirement,
    StatusChange,
    Workflow,
    WorkflowStatus,
    WorkflowTransition,
)
from needpool.requirements.services import (
    EDITABLE_FIELDS,
    active_workflow,
    comment_create,
    feedback_from_interaction_ask,
    requirement_create,
    requirement_transition,
    sla_due,
)

DEMO_PM = "demo_pm"
DEMO_SALES = "demo_sales"
EXAMPLE_REQUIREMENT_CODE = "DEM20240301001"
SHANGHAI = ZoneInfo("Asia/Shanghai")

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ============================================================== users


def demo_users_ensure() -> dict[str, User]:
    """The demo product manager and sales user, created if missing.

    Passwords are unusable (nobody can log in as them) unless NEEDPOOL_DEMO_PASSWORD is set.
    This is a bootstrap like ``accounts.services.admin_ensure``: there is no acting user yet.
    """
    password = os.environ.get("NEEDPOOL_DEMO_PASSWORD") or None
    made: dict[str, User] = {}
    for username, role, display in (
        (DEMO_PM, Role.PRODUCT_MANAGER, "演示产品经理"),
        (DEMO_SALES, Role.SALES, "演示销售"),
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            with transaction.atomic():
                user = User(username=username, role=role, display_name=display)
                if password:
                    user.set_password(password)
                else:
                    user.set_unusable_password()
                user.save()
                audit_record(actor=None, obj=user, action=AuditEntry.Action.CREATE, changes={"role": role})
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        made[username] = user
    return made


# ============================================================== worked examples


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
            "email": "chenjing@yuegou-ec.com.cn",
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
    if "in_progress" in {s.key for s in requirement.status.workflow.statuses.all()}:
        requirement_transition(actor=pm, requirement=requirement, to="in_progress", note="已排入迭代，开始编写 PRD")
    return [requirement.code]


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
        _example_delivery_complaint,
        _example_tech_company,
        _example_manufacturer,
    ):
        with transaction.atomic():
            created += example(pm, sales)
    return created


# ============================================================== generated volume: text

# fmt: off
INDUSTRIES = (
    ("互联网", "科技有限公司"), ("制造业", "制造股份有限公司"), ("零售", "商贸有限公司"),
    ("电子商务", "电子商务有限公司"), ("金融", "金融服务有限公司"), ("物流", "物流有限公司"),
    ("医疗", "医疗器械有限公司"), ("教育", "教育科技有限公司"), ("能源", "能源集团有限公司"),
    ("房地产", "置业有限公司"), ("餐饮", "餐饮管理有限公司"), ("汽车", "汽车零部件有限公司"),
)
AREA_CODES = {
    "北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571", "苏州": "0512",
    "南京": "025", "成都": "028", "武汉": "027", "西安": "029", "重庆": "023", "天津": "022",
    "长沙": "0731", "郑州": "0371", "青岛": "0532", "厦门": "0592", "宁波": "0574", "合肥": "0551",
    "济南": "0531", "福州": "0591", "东莞": "0769", "佛山": "0757", "无锡": "0510", "昆明": "0871",
}
CITIES = tuple(AREA_CODES)
BRANDS = (
    "云帆", "鼎盛", "华信", "恒通", "瑞丰", "博远", "星辰", "汇达", "远航", "金桥", "中联", "天润",
    "新锐", "宏图", "明德", "启航", "优品", "智诚", "东方", "长青", "海纳", "万象", "卓越", "正泰",
    "嘉禾", "同创", "银河", "锦程", "力拓", "盛世", "精工", "安信", "晨曦", "蓝海", "和泰", "众联",
)
SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "杰", "涛", "明", "超", "霞", "平", "刚",
    "桂英", "建华", "晓东", "丽娟",
)
TITLES = (
    ("采购总监", DecisionRole.DECISION_MAKER), ("总经理", DecisionRole.DECISION_MAKER),
    ("信息部经理", DecisionRole.INFLUENCER), ("运营主管", DecisionRole.INFLUENCER),
    ("IT 负责人", DecisionRole.INFLUENCER), ("财务经理", DecisionRole.USER), ("业务专员", DecisionRole.USER),
)
MODULES = (
    "订单管理", "库存管理", "报表中心", "客户门户", "移动端", "支付结算", "物流配送", "会员体系",
    "权限管理", "数据看板", "审批流程", "消息通知", "发票管理", "采购管理", "合同管理", "工单系统",
    "营销活动", "商品管理", "财务对账", "开放平台", "售后服务", "价格体系", "数据导入导出", "系统集成",
)
# (ask, type key, category key, tag key or "")
FEATURES = (
    ("按客户等级设置批量折扣规则", "function_improvement", "business", "bulk_operation"),
    ("支持批量导入订单", "function_improvement", "functional", "bulk_operation"),
    ("支持批量修改价格", "function_improvement", "functional", "bulk_operation"),
    ("支持导出 Excel 报表", "function", "functional", "efficiency"),
    ("提供实时监控大屏", "function", "functional", "feature_suggestion"),
    ("开放 API 接口", "function", "functional", "feature_suggestion"),
    ("对接 ERP 系统", "function", "business", "efficiency"),
    ("支持多级审批", "function", "business", ""),
    ("优化页面加载速度", "experience", "performance", "efficiency"),
    ("增加自定义字段", "function_improvement", "functional", "feature_suggestion"),
    ("支持定时推送报表", "function", "functional", "efficiency"),
    ("增加短信和邮件提醒", "function", "functional", ""),
    ("支持扫码入库", "function", "functional", "efficiency"),
    ("优化搜索体验", "experience", "usability", ""),
    ("支持多语言界面", "function", "usability", "feature_suggestion"),
    ("增加数据权限控制", "function", "security", ""),
    ("支持电子发票", "function", "business", ""),
    ("缩短配送时效", "service", "business", "service_complaint"),
    ("提供专属客服", "service", "business", "service_complaint"),
    ("降低续费价格", "price", "business", "price_inquiry"),
    ("提供阶梯报价", "price", "business", "price_inquiry"),
    ("简化操作流程", "experience", "usability", "efficiency"),
    ("修复导出乱码问题", "bug", "functional", ""),
    ("修复移动端闪退", "bug", "performance", ""),
    ("支持离线使用", "function", "functional", ""),
    ("增加操作日志", "function", "security", ""),
    ("支持单点登录", "function", "security", "feature_suggestion"),
    ("支持自定义报表模板", "function_improvement", "functional", "feature_suggestion"),
    ("提供培训和使用指南", "service", "business", ""),
    ("增加库存预警", "function", "business", "efficiency"),
    ("支持分批发货", "function", "business", ""),
    ("优化对账流程", "function_improvement", "business", "efficiency"),
)
TITLE_TEMPLATES = ("{module}{ask}", "{module}：{ask}", "希望{module}{ask}", "建议{module}{ask}", "{ask}（{module}）")
PAINS = (
    "人工核对订单耗时较长", "各系统数据不一致", "操作步骤繁琐", "高峰期系统响应缓慢", "配送经常延迟",
    "报表需要手工汇总", "审批流程过长", "客户投诉处理不及时", "价格调整需要逐个修改", "无法及时发现异常",
    "数据无法与现有系统打通", "新员工上手困难", "导出的数据格式不符合要求", "移动端体验较差",
    "月底对账经常出错", "库存数据更新不及时", "续费价格偏高", "权限划分不够细",
)
IMPACTS = ("一线员工效率", "客户满意度", "月度结算", "续约意向", "业务扩张", "管理层决策", "门店运营")
EXPECTS = (
    "预计可节省 50% 人工", "期望上线后使用率不低于 30%", "以便管理层随时掌握进度", "减少重复录入",
    "提升客户复购率", "降低投诉率", "缩短处理时长一半以上", "满足集团合规要求",
)
VOICES = (
    "{industry}客户反馈：", "销售拜访时客户提到：", "客服工单中客户表示：", "年度回访中客户建议：",
    "客户在问卷中写道：", "行业展会上客户询问：",
)
HOURS = (10, 20, 30, 40, 60, 80, 120, 160, 200)
# fmt: on


def _sts_sentences() -> list[str]:
    """General-domain Chinese sentences (STS-B) used as extra description text, when the file is there."""
    configured = os.environ.get("NEEDPOOL_DEMO_SENTENCES")
    candidates = [Path(configured)] if configured else []
    candidates.append(Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sts-b-zh" / "STS-B.train.data")
    for path in candidates:
        if path.is_file():
            seen: dict[str, None] = {}
            with path.open(encoding="utf-8") as handle:
                for line in handle:
                    for sentence in line.rstrip("\n").split("\t")[:2]:
                        sentence = sentence.strip()
                        if 4 <= len(sentence) <= 80:
                            seen.setdefault(_end_with_stop(sentence), None)
            return list(seen)
    return []


def _end_with_stop(text: str) -> str:
    """End a fragment with punctuation so jieba never joins it with the next one."""
    return text if text[-1] in "。！？；，：!?;,:" else text + "。"


class _Segmenter:
    """``segment_for_index`` per fragment, cached: the index text of a join is the join of these."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, fragment: str) -> str:
        cached = self._cache.get(fragment)
        if cached is None:
            cached = self._cache[fragment] = segment_for_index(fragment)
        return cached

    def code(self, code: str) -> str:
        # A plain letters-and-digits code is one jieba word; anything else goes through jieba.
        return code.lower() if code.isascii() and code.isalnum() else segment_for_index(code)

    def index_text(self, code: str, *fields: Sequence[str]) -> str:
        parts = [self.code(code)]
        for fragments in fields:
            parts.extend(self(f) for f in fragments)
        return " ".join(p for p in parts if p)


# ============================================================== generated volume: rows


@dataclass
class _PoolCustomer:
    pk: int
    tier: str
    contacts: list[int] = field(default_factory=list)


@dataclass
class _Evidence:
    """What a generated requirement's child rows need: the customer's words, customers, tags, moves."""

    voice: str
    customers: list[tuple[_PoolCustomer, dt.datetime]]
    tags: list[ClassOption]
    history: list[tuple[WorkflowStatus, dt.datetime]]


@contextmanager
def _explicit_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Let bulk rows carry historical created/updated times (auto_now fields would overwrite them).

    It switches the fields' flags off process-wide for the duration: meant for the demo command
    and the bench, not for a serving process.
    """
    saved: list[tuple[Any, bool, bool]] = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                date_field: Any = f
                saved.append((date_field, date_field.auto_now, date_field.auto_now_add))
                date_field.auto_now = date_field.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _codes_block(
    *, pattern: str, day: dt.date, namespace: str, count: int, taken: Callable[[list[str]], set[str]]
) -> list[str]:
    """``count`` fresh codes for ``day`` from one counter, skipping codes already taken (as next_code does)."""
    prefix, suffix, width = render_prefix(pattern, day)
    key = f"{namespace}:{prefix}|{suffix}"
    out: list[str] = []
    while len(out) < count:
        need = count - len(out)
        first = reserve_numbers(key, need)
        codes = [f"{prefix}{n:0{width}d}{suffix}" for n in range(first, first + need)]
        used = taken(codes)
        out.extend(c for c in codes if c not in used)
    return out


def _insert_many(model: type[models.Model], names: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain value tuples into ``model``'s table: the append-only history and link rows.

    These are most of the rows (several per requirement) and carry no logic; building a model
    instance for each and letting ``bulk_create`` prepare every value costs more than the insert
    itself. Each value goes through its field's own ``get_db_prep_save``, so what is stored is
    what ``bulk_create`` would store.
    """
    if not rows:
        return
    fields: list[Any] = [model._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    prepare = [f.get_db_prep_save if f.get_internal_type() in ("DateTimeField", "JSONField") else None for f in fields]
    params = [
        [p(v, connection) if p is not None and v is not None else v for p, v in zip(prepare, row, strict=True)]
        for row in rows
    ]
    sql = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        for start in range(0, len(params), 2000):
            cursor.executemany(sql, params[start : start + 2000])


def _taken_requirement_codes(codes: list[str]) -> set[str]:
    return set(Requirement.objects.filter(code__in=codes).values_list("code", flat=True))


def _taken_customer_codes(codes: list[str]) -> set[str]:
    return set(Customer.objects.filter(code__in=codes).values_list("code", flat=True))


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]


@dataclass
class GenerateResult:
    customers: int = 0
    contacts: int = 0
    requirements: int = 0
    feedback: int = 0
    seconds: float = 0.0
    customer_codes: tuple[str, str] | None = None
    requirement_codes: list[str] = field(default_factory=list)


class VolumeGenerator:
    """Bulk customers and requirements of the same shape the services write (see the module docstring)."""

    def __init__(
        self,
        *,
        users: dict[str, User],
        seed: int | None = None,
        days: int = 730,
        chunk: int = 5000,
        progress: Progress | None = _stderr,
    ) -> None:
        self.rng = random.Random(seed)
        self.pm = users[DEMO_PM]
        self.sales = users[DEMO_SALES]
        self.days = max(1, days)
        self.chunk = max(100, chunk)
        self.progress = progress or (lambda _m: None)
        self.seg = _Segmenter()
        self.sentences = _sts_sentences()
        self.config = site_config()
        self.options: dict[str, dict[str, ClassOption]] = {}
        for option in ClassOption.objects.filter(is_active=True):
            self.options.setdefault(option.dimension, {})[option.key] = option
        self.audited = ("code", *EDITABLE_FIELDS)
        self._labels: dict[tuple[type, Any], Any] = {}
        self.requirement_ct = ContentType.objects.get_for_model(Requirement)
        self.customer_ct = ContentType.objects.get_for_model(Customer)
        self._plan_statuses(active_workflow())

    # ---------------------------------------------------------- workflow

    def _plan_statuses(self, workflow: Workflow) -> None:
        """Each reachable status with a weight and an allowed path to it from the initial status."""
        statuses = {s.pk: s for s in WorkflowStatus.objects.filter(workflow=workflow)}
        initial = next((s for s in statuses.values() if s.is_initial), None)
        if initial is None:
            raise ValueError(f"workflow {workflow.key} has no initial status")
        edges: dict[int, list[int]] = {}
        for source_id, target_id in WorkflowTransition.objects.filter(workflow=workflow).values_list(
            "source_id", "target_id"
        ):
            edges.setdefault(source_id, []).append(target_id)
        paths: dict[int, list[WorkflowStatus]] = {initial.pk: [initial]}
        queue = deque([initial.pk])
        while queue:
            current = queue.popleft()
            for target in sorted(edges.get(current, []), key=lambda pk: statuses[pk].order):
                if target not in paths:
                    paths[target] = [*paths[current], statuses[target]]
                    queue.append(target)
        share: dict[str, float] = {
            StatusCategory.NEW: 0.30,
            StatusCategory.ACTIVE: 0.30,
            StatusCategory.DONE: 0.30,
            StatusCategory.DEFERRED: 0.05,
            StatusCategory.REJECTED: 0.05,
        }
        per_category: dict[str, int] = {}
        for pk in paths:
            per_category[statuses[pk].category] = per_category.get(statuses[pk].category, 0) + 1
        self.initial = initial
        self.status_paths = paths
        self.status_weights = [
            (pk, share.get(statuses[pk].category, 0.05) / per_category[statuses[pk].category]) for pk in paths
        ]
        self.young_weights = [(pk, 0.8 if pk == initial.pk else 0.2 / max(1, len(paths) - 1)) for pk in paths]

    # ---------------------------------------------------------- customers

    def customers(self, count: int) -> list[_PoolCustomer]:
        """Create ``count`` customers (each with one or two contacts and their audit rows)."""
        pool: list[_PoolCustomer] = []
        now = timezone.now()
        today = timezone.localdate()
        high, medium = self.config.value_tier_high, self.config.value_tier_medium
        started = time.monotonic()
        # Customers came in over the year(s) before the generated requirements, oldest first; each
        # gets its code from the counter of the year it was created in, as customer_create does.
        span = 365 * 86400.0
        ages = sorted((self.days * 86400.0 + self.rng.random() * span for _i in range(count)), reverse=True)
        done = 0
        while done < count:
            created = [now - dt.timedelta(seconds=a) for a in ages[done : done + self.chunk]]
            with transaction.atomic(), _explicit_timestamps(Customer, Contact):
                codes = self._codes_by_day(created, CUSTOMER_CODE_PATTERN, "customer", _taken_customer_codes)
                rows = [
                    self._customer_row(code, at, today, high, medium) for code, at in zip(codes, created, strict=True)
                ]
                Customer.objects.bulk_create(rows)
                contacts: list[Contact] = []
                for customer in rows:
                    contacts.extend(self._contact_rows(customer))
                Contact.objects.bulk_create(contacts)
                audits = [
                    AuditEntry(
                        content_type=self.customer_ct,
                        object_id=c.pk,
                        object_repr=str(c)[:200],
                        action=AuditEntry.Action.CREATE,
                        actor=self.sales,
                        at=c.created_at,
                        changes={k: _plain(v) for k, v in snapshot(c, ("code", *CUSTOMER_FIELDS)).items()},
                    )
                    for c in rows
                ] + [
                    AuditEntry(
                        content_type=self.customer_ct,
                        object_id=ct.customer_id,
                        object_repr=str(ct.customer)[:200],
                        action=AuditEntry.Action.CREATE,
                        actor=self.sales,
                        at=ct.created_at,
                        changes={"contact": ct.name},
                    )
                    for ct in contacts
                ]
                with _explicit_timestamps(AuditEntry):
                    AuditEntry.objects.bulk_create(audits)
            by_customer: dict[int, _PoolCustomer] = {}
            for customer in rows:
                by_customer[customer.pk] = _PoolCustomer(customer.pk, customer.value_tier)
                pool.append(by_customer[customer.pk])
            for contact in contacts:
                by_customer[contact.customer_id].contacts.append(contact.pk)
            done += len(rows)
            self._report("客户 customers", done, count, started)
        return pool

    def _codes_by_day(
        self, times: list[dt.datetime], pattern: str, namespace: str, taken: Callable[[list[str]], set[str]]
    ) -> list[str]:
        """One fresh code per time (ascending), each from the counter of its local day."""
        days = [timezone.localtime(t).date() for t in times]
        codes: list[str] = []
        start = 0
        while start < len(days):
            end = bisect.bisect_right(days, days[start], lo=start)
            codes += _codes_block(pattern=pattern, day=days[start], namespace=namespace, count=end - start, taken=taken)
            start = end
        return codes

    def _customer_row(
        self, code: str, created: dt.datetime, today: dt.date, high: Decimal, medium: Decimal
    ) -> Customer:
        rng = self.rng
        industry, suffix = rng.choice(INDUSTRIES)
        city = rng.choice(CITIES)
        yearly = Decimal(int(rng.lognormvariate(13.6, 1.1)) // 1000 * 1000)
        tier = ValueTier.HIGH if yearly >= high else ValueTier.MEDIUM if yearly >= medium else ValueTier.LOW
        segment = _weighted(
            rng,
            (
                (Segment.HIGH_VALUE if tier == ValueTier.HIGH else Segment.NORMAL, 0.6),
                (Segment.POTENTIAL, 0.2),
                (Segment.CHURN_RISK, 0.1),
                (Segment.NORMAL, 0.1),
            ),
        )
        first_coop = created.date() + dt.timedelta(days=rng.randint(0, 60))
        follow = today + dt.timedelta(days=rng.randint(-20, 45)) if rng.random() < 0.7 else None
        products = "、".join(rng.sample(MODULES, rng.randint(1, 3)))
        return Customer(
            code=code,
            name=f"{city}{rng.choice(BRANDS)}{rng.choice(BRANDS)}{suffix}",
            industry=industry,
            region=city,
            employees=int(rng.lognormvariate(5.5, 1.2)) + 5,
            annual_revenue=yearly * rng.randint(20, 200),
            founded=dt.date(rng.randint(1990, 2020), rng.randint(1, 12), rng.randint(1, 28)),
            main_business=f"{industry}相关业务",
            first_cooperation=first_coop,
            products_bought=products,
            total_order_amount=yearly * rng.randint(1, 5),
            yearly_purchase=yearly,
            value_tier=tier,
            segment=segment,
            follow_status=rng.choice(FollowStatus.values),
            next_follow_up=follow,
            owner=self.sales if rng.random() < 0.85 else None,
            tags=industry,
            created_by=self.sales,
            created_at=created,
            updated_at=created,
        )

    def _contact_rows(self, customer: Customer) -> list[Contact]:
        rng = self.rng
        rows = []
        area = AREA_CODES.get(customer.region, "010")
        slug = customer.code.lower()
        for _i in range(rng.choice((1, 1, 2))):
            surname, pinyin = rng.choice(SURNAMES)
            title, role = rng.choice(TITLES)
            local = str(rng.randint(2, 8)) + "".join(str(rng.randint(0, 9)) for _d in range(7))
            rows.append(
                Contact(
                    customer=customer,
                    name=surname + rng.choice(GIVEN),
                    title=title,
                    phone=f"{area}-{local}",
                    email=f"{pinyin}{rng.randint(1, 999)}@{slug}.com.cn",
                    decision_role=role,
                    created_at=customer.created_at,
                    updated_at=customer.created_at,
                )
            )
        return rows

    def existing_customers(self, limit: int = 100_000) -> list[_PoolCustomer]:
        pool = {
            pk: _PoolCustomer(pk, tier)
            for pk, tier in Customer.objects.order_by("-id").values_list("pk", "value_tier")[:limit]
        }
        for contact_pk, customer_pk in Contact.objects.filter(customer_id__in=list(pool)).values_list(
            "pk", "customer_id"
        ):
            pool[customer_pk].contacts.append(contact_pk)
        return list(pool.values())

    # ---------------------------------------------------------- requirements

    def _texts(self, industry: str) -> dict[str, Any]:
        rng = self.rng
        module = rng.choice(MODULES)
        ask, type_key, category_key, tag_key = rng.choice(FEATURES)
        title = rng.choice(TITLE_TEMPLATES).format(module=module, ask=ask)
        pain = rng.choice(PAINS)
        description = [
            rng.choice(VOICES).format(industry=industry),
            f"{pain}，",
            f"希望{module}{ask}。",
        ]
        if self.sentences and rng.random() < 0.6:
            description.append("补充记录：")
            description.append(rng.choice(self.sentences))
        background = [
            rng.choice(
                (
                    f"目前{pain}，",
                    f"客户为{industry}企业，{pain}，",
                    f"{module}使用中{pain}，",
                )
            ),
            rng.choice((f"每月约浪费 {rng.choice(HOURS)} 小时人工。", f"影响{rng.choice(IMPACTS)}。")),
        ]
        concrete = [f"{module}{ask}，", f"{rng.choice(EXPECTS)}。"]
        voice = f"我们{pain}，希望{module}{ask}。"
        return {
            "title": title,
            "description": description,
            "background": background,
            "concrete": concrete,
            "voice": voice,
            "type": type_key,
            "category": category_key,
            "tag": tag_key,
        }

    def requirements(self, count: int, pool: list[_PoolCustomer]) -> GenerateResult:
        """Create ``count`` requirements over the last ``days`` days, oldest first, from customers in ``pool``."""
        result = GenerateResult()
        if count <= 0:
            return result
        if not pool:
            raise ValueError("no customers to attach generated requirements to")
        rng = self.rng
        now = timezone.now()
        span = self.days * 86400.0
        # Oldest first, so ids follow submission order and a chunk touches few code prefixes.
        offsets = sorted((rng.random() * span for _i in range(count)), reverse=True)
        pattern = self.config.requirement_code_pattern
        industries = [i for i, _s in INDUSTRIES]
        tier_rank: dict[str, int] = {ValueTier.HIGH: 3, ValueTier.MEDIUM: 2, ValueTier.LOW: 1}
        started = time.monotonic()
        done = 0
        while done < count:
            chunk_offsets = offsets[done : done + self.chunk]
            submitted = [now - dt.timedelta(seconds=o) for o in chunk_offsets]
            with transaction.atomic(), _explicit_timestamps(Requirement, Feedback, StatusChange, AuditEntry):
                codes = self._codes_by_day(submitted, pattern, "requirement", _taken_requirement_codes)
                rows: list[Requirement] = []
                extras: list[_Evidence] = []
                for code, at in zip(codes, submitted, strict=True):
                    row, extra = self._requirement_row(code, at, now, pool, industries, tier_rank)
                    rows.append(row)
                    extras.append(extra)
                Requirement.objects.bulk_create(rows)
                self._children(rows, extras, result)
            done += len(rows)
            result.requirements += len(rows)
            if len(result.requirement_codes) < 5:
                result.requirement_codes += [r.code for r in rows[: 5 - len(result.requirement_codes)]]
            self._report("需求 requirements", done, count, started)
        return result

    def _requirement_row(
        self,
        code: str,
        submitted: dt.datetime,
        now: dt.datetime,
        pool: list[_PoolCustomer],
        industries: list[str],
        tier_rank: dict[str, int],
    ) -> tuple[Requirement, _Evidence]:
        rng = self.rng
        opts = self.options
        text = self._texts(rng.choice(industries))
        urgency = opts.get("urgency", {}).get(_weighted(rng, (("urgent", 0.15), ("important", 0.35), ("normal", 0.5))))
        age_days = (now - submitted).total_seconds() / 86400
        status_pk = _weighted(rng, self.young_weights if age_days < 14 else self.status_weights)
        path = self.status_paths[status_pk]
        # Evidence: one customer, sometimes several (many customers asking for the same thing).
        n_customers = 1 if rng.random() < 0.85 else rng.randint(2, 3)
        customers = [(rng.choice(pool), submitted)]
        for _i in range(n_customers - 1):
            customers.append((rng.choice(pool), submitted + dt.timedelta(hours=rng.uniform(1, 24 * 30))))
        best = max(customers, key=lambda pair: tier_rank.get(pair[0].tier, 0))[0].tier
        due = sla_due(urgency, submitted)
        # The moves along the path, a few hours to days apart.
        history: list[tuple[WorkflowStatus, dt.datetime]] = []
        at = submitted
        for status in path[1:]:
            at = min(now, at + dt.timedelta(hours=rng.uniform(2, 24 * 10)))
            history.append((status, at))
        responded = history[0][1] if history else None
        # Unanswered ones past their deadline are flagged, as the periodic SLA check leaves them.
        breached = bool(due and responded > due) if responded is not None else bool(due and due < now)
        tag_list: list[ClassOption] = []
        if text["tag"] and text["tag"] in opts.get("tag", {}):
            tag_list.append(opts["tag"][text["tag"]])
        if rng.random() < 0.2:
            extra = rng.choice(list(opts.get("tag", {}).values()))
            if extra not in tag_list:
                tag_list.append(extra)
        priority = _weighted(
            rng,
            (("", 0.4), (Priority.P0, 0.08), (Priority.P1, 0.22), (Priority.P2, 0.12), (Priority.P3, 0.18)),
        )
        expected = timezone.localtime(submitted).date() + dt.timedelta(days=rng.randint(14, 180))
        description = "".join(text["description"])
        background = "".join(text["background"])
        concrete = "".join(text["concrete"])
        row = Requirement(
            code=code,
            title=text["title"],
            description=description,
            background=background,
            concrete_ask=concrete,
            expected_date=expected,
            type=opts.get("type", {}).get(text["type"]),
            urgency=urgency,
            nature=opts.get("nature", {}).get(
                _weighted(rng, (("functional", 0.7), ("emotional", 0.15), ("latent", 0.15)))
            ),
            source=opts.get("source", {}).get(_weighted(rng, (("explicit", 0.8), ("implicit", 0.2)))),
            category=opts.get("category", {}).get(text["category"]),
            status=path[-1],
            priority=priority,
            customer_value=best,
            owner=self.pm if rng.random() < 0.75 else self.sales,
            created_by=self.sales,
            submitted_at=submitted,
            first_response_due=due,
            first_responded_at=responded,
            sla_breached=breached,
            search_text=self.seg.index_text(
                code, [text["title"]], text["description"], text["background"], text["concrete"]
            ),
            created_at=submitted,
            updated_at=history[-1][1] if history else submitted,
        )
        return row, _Evidence(text["voice"], customers, tag_list, history)

    def _children(self, rows: list[Requirement], extras: list[_Evidence], result: GenerateResult) -> None:
        rng = self.rng
        channels = Channel.values
        sentiments = [*Sentiment.values, ""]
        sales_id, pm_id, ct_id = self.sales.pk, self.pm.pk, self.requirement_ct.pk
        initial = self.initial
        feedback: list[Feedback] = []
        tag_links: list[tuple[Any, ...]] = []
        changes: list[tuple[Any, ...]] = []
        audits: list[tuple[Any, ...]] = []
        for row, extra in zip(rows, extras, strict=True):
            for pool_customer, received in extra.customers:
                feedback.append(
                    Feedback(
                        customer_id=pool_customer.pk,
                        contact_id=rng.choice(pool_customer.contacts) if pool_customer.contacts else None,
                        channel=rng.choice(channels),
                        raw_text=extra.voice,
                        received_at=received,
                        sentiment=rng.choice(sentiments),
                        requirement_id=row.pk,
                        created_by_id=sales_id,
                        created_at=received,
                        updated_at=received,
                    )
                )
            tag_links.extend((row.pk, t.pk) for t in extra.tags)
            label = str(row)[:200]
            changes.append((row.pk, None, initial.pk, sales_id, "", row.submitted_at))
            created = {name: self._plain(getattr(row, name)) for name in self.audited}
            created["tags"] = _plain([t.label for t in extra.tags])
            audits.append((ct_id, row.pk, label, AuditEntry.Action.CREATE, created, sales_id, row.submitted_at))
            source = initial
            for target, at in extra.history:
                changes.append((row.pk, source.pk, target.pk, pm_id, "", at))
                audits.append(
                    (
                        ct_id,
                        row.pk,
                        label,
                        AuditEntry.Action.TRANSITION,
                        {"status": [self._plain(source), self._plain(target)]},
                        pm_id,
                        at,
                    )
                )
                source = target
        Feedback.objects.bulk_create(feedback)
        _insert_many(Requirement.tags.through, ("requirement", "classoption"), tag_links)
        _insert_many(StatusChange, ("requirement", "source", "target", "actor", "note", "at"), changes)
        _insert_many(
            AuditEntry, ("content_type", "object_id", "object_repr", "action", "changes", "actor", "at"), audits
        )
        result.feedback += len(feedback)

    def _plain(self, value: Any) -> Any:
        """``core.audit._plain``, remembering the text of options, statuses and users (one gettext each)."""
        if isinstance(value, models.Model):
            key = (type(value), value.pk)
            text = self._labels.get(key)
            if text is None:
                text = self._labels[key] = _plain(value)
            return text
        return _plain(value)

    # ---------------------------------------------------------- progress

    def _report(self, what: str, done: int, total: int, started: float) -> None:
        elapsed = max(time.monotonic() - started, 1e-6)
        self.progress(
            f"{what}: {done:,}/{total:,} ({done * 100 // max(total, 1)}%) {done / elapsed:,.0f}/s, {elapsed:,.0f} s"
        )


def generate(
    *,
    requirements: int,
    customers: int | None = None,
    users: dict[str, User] | None = None,
    seed: int | None = None,
    days: int = 730,
    chunk: int = 5000,
    progress: Progress | None = _stderr,
) -> GenerateResult:
    """Generate ``customers`` customers (default max(20, requirements // 5), 0 when no requirements)
    and ``requirements`` requirements attached to them."""
    started = time.monotonic()
    if customers is None:
        customers = max(20, requirements // 5) if requirements > 0 else 0
    generator = VolumeGenerator(
        users=users or demo_users_ensure(), seed=seed, days=days, chunk=chunk, progress=progress
    )
    pool = generator.customers(customers) if customers > 0 else []
    if requirements > 0 and not pool:
        pool = generator.existing_customers()
    result = generator.requirements(requirements, pool)
    result.customers = len(pool) if customers > 0 else 0
    result.contacts = sum(len(c.contacts) for c in pool) if customers > 0 else 0
    result.seconds = time.monotonic() - started
    return result


__all__ = [
    "DEMO_PM",
    "DEMO_SALES",
    "EXAMPLE_REQUIREMENT_CODE",
    "GenerateResult",
    "VolumeGenerator",
    "demo_users_ensure",
    "generate",
    "load_examples",
]

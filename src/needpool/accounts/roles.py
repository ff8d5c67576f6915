"""Roles and what each may do (PRODUCT.md §1). Pure data, no database."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("管理员")
    MANAGER = "manager", _("经理")
    PRODUCT_MANAGER = "product_manager", _("产品经理")
    SALES = "sales", _("销售")
    SERVICE = "service", _("客服")
    ENGINEER = "engineer", _("技术")
    COMPLIANCE = "compliance", _("合规")
    VIEWER = "viewer", _("只读")


class Cap(models.TextChoices):
    """Capabilities checked by permissions.py of each app."""

    CUSTOMER_WRITE = "customer.write", _("维护客户、联系人、互动")
    FEEDBACK_WRITE = "feedback.write", _("录入反馈")
    REQUIREMENT_CREATE = "requirement.create", _("创建需求")
    REQUIREMENT_EDIT_ANY = "requirement.edit_any", _("编辑任意需求")
    REQUIREMENT_TRANSITION = "requirement.transition", _("流转需求状态")
    COMMENT = "comment", _("评论与附件")
    SEE_ALL = "see_all", _("查看全部客户与需求")
    ANALYSE = "analyse", _("分析与排序需求、调整优先级模型")
    ESTIMATE = "estimate", _("评估技术可行性与工作量")
    COMPLIANCE_SIGN = "compliance_sign", _("合规审核签字")
    REVIEW = "review", _("组织评审会议、记录评审决策")
    PLAN = "plan", _("制定计划、管理迭代、任务、验收与需求变更")
    CLOSE_LOOP = "close_loop", _("通知客户、发起满意度与 NPS 调查、效果评估")
    CONFIGURE = "configure", _("维护分类、流程、编号规则")
    MANAGE_USERS = "manage_users", _("管理用户与团队")


_ALL = set(Cap) - {Cap.COMPLIANCE_SIGN}
ROLE_CAPS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(_ALL),
    Role.MANAGER: frozenset(_ALL - {Cap.CONFIGURE, Cap.MANAGE_USERS}),
    Role.PRODUCT_MANAGER: frozenset(_ALL - {Cap.CONFIGURE, Cap.MANAGE_USERS}),
    Role.SALES: frozenset({Cap.CUSTOMER_WRITE, Cap.FEEDBACK_WRITE, Cap.REQUIREMENT_CREATE, Cap.COMMENT}),
    Role.SERVICE: frozenset({Cap.CUSTOMER_WRITE, Cap.FEEDBACK_WRITE, Cap.REQUIREMENT_CREATE, Cap.COMMENT}),
    Role.ENGINEER: frozenset({Cap.REQUIREMENT_TRANSITION, Cap.COMMENT, Cap.SEE_ALL, Cap.ESTIMATE}),
    Role.COMPLIANCE: frozenset({Cap.COMMENT, Cap.SEE_ALL, Cap.COMPLIANCE_SIGN}),
    Role.VIEWER: frozenset({Cap.SEE_ALL}),
}


def role_has(role: str, cap: str) -> bool:
    return cap in ROLE_CAPS.get(role, frozenset())

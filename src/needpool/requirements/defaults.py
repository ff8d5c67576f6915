"""Default classification lists (from the templates); seeded by a data migration, editable by admin."""

from __future__ import annotations

from typing import Any

# (dimension, key, label, label_en, sla_hours)
DEFAULT_OPTIONS: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("type", "function", "功能", "Function", None),
    ("type", "function_improvement", "功能优化", "Function improvement", None),
    ("type", "service", "服务", "Service", None),
    ("type", "price", "价格", "Price", None),
    ("type", "experience", "体验", "Experience", None),
    ("type", "bug", "问题反馈", "Bug report", None),
    ("type", "other", "其他", "Other", None),
    ("urgency", "urgent", "紧急", "Urgent", 24),
    ("urgency", "important", "重要", "Important", 72),
    ("urgency", "normal", "一般", "Normal", None),
    ("nature", "functional", "功能型", "Functional", None),
    ("nature", "emotional", "情感型", "Emotional", None),
    ("nature", "latent", "潜在型", "Latent", None),
    ("source", "explicit", "显性", "Explicit", None),
    ("source", "implicit", "隐性", "Implicit", None),
    ("category", "functional", "功能需求", "Functional", None),
    ("category", "performance", "非功能-性能", "Non-functional: performance", None),
    ("category", "security", "非功能-安全", "Non-functional: security", None),
    ("category", "usability", "非功能-易用性", "Non-functional: usability", None),
    ("category", "business", "业务需求", "Business", None),
    ("tag", "feature_suggestion", "功能建议", "Feature suggestion", None),
    ("tag", "service_complaint", "服务投诉", "Service complaint", None),
    ("tag", "price_inquiry", "价格咨询", "Price inquiry", None),
    ("tag", "bulk_operation", "批量操作", "Bulk operation", None),
    ("tag", "efficiency", "效率提升", "Efficiency", None),
)

SUBTYPES = {"function_improvement": "function"}


def seed(option_model: Any, workflow_model: Any, status_model: Any, transition_model: Any) -> None:
    """Create the default lists and flows where missing (idempotent; used by a data migration)."""
    from needpool.requirements.workflow import DEFAULT_FLOWS

    order: dict[str, int] = {}
    for dimension, key, label, label_en, sla in DEFAULT_OPTIONS:
        order[dimension] = order.get(dimension, 0) + 10
        option_model.objects.get_or_create(
            dimension=dimension,
            key=key,
            defaults={"label": label, "label_en": label_en, "sla_hours": sla, "sort_order": order[dimension]},
        )
    for child, parent in SUBTYPES.items():
        option_model.objects.filter(dimension="type", key=child).update(
            parent=option_model.objects.get(dimension="type", key=parent)
        )
    for flow in DEFAULT_FLOWS:
        workflow, _created = workflow_model.objects.get_or_create(key=flow.key, defaults={"name": flow.name})
        by_key = {}
        for index, status in enumerate(flow.statuses):
            by_key[status.key], _c = status_model.objects.get_or_create(
                workflow=workflow,
                key=status.key,
                defaults={
                    "label": status.label,
                    "label_en": status.label_en,
                    "category": status.category,
                    "order": index * 10,
                    "is_initial": status.initial,
                },
            )
        for source, target in flow.transitions:
            transition_model.objects.get_or_create(workflow=workflow, source=by_key[source], target=by_key[target])

"""The customer list's filters and sorts, declared once and shared by the list page, the API and exports."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from needpool.core.validation import IdFilter
from needpool.customers.choices import Segment, ValueTier
from needpool.customers.models import Contact, Customer, Interaction

CUSTOMER_SORTS = {
    "-id": _("最新创建"),
    "name": _("客户名称"),
    "code": _("客户编号（升序）"),
    "-code": _("客户编号（降序）"),
    "-total_order_amount": _("累计订单金额（高到低）"),
    "next_follow_up": _("下次跟进日期"),
}
DEFAULT_SORT = "-id"


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", max_length=100, label=_("搜索"))
    segment = django_filters.ChoiceFilter(choices=Segment.choices, label=_("客户分层"), empty_label=_("全部"))
    value_tier = django_filters.ChoiceFilter(choices=ValueTier.choices, label=_("客户价值"), empty_label=_("全部"))
    industry = django_filters.CharFilter(field_name="industry", max_length=60, label=_("所属行业"))
    owner = IdFilter(field_name="owner_id", label=_("负责人"))
    sort = django_filters.ChoiceFilter(
        choices=list(CUSTOMER_SORTS.items()), method="filter_sort", label=_("排序"), empty_label=None
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        q = self.form.fields["q"]
        q.widget.input_type = "search"
        q.widget.attrs["placeholder"] = _("客户名称、编号、行业")
        self.form.fields["sort"].required = False

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        value = (value or "").strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(code__iexact=value) | Q(industry__icontains=value))

    def filter_sort(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        return queryset.order_by(value if value in CUSTOMER_SORTS else DEFAULT_SORT, "-id")


# Contacts and interactions are listed on the customer's page; the API lists them by customer.
class CustomerIdFilter(django_filters.FilterSet):
    customer = IdFilter(field_name="customer_id", label=_("客户"))


class ContactFilter(CustomerIdFilter):
    class Meta:
        model = Contact
        fields: list[str] = []


class InteractionFilter(CustomerIdFilter):
    class Meta:
        model = Interaction
        fields: list[str] = []

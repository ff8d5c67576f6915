"""Input validation for the customer pages; the views then call customers.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.core.concurrency import VersionedForm
from needpool.core.validation import DateFormField, DateTimeFormField, parse_id
from needpool.customers.choices import (
    DecisionRole,
    FollowStatus,
    InteractionChannel,
    Mood,
    Segment,
)
from needpool.customers.filters import CustomerFilter
from needpool.customers.models import Contact, Customer

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def customer_filter_args(data: Any) -> dict[str, str]:
    """The list page's query (q, segment, value_tier, industry, owner, sort) for ``customer_list``; the page
    form is ``CustomerFilter(data).form``, so its fields and sorts are the FilterSet's."""
    if not data:
        return {}
    filterset = CustomerFilter(data, queryset=Customer.objects.none())
    filterset.is_valid()
    cleaned = getattr(filterset.form, "cleaned_data", {})
    return {name: str(value) for name, value in cleaned.items() if value not in ("", None)}


class CustomerForm(VersionedForm):
    """Create and edit; on edit it carries the version and the values it was opened with (``core.concurrency``)."""

    _NOT_FROM_ROW = ("owner", *VersionedForm.SYSTEM_FIELDS)

    name = forms.CharField(label=_("客户名称"), max_length=120)
    industry = forms.CharField(label=_("所属行业"), max_length=60, required=False)
    region = forms.CharField(label=_("地区"), max_length=60, required=False)
    employees = forms.IntegerField(label=_("员工人数"), min_value=0, required=False)
    annual_revenue = forms.DecimalField(label=_("年营业额"), max_digits=16, decimal_places=2, required=False)
    founded = DateFormField(label=_("成立时间"), required=False, widget=DATE_WIDGET)
    main_business = forms.CharField(label=_("主营业务"), max_length=200, required=False)
    first_cooperation = DateFormField(label=_("首次合作时间"), required=False, widget=DATE_WIDGET)
    products_bought = forms.CharField(label=_("购买产品"), max_length=300, required=False)
    total_order_amount = forms.DecimalField(
        label=_("累计订单金额"), max_digits=16, decimal_places=2, min_value=0, initial=0
    )
    yearly_purchase = forms.DecimalField(
        label=_("年采购额"),
        max_digits=16,
        decimal_places=2,
        min_value=0,
        initial=0,
        help_text=_("客户价值（高/中/低）按年采购额自动计算"),
    )
    segment = forms.ChoiceField(label=_("客户分层"), choices=Segment.choices, initial=Segment.NORMAL)
    follow_status = forms.ChoiceField(label=_("跟进状态"), choices=FollowStatus.choices, initial=FollowStatus.TODO)
    next_follow_up = DateFormField(label=_("下次跟进日期"), required=False, widget=DATE_WIDGET)
    owner = forms.ModelChoiceField(label=_("客户负责人"), queryset=User.objects.none(), required=False)
    tags = forms.CharField(label=_("标签"), max_length=200, required=False)
    praise_complaint = forms.CharField(
        label=_("表扬/投诉记录"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, instance: Customer | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(instance, name) for name in self.base_fields if name not in self._NOT_FROM_ROW}
                | {"owner": instance.owner_id},
            )
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("username")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        """cleaned_data as customer_create / customer_update take it (empty text stays empty, not None)."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.SYSTEM_FIELDS}
        for name in ("industry", "region", "main_business", "products_bought", "tags", "praise_complaint", "notes"):
            data[name] = data.get(name) or ""
        return data


class ContactForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=60)
    title = forms.CharField(label=_("职位"), max_length=60, required=False)
    phone = forms.CharField(
        label=_("工作电话"), max_length=40, required=False, help_text=_("只能填写工作座机或总机，禁止个人手机号")
    )
    email = forms.EmailField(label=_("工作邮箱"), required=False, help_text=_("只能填写企业邮箱，禁止个人邮箱"))
    decision_role = forms.ChoiceField(label=_("决策角色"), choices=DecisionRole.choices, initial=DecisionRole.USER)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "contact")
        super().__init__(*args, **kwargs)


class InteractionForm(forms.Form):
    occurred_at = DateTimeFormField(
        label=_("接触时间"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    channel = forms.ChoiceField(label=_("接触方式"), choices=InteractionChannel.choices)
    contact = forms.ModelChoiceField(label=_("联系人"), queryset=Contact.objects.none(), required=False)
    participants = forms.CharField(label=_("参与人"), max_length=200, required=False)
    key_content = forms.CharField(label=_("沟通要点"), widget=forms.Textarea(attrs={"rows": 3}))
    mood = forms.ChoiceField(label=_("客户情绪"), choices=Mood.choices, initial=Mood.NEUTRAL)
    key_asks = forms.CharField(
        label=_("关键诉求"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("每行一条诉求；保存后可一键转为反馈"),
    )
    next_follow_up_plan = forms.CharField(label=_("下次跟进计划"), max_length=300, required=False)
    next_follow_up_date = DateFormField(label=_("下次跟进日期"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "interaction")
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(customer=customer).order_by("id")  # type: ignore[attr-defined]


SELECT_LIMIT = 300


class CustomerRefField(forms.ModelChoiceField):
    """A customer typed as its code (C2024001), as "code name", or as its id — for users who see many
    customers, where a <select> of every customer would be megabytes of HTML."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> Customer | None:
        if value in self.empty_values:
            return None
        if isinstance(value, Customer):
            return value
        token = str(value).strip().split()[0]
        pk = parse_id(token)
        lookup = {"pk": pk} if pk is not None else {"code": token.upper()}
        try:
            return self.queryset.get(**lookup)  # type: ignore[union-attr]
        except Customer.DoesNotExist as exc:
            raise forms.ValidationError(
                _("找不到客户“%(value)s”，请输入客户编号，如 C2024001。") % {"value": token}, code="invalid_choice"
            ) from exc

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, Customer):
            return f"{value.code} {value.name}"
        if (pk := parse_id(value)) is not None:
            found = self.queryset.filter(pk=pk).only("code", "name").first()  # type: ignore[union-attr]
            return f"{found.code} {found.name}" if found else value
        return value


def customer_field(queryset: Any, **kwargs: Any) -> forms.ModelChoiceField:
    """A select while the user sees few customers, a code input (CustomerRefField) beyond SELECT_LIMIT."""
    # Counting stops past the limit: a pool of 200,000 customers was counted whole on every list page (15 ms).
    if queryset.order_by()[: SELECT_LIMIT + 1].count() > SELECT_LIMIT:
        kwargs.setdefault("help_text", _("输入客户编号，如 C2024001"))
        field: forms.ModelChoiceField = CustomerRefField(queryset=queryset, **kwargs)
        field.widget.attrs["placeholder"] = "C2024001"
        return field
    return forms.ModelChoiceField(queryset=queryset.only("id", "code", "name").order_by("name", "id"), **kwargs)

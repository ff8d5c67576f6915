"""Form and API messages written for people (``needpool.core.messages``): each names its field and its rule,
and a date that does not exist says why — on forms of every app and on the API, without a form or serializer
of its own saying so. A message a form or service wrote itself is never replaced."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from needpool.analysis.forms.desk import FeasibilityForm
from needpool.core.messages import date_problem, people_message
from needpool.customers.forms import ContactForm, CustomerForm
from needpool.delivery.forms import IterationForm
from needpool.requirements.forms import RequirementCreateForm
from needpool.requirements.models import Requirement

pytestmark = pytest.mark.django_db

DJANGO_DEFAULTS = ("确保该变量", "输入整数", "输入一个有效的日期", "该字段是必填项", "选择一个有效的选项")


def _errors(form: forms.BaseForm) -> dict[str, list[str]]:
    form.is_valid()
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


def _no_default(errors: dict[str, list[str]]) -> None:
    text = " ".join(m for messages in errors.values() for m in messages)
    assert not any(default in text for default in DJANGO_DEFAULTS), text


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("2024-02-30", "2024 年 2 月只有 29 天"),
        ("2023-02-29", "2023 年 2 月只有 28 天"),
        ("2024-04-31", "2024 年 4 月只有 30 天"),
        ("2024-13-01", "没有 13 月"),
        ("2024-00-10", "没有 0 月"),
        ("2024/02/30", "只有 29 天"),
        ("2024年2月30日", "只有 29 天"),
    ],
)
def test_a_date_that_does_not_exist_says_why(raw, words):
    problem = date_problem(raw)
    assert problem is not None and words in problem and "不是有效日期" in problem


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_a_real_date_has_no_problem(day):
    assert date_problem(day.isoformat()) is None
    assert date_problem(f"{day.year}/{day.month}/{day.day}") is None


@settings(max_examples=100, deadline=None)
@given(st.integers(1900, 2200), st.integers(1, 12), st.integers(0, 99))
def test_every_impossible_day_is_named(year, month, day):
    try:
        dt.date(year, month, day)
    except ValueError:
        assert date_problem(f"{year}-{month:02d}-{day:02d}") is not None
    else:
        assert date_problem(f"{year}-{month:02d}-{day:02d}") is None


# ---------------------------------------------------------------- forms of each app


def test_requirement_form_names_the_title_limit_and_the_impossible_date(users):
    form = RequirementCreateForm({"title": "长" * 201, "expected_date": "2024-02-30"}, user=users["product_manager"])
    errors = _errors(form)
    assert errors["title"] == ["标题最多 200 个字，现在 201 个。"]
    assert errors["expected_date"] == ["2024-02-30 不是有效日期：2024 年 2 月只有 29 天。"]
    _no_default(errors)


def test_requirement_form_asks_for_a_missing_title(users):
    errors = _errors(RequirementCreateForm({"title": ""}, user=users["product_manager"]))
    assert errors["title"] == ["请填写标题。"]


def test_customer_forms_name_their_fields(users, customer):
    errors = _errors(ContactForm({"contact-name": "名" * 61, "contact-decision_role": "boss"}))
    assert errors["name"] == ["姓名最多 60 个字，现在 61 个。"]
    assert "决策角色没有“boss”这一项" in errors["decision_role"][0]
    _no_default(errors)
    _no_default(_errors(CustomerForm({"name": ""})))


def test_analysis_feasibility_form_names_the_choice_and_the_range():
    errors = _errors(FeasibilityForm({"tech_difficulty": "9", "effort_days": "-1", "cost_estimate": "abc"}))
    assert "技术难度（1–5）没有“9”这一项" in errors["tech_difficulty"][0]
    assert errors["effort_days"] == ["工作量（人天）必须是不小于 0 的数字。"]
    assert errors["cost_estimate"] == ["成本估算（元）必须是不小于 0 的数字。"]
    _no_default(errors)


def test_delivery_form_dates_and_lengths():
    errors = _errors(IterationForm({"name": "迭" * 101, "start_date": "2024-02-30", "end_date": "2024-13-01"}))
    assert errors["name"] == ["名称最多 100 个字，现在 101 个。"]
    assert "只有 29 天" in errors["start_date"][0] and "没有 13 月" in errors["end_date"][0]
    _no_default(errors)


def test_a_message_a_form_wrote_itself_is_kept():
    class Form(forms.Form):
        amount = forms.IntegerField(label="数量")

        def clean_amount(self) -> int:
            raise forms.ValidationError("这一批已经结算，不能再改。", code="invalid")

    assert _errors(Form({"amount": "3"}))["amount"] == ["这一批已经结算，不能再改。"]


def test_a_page_shows_the_people_message(users):
    client = Client()
    client.force_login(users["product_manager"])
    before = Requirement.objects.count()
    html = client.post(
        reverse("requirements:create"), {"title": "长" * 201, "expected_date": "2024-02-30"}
    ).content.decode()
    assert "标题最多 200 个字" in html and "2 月只有 29 天" in html
    assert Requirement.objects.count() == before


# ---------------------------------------------------------------- the API


def test_api_names_the_title_limit(api, users):
    response = api(users["product_manager"]).post("/api/v1/requirements/", {"title": "长" * 201}, format="json")
    assert response.status_code == 400
    assert response.json()["title"] == ["标题最多 200 个字，现在 201 个。"]


def test_api_says_the_date_does_not_exist(api, users):
    response = api(users["product_manager"]).post(
        "/api/v1/requirements/", {"title": "批量折扣", "expected_date": "2024-02-30"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["expected_date"] == ["2024-02-30 不是有效日期：2024 年 2 月只有 29 天。"]


def test_api_asks_for_a_missing_field(api, users):
    response = api(users["product_manager"]).post("/api/v1/requirements/", {}, format="json")
    assert response.status_code == 400 and response.json()["title"] == ["请填写标题。"]


def test_api_customer_and_contact_messages(api, users, customer):
    client = api(users["sales"])
    response = client.post("/api/v1/customers/", {"name": "客" * 300}, format="json")
    assert response.status_code == 400
    assert "最多" in response.json()["name"][0] and "个字" in response.json()["name"][0]
    response = client.post("/api/v1/contacts/", {"customer": customer.pk, "name": ""}, format="json")
    assert response.status_code == 400 and response.json()["name"][0].startswith("请填写")


def test_a_service_message_on_the_api_is_kept(api, users, customer):
    response = api(users["sales"]).post(
        "/api/v1/contacts/", {"customer": customer.pk, "name": "李经理", "phone": "13800138000"}, format="json"
    )
    assert "个人手机号" in response.json()["phone"][0]


def test_people_message_keeps_what_it_does_not_know():
    assert people_message("some_rule", "标题") is None
    assert people_message(None, "标题") is None


# ---------------------------------------------------------------- a past expected date: saved, with a warning


def test_a_past_expected_date_is_saved_with_a_warning(users, customer):
    client = Client()
    client.force_login(users["product_manager"])
    response = client.post(
        reverse("requirements:create"),
        {"customer": customer.pk, "channel": "sales", "title": "旧需求补录", "expected_date": "2024-06-30"},
        follow=True,
    )
    requirement = Requirement.objects.get(title="旧需求补录")
    assert requirement.expected_date == dt.date(2024, 6, 30)
    html = response.content.decode()
    assert "期望时间 2024-06-30 已经过去" in html and "已按填写保存" in html


def test_a_future_expected_date_has_no_warning(users, customer):
    client = Client()
    client.force_login(users["product_manager"])
    later = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    data = {"customer": customer.pk, "channel": "sales", "title": "新需求", "expected_date": later}
    response = client.post(reverse("requirements:create"), data, follow=True)
    assert Requirement.objects.filter(title="新需求").exists()
    assert "已经过去" not in response.content.decode()


def test_past_date_warning_only_for_a_day_before_today():
    from django.utils import timezone

    from needpool.core.messages import past_date_warning

    today = timezone.localdate()
    assert past_date_warning(today, "期望时间") == ""
    assert past_date_warning(None, "期望时间") == ""
    assert "已经过去" in past_date_warning(today - dt.timedelta(days=1), "期望时间")


def test_a_typed_percent_sign_in_a_rewritten_message_is_shown_not_formatted(db):
    from django import forms

    class Pick(forms.Form):
        segment = forms.ChoiceField(label="客户分层", choices=[("vip", "VIP")])

    form = Pick(data={"segment": "坏%s值%d"})
    assert not form.is_valid()
    assert "坏%s值%d" in form.errors["segment"][0]  # quoted as typed, and formatting it again breaks nothing
    assert form.errors.as_data()["segment"][0].message % form.errors.as_data()["segment"][0].params

"""Customer pages: list, create / edit, detail with contacts (privacy rule), interactions and key asks."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from needpool.core.models import AuditEntry
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.services import contact_create, interaction_create
from needpool.requirements.models import Feedback
from tests.conftest import count_queries

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


HTMX = {"HTTP_HX_REQUEST": "true"}


def _count_htmx_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **HTMX)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


def _pool_url(detail_html: str) -> str:
    """The address the customer page loads its feedback and requirements from (htmx, on load)."""
    placeholder = detail_html.split('id="customer-pool"', 1)[1].split(">", 1)[0]
    assert 'hx-trigger="load"' in placeholder
    return re.search(r'hx-get="([^"]+)"', placeholder).group(1)


CUSTOMER_DATA = {
    "name": "B制造企业",
    "industry": "工业制造",
    "region": "苏州",
    "employees": "800",
    "annual_revenue": "",
    "founded": "2005-03-01",
    "main_business": "精密零件",
    "first_cooperation": "",
    "products_bought": "ERP 报表",
    "total_order_amount": "1200000",
    "yearly_purchase": "2000000",
    "segment": "potential",
    "follow_status": "todo",
    "next_follow_up": "",
    "owner": "",
    "tags": "",
    "praise_complaint": "",
    "notes": "",
}


# ---------------------------------------------------------------- list


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "service", "viewer", "engineer"])
def test_list_renders_for_every_role(client, users, customer, role):
    client.force_login(users[role])
    response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    assert "A科技公司" in _html(response)


def test_list_scoped_for_other_team(client, outsider, customer):
    client.force_login(outsider)
    assert "A科技公司" not in _html(client.get(reverse("customers:list")))


def test_list_filters_and_keeps_them_in_pagination(client, users, make_customers):
    make_customers(60)
    client.force_login(users["manager"])
    response = client.get(reverse("customers:list"), {"q": "客户", "value_tier": "low", "sort": "name"})
    page = response.context["page_obj"]
    assert page.paginator.count == 10  # yearly purchase below 1,000,000: 客户0 … 客户9
    assert all(c.value_tier == "low" for c in page.object_list)
    response = client.get(reverse("customers:list"), {"segment": "normal", "sort": "name"})
    assert response.context["page_obj"].paginator.count == 60
    assert "?segment=normal&amp;sort=name&amp;page=2" in _html(response)
    response = client.get(reverse("customers:list"), {"q": "客户42"})
    assert [c.name for c in response.context["page_obj"]] == ["客户42"]


def test_list_query_count_is_constant(client, users, make_customers, django_assert_max_num_queries):
    client.force_login(users["sales"])
    url = reverse("customers:list")
    make_customers(5)
    client.get(url)
    few = count_queries(client, url)
    make_customers(25)
    assert count_queries(client, url) == few
    with django_assert_max_num_queries(8):
        client.get(url)


# ---------------------------------------------------------------- create / edit


def test_create_customer_via_form(client, users):
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), CUSTOMER_DATA)
    customer = Customer.objects.get(name="B制造企业")
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert customer.code.startswith("C")
    assert customer.owner == users["sales"]  # creator owns it when no owner is chosen
    assert customer.value_tier == "medium"
    assert customer.employees == 800 and customer.founded == dt.date(2005, 3, 1)
    assert AuditEntry.objects.filter(object_id=customer.pk, action="create", object_repr__contains="B制造企业").exists()


def test_create_customer_invalid_writes_nothing(client, users):
    client.force_login(users["sales"])
    response = client.post(reverse("customers:create"), {**CUSTOMER_DATA, "name": "", "yearly_purchase": "abc"})
    assert response.status_code == 200
    assert "invalid-feedback" in _html(response)
    assert not Customer.objects.exists()


def test_create_and_edit_are_403_for_viewer(client, users, customer):
    client.force_login(users["viewer"])
    assert client.get(reverse("customers:create")).status_code == 403
    assert client.post(reverse("customers:create"), CUSTOMER_DATA).status_code == 403
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 403
    assert client.post(reverse("customers:edit", args=[customer.pk]), CUSTOMER_DATA).status_code == 403
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.name == "A科技公司"


def test_edit_customer_via_form(client, users, customer):
    client.force_login(users["sales"])
    form = client.get(reverse("customers:edit", args=[customer.pk])).context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"yearly_purchase": "100000", "segment": "churn_risk", "next_follow_up": "2030-01-15"})
    response = client.post(reverse("customers:edit", args=[customer.pk]), data)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.value_tier, customer.segment, customer.name) == ("low", "churn_risk", "A科技公司")
    assert customer.next_follow_up == dt.date(2030, 1, 15)
    assert customer.owner == users["sales"]


def test_edit_and_detail_are_404_for_other_team(client, outsider, customer):
    client.force_login(outsider)
    assert client.get(reverse("customers:detail", args=[customer.pk])).status_code == 404
    assert client.get(reverse("customers:edit", args=[customer.pk])).status_code == 404
    assert client.post(reverse("customers:edit", args=[customer.pk]), CUSTOMER_DATA).status_code == 404
    response = client.post(reverse("customers:contact_create", args=[customer.pk]), {"contact-name": "X"})
    assert response.status_code == 404
    assert client.get(reverse("customers:contact_options"), {"customer": customer.pk}).status_code == 404


# ---------------------------------------------------------------- detail


def test_detail_shows_profile_contacts_feedback_requirements(client, users, requirement, customer):
    client.force_login(users["sales"])
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    html = _html(response)
    for text in (
        customer.code,
        "A科技公司",
        "互联网",
        "高",
        "王总",
        "010-62345678",
        "决策者",
        'id="contact-form"',
        'id="interaction-form"',
        'type="datetime-local"',
    ):
        assert text in html, text
    # Feedback and requirements come from the pool, loaded into the page (a link when scripts are off).
    url = _pool_url(html)
    assert url == reverse("requirements:for_customer", args=[customer.pk])
    assert f'href="{url}"' in html
    response = client.get(url, **HTMX)
    assert response.status_code == 200
    pool = _html(response)
    assert "<html" not in pool
    for text in (
        'id="customer-feedback"',
        'id="customer-requirements"',
        requirement.code,
        requirement.title,
        "电商客户希望按客户等级自动计算批量下单折扣",
        f'href="{reverse("requirements:list")}?customer={customer.pk}"',
    ):
        assert text in pool, text


def test_customer_pool_without_htmx_is_a_page_of_its_own(client, users, requirement, customer):
    client.force_login(users["sales"])
    response = client.get(reverse("requirements:for_customer", args=[customer.pk]))
    html = _html(response)
    assert response.status_code == 200 and "<html" in html
    assert "A科技公司" in html and requirement.code in html
    assert 'id="customer-feedback"' in html and 'id="customer-requirements"' in html
    assert f'href="{reverse("customers:detail", args=[customer.pk])}"' in html


def test_customer_pool_is_scoped_to_the_user(client, users, outsider, requirement, customer):
    from needpool.customers.services import customer_create
    from needpool.requirements.services import requirement_create

    theirs = customer_create(actor=outsider, name="别人的客户")
    requirement_create(actor=outsider, customer=theirs, title="别人的需求")
    client.force_login(outsider)
    assert client.get(reverse("requirements:for_customer", args=[customer.pk]), **HTMX).status_code == 404
    pool = _html(client.get(reverse("requirements:for_customer", args=[theirs.pk]), **HTMX))
    assert "别人的需求" in pool and requirement.code not in pool
    assert client.get(reverse("requirements:for_customer", args=[999999]), **HTMX).status_code == 404
    assert client.post(reverse("requirements:for_customer", args=[theirs.pk]), **HTMX).status_code == 405
    client.logout()
    assert client.get(reverse("requirements:for_customer", args=[theirs.pk]), **HTMX).status_code == 302


def test_customer_pool_empty_states(client, users, customer):
    client.force_login(users["viewer"])
    pool = _html(client.get(reverse("requirements:for_customer", args=[customer.pk]), **HTMX))
    assert "暂无反馈" in pool and "暂无相关需求" in pool


def test_detail_viewer_has_no_forms(client, users, customer):
    client.force_login(users["viewer"])
    html = _html(client.get(reverse("customers:detail", args=[customer.pk])))
    assert 'id="contact-form"' not in html and 'id="interaction-form"' not in html


def test_detail_query_count_is_constant(client, users, customer, make_requirements, django_assert_max_num_queries):
    from needpool.requirements.services import feedback_from_interaction_ask, requirement_create

    client.force_login(users["sales"])
    url = reverse("customers:detail", args=[customer.pk])

    def grow(n: int) -> None:
        for i in range(n):
            contact = contact_create(actor=users["sales"], customer=customer, name=f"联系人{i}", phone="010-12345678")
            interaction = interaction_create(
                actor=users["sales"],
                customer=customer,
                contact=contact,
                channel="visit",
                occurred_at=timezone.now() - dt.timedelta(days=i),
                key_content="拜访",
                key_asks="诉求一\n诉求二",
            )
            feedback_from_interaction_ask(actor=users["sales"], interaction=interaction, index=0)
            requirement_create(
                actor=users["sales"], customer=customer, contact=contact, title=f"需求{i}", owner=users["manager"]
            )

    pool_url = reverse("requirements:for_customer", args=[customer.pk])
    grow(2)
    client.get(url)
    client.get(pool_url, **HTMX)
    few = count_queries(client, url)
    few_pool = _count_htmx_queries(client, pool_url)
    grow(10)
    assert count_queries(client, url) == few
    assert _count_htmx_queries(client, pool_url) == few_pool
    with django_assert_max_num_queries(18):
        client.get(url)
    with django_assert_max_num_queries(12):
        client.get(pool_url, **HTMX)


# ---------------------------------------------------------------- contacts and the privacy rule


def test_add_contact_via_form(client, users, customer):
    client.force_login(users["service"])
    response = client.post(
        reverse("customers:contact_create", args=[customer.pk]),
        {
            "contact-name": "赵经理",
            "contact-title": "IT 经理",
            "contact-phone": "0755-86001234",
            "contact-email": "zhao@a-tech.com.cn",
            "contact-decision_role": "influencer",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#contacts")
    contact = Contact.objects.get(name="赵经理")
    assert (contact.customer, contact.phone, contact.decision_role) == (customer, "0755-86001234", "influencer")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "13800138000", "禁止记录个人手机号"),
        ("phone", "+86 138-0013-8000", "禁止记录个人手机号"),
        ("email", "x@163.com", "禁止记录个人邮箱"),
    ],
)
def test_contact_privacy_rule_refuses_personal_data(client, users, customer, field, value, message):
    client.force_login(users["sales"])
    data = {"contact-name": "小李", "contact-phone": "", "contact-email": "", "contact-decision_role": "user"}
    data[f"contact-{field}"] = value
    response = client.post(reverse("customers:contact_create", args=[customer.pk]), data)
    assert response.status_code == 200
    html = _html(response)
    assert message in html
    # The message sits next to its field.
    error_block = html.split(f'id="id_contact-{field}_error"', 1)[1][:300]
    assert message in error_block
    assert f'value="{value}"' in html  # the user's input is kept for correction
    assert not Contact.objects.filter(name="小李").exists()


def test_add_contact_is_403_for_viewer(client, users, customer):
    client.force_login(users["viewer"])
    response = client.post(reverse("customers:contact_create", args=[customer.pk]), {"contact-name": "X"})
    assert response.status_code == 403
    assert not Contact.objects.filter(name="X").exists()


def test_contact_options_for_requirement_form(client, users, customer):
    client.force_login(users["sales"])
    response = client.get(reverse("customers:contact_options"), {"customer": customer.pk})
    assert response.status_code == 200
    assert "王总" in _html(response) and "<html" not in _html(response)
    assert client.get(reverse("customers:contact_options")).status_code == 200


# ---------------------------------------------------------------- interactions and key asks


def test_add_interaction_via_form_flags_late_entries(client, users, customer):
    contact = customer.contacts.get()
    client.force_login(users["sales"])
    occurred = (timezone.localtime() - dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "interaction-occurred_at": occurred,
            "interaction-channel": "visit",
            "interaction-contact": contact.pk,
            "interaction-participants": "销售张三",
            "interaction-key_content": "讨论实时监控",
            "interaction-mood": "satisfied",
            "interaction-key_asks": "实时监控大屏\n\n开放 API",
            "interaction-next_follow_up_plan": "演示 API",
            "interaction-next_follow_up_date": "2030-05-01",
        },
    )
    interaction = Interaction.objects.get()
    assert response.status_code == 302
    assert interaction.is_late and interaction.contact == contact
    assert interaction.key_ask_lines() == ["实时监控大屏", "开放 API"]
    customer.refresh_from_db()
    assert customer.next_follow_up == dt.date(2030, 5, 1)
    html = _html(client.get(reverse("customers:detail", args=[customer.pk])))
    assert "补录超时" in html
    assert html.count('class="btn btn-sm btn-outline-primary ask-to-feedback"') == 2


def test_add_interaction_invalid_shows_errors(client, users, customer):
    client.force_login(users["sales"])
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "interaction-occurred_at": future,
            "interaction-channel": "phone",
            "interaction-key_content": "x",
            "interaction-mood": "neutral",
        },
    )
    assert response.status_code == 200
    assert "接触时间不能晚于当前时间" in _html(response)
    assert not Interaction.objects.exists()


def test_add_interaction_is_403_for_viewer(client, users, customer):
    client.force_login(users["viewer"])
    response = client.post(
        reverse("customers:interaction_create", args=[customer.pk]),
        {
            "interaction-occurred_at": "2024-01-01T10:00",
            "interaction-channel": "phone",
            "interaction-key_content": "x",
            "interaction-mood": "neutral",
        },
    )
    assert response.status_code == 403
    assert not Interaction.objects.exists()


def _interaction(users, customer) -> Interaction:
    return interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=timezone.now(),
        channel="phone",
        key_content="电话沟通",
        key_asks="实时监控\n开放 API",
    )


def test_key_ask_to_feedback_button(client, users, customer):
    interaction = _interaction(users, customer)
    client.force_login(users["sales"])
    url = reverse("customers:ask_to_feedback", args=[interaction.pk, 1])
    response = client.post(url, follow=True)
    feedback = Feedback.objects.get(interaction=interaction)
    assert feedback.raw_text == "开放 API" and feedback.customer == customer
    html = _html(response)
    assert "已转为反馈" in html
    assert html.count('class="btn btn-sm btn-outline-primary ask-to-feedback"') == 1
    client.post(url)  # twice is still one feedback item
    assert Feedback.objects.filter(interaction=interaction).count() == 1


def test_key_ask_to_feedback_htmx_returns_the_label(client, users, customer):
    interaction = _interaction(users, customer)
    client.force_login(users["sales"])
    response = client.post(reverse("customers:ask_to_feedback", args=[interaction.pk, 0]), HTTP_HX_REQUEST="true")
    html = _html(response)
    assert response.status_code == 200
    assert "已转为反馈" in html and "<html" not in html
    assert f'id="ask-{interaction.pk}-0"' in html
    response = client.post(reverse("customers:ask_to_feedback", args=[interaction.pk, 9]), HTTP_HX_REQUEST="true")
    assert "没有这一条诉求" in _html(response)


def test_key_ask_to_feedback_permissions(client, users, outsider, customer):
    interaction = _interaction(users, customer)
    url = reverse("customers:ask_to_feedback", args=[interaction.pk, 0])
    client.force_login(users["viewer"])
    assert client.post(url).status_code == 403
    client.force_login(outsider)
    assert client.post(url).status_code == 404
    assert not Feedback.objects.filter(interaction=interaction).exists()


# ---------------------------------------------------------------- language


@pytest.mark.parametrize("name", ["customers:list", "customers:create"])
def test_pages_render_in_english(client, users, name):
    client.force_login(users["sales"])
    response = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<html lang="en">' in _html(response)


def test_detail_renders_in_english(client, users, customer):
    client.force_login(users["sales"])
    client.cookies["django_language"] = "en"
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200 and '<html lang="en">' in _html(response)
    assert "See this customer's feedback and related requirements" in _html(response)
    html = _html(client.get(reverse("requirements:for_customer", args=[customer.pk])))
    assert '<html lang="en">' in html
    assert "Feedback and related requirements" in html and "Back to customer" in html

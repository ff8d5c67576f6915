"""The requirement API answers from ``requirement_answer`` (the row, its tags, the customers behind it and its number
of watchers), not from the detail page's ``requirement_get``. Whatever a requirement holds and whoever asks, the
answer of a create and of a read is what the serializer makes of the full read."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from needpool.accounts.models import Team
from needpool.accounts.roles import Role
from needpool.customers.services import customer_create
from needpool.requirements.api.serializers import RequirementSerializer
from needpool.requirements.choices import Channel
from needpool.requirements.merging.services import requirement_watch
from needpool.requirements.models import ClassOption
from needpool.requirements.permissions import visible_requirements
from needpool.requirements.selectors import requirement_get
from needpool.requirements.services import requirement_create
from needpool.requirements.services.discussion import comment_create
from needpool.requirements.services.feedback import feedback_create

LIST = "/api/v1/requirements/"
READERS = ["manager", "product_manager", "sales", "service", "admin"]


def _reference(user: Any, pk: int) -> dict[str, Any]:
    """The serializer over the detail page's full read, as JSON."""
    request = Request(APIRequestFactory().get(LIST))
    request.user = user
    data = RequirementSerializer(requirement_get(user=user, pk=pk), context={"request": request}).data
    return json.loads(JSONRenderer().render(data))


def _visible_to(user: Any, pk: int) -> bool:
    return visible_requirements(user).filter(pk=pk).exists()


@pytest.fixture
def other_customer(make_user):
    """A customer of another team: sales and service of the first team do not see it."""
    seller = make_user(Role.SALES, username="sales-east", team=Team.objects.create(name="销售二部"))
    return seller, customer_create(actor=seller, name="B贸易公司", owner=seller)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=st.sampled_from(["按客户等级设置批量订单折扣规则", "配送时效太慢", "导出 Excel 报表对接 ERP"]),
    tag_count=st.integers(min_value=0, max_value=3),
    type_index=st.integers(min_value=-1, max_value=2),
    with_customer=st.booleans(),
    feedback_text=st.sampled_from(["", "希望增加批量订单折扣功能"]),
    owned=st.booleans(),
    creator=st.sampled_from(["product_manager", "sales", "manager"]),
    reader=st.sampled_from(READERS),
    others=st.integers(min_value=0, max_value=2),
    watchers=st.lists(st.sampled_from(READERS), max_size=3, unique=True),
    commented=st.booleans(),
)
def test_create_and_read_answer_as_the_full_read(
    users,
    customer,
    other_customer,
    title,
    tag_count,
    type_index,
    with_customer,
    feedback_text,
    owned,
    creator,
    reader,
    others,
    watchers,
    commented,
):
    tags = list(ClassOption.objects.filter(dimension="tag").order_by("pk").values_list("key", flat=True)[:tag_count])
    payload: dict[str, Any] = {"title": title, "tags": tags}
    if type_index >= 0:
        payload["type"] = ClassOption.objects.filter(dimension="type").order_by("pk")[type_index].key
    if with_customer:
        payload["customer"] = customer.pk
    if feedback_text:
        payload["feedback_text"] = feedback_text
    if owned:
        payload["owner"] = users["product_manager"].pk
    client = APIClient()
    client.force_authenticate(users[creator])
    created = client.post(LIST, payload, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json() == _reference(users[creator], pk)

    # What others add later: evidence of a customer the reader may not see, watchers, a comment.
    requirement = requirement_get(user=users["manager"], pk=pk)
    seller, hidden = other_customer
    for n in range(others):
        feedback_create(
            actor=seller,
            raw_text=f"另一家客户的原话{n}",
            channel=Channel.SALES,
            customer=hidden,
            requirement=requirement,
        )
    sees = {name for name in READERS if _visible_to(users[name], pk)}
    for name in watchers:
        if name in sees:
            requirement_watch(actor=users[name], requirement=requirement)
    if commented:
        comment_create(actor=users["manager"], requirement=requirement, body="已与客户确认")

    client.force_authenticate(users[reader])
    read = client.get(f"{LIST}{pk}/")
    if reader not in sees:
        assert read.status_code == 404, read.content
        return
    assert read.status_code == 200, read.content
    assert read.json() == _reference(users[reader], pk)


def test_a_requirement_the_reader_may_not_see_is_not_found(users, other_customer):
    """Sales see the requirements of their team's customers: another team's is 404, as before."""
    seller, hidden = other_customer
    made = requirement_create(actor=seller, title="只有二部看得到的需求", customer=hidden)
    client = APIClient()
    client.force_authenticate(users["sales"])
    assert client.get(f"{LIST}{made.pk}/").status_code == 404
    client.force_authenticate(seller)
    assert client.get(f"{LIST}{made.pk}/").status_code == 200

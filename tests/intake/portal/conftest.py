"""Fixtures for the portal and the channel API: channels made through the services, token clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from needpool.accounts.models import User
from needpool.intake.channels.services import channel_create, channel_token_rotate
from needpool.intake.models import IntakeChannel


@pytest.fixture
def make_channel(users: dict[str, User]) -> Callable[..., IntakeChannel]:
    def make(**data: Any) -> IntakeChannel:
        defaults: dict[str, Any] = {"name": "官网表单", "slug": "site", "kind": "portal"}
        return channel_create(actor=users["admin"], **{**defaults, **data})

    return make


@pytest.fixture
def portal(make_channel: Callable[..., IntakeChannel]) -> IntakeChannel:
    """An open portal channel that shows status and messages."""
    return make_channel(name="官网需求反馈表", slug="site")


@pytest.fixture
def code_portal(make_channel: Callable[..., IntakeChannel]) -> IntakeChannel:
    return make_channel(name="大客户专属入口", slug="vip", access_mode="code")


@pytest.fixture
def ticket_channel(users: dict[str, User], make_channel: Callable[..., IntakeChannel]) -> tuple[IntakeChannel, str]:
    """A ticket-system channel with its API token (returned once by the service)."""
    channel = make_channel(name="工单系统", slug="tickets", kind="ticket")
    return channel_token_rotate(actor=users["admin"], channel=channel)


@pytest.fixture
def channel_client() -> Callable[[str], APIClient]:
    def make(token: str, keyword: str = "Bearer") -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
        return client

    return make


@pytest.fixture
def staff_client() -> Callable[[User], APIClient]:
    """A client with the user's real DRF token (not force_authenticate: the auth classes are under test)."""
    from rest_framework.authtoken.models import Token

    def make(user: User) -> APIClient:
        client = APIClient()
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


def portal_data(**overrides: Any) -> dict[str, Any]:
    from needpool.requirements.models import ClassOption

    data = {
        "customer": "A科技公司",
        "contact_name": "王经理",
        "contact_phone": "010-62345678",
        "contact_email": "wang@a-tech.com.cn",
        "type": ClassOption.objects.get(dimension="type", key="function").pk,
        "description": "希望订单列表支持按客户等级批量设置折扣。",
        "expected_date": "",
        "website": "",
    }
    data.update(overrides)
    return data

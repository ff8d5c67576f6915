"""CSRF: a signed-in user's browser cannot be made to write by another site.

Every state-changing page and the session-authenticated API refuse a POST without the CSRF token (403) and
write nothing; the same POST with the token goes through (so the refusal is the token, not the form).
Token-authenticated API calls are not cookie-based and need no CSRF token.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from needpool.customers.models import Customer
from needpool.requirements.models import Comment, Requirement
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _token(client: Client, path: str) -> str:
    client.get(path)
    return str(client.cookies["csrftoken"].value)


def _requirement(users: dict[str, Any]) -> Requirement:
    from needpool.requirements.services import requirement_create

    return requirement_create(actor=users["product_manager"], title="导出报表")


WRITES = [
    ("customer create", "/customers/new/", {"name": "跨站客户", "industry": "制造"}),
    ("requirement create", "/requirements/new/", {"title": "跨站需求"}),
    ("comment", "/requirements/{pk}/comments/", {"body": "跨站评论"}),
    ("transition", "/requirements/{pk}/transition/", {"to": "rejected", "note": "跨站"}),
    ("edit", "/requirements/{pk}/edit/", {"title": "被改掉的标题"}),
    ("watch", "/requirements/{pk}/watch/", {}),
    ("api create", "/api/v1/requirements/", {"title": "跨站 API 需求"}),
    ("api comment", "/api/v1/requirements/{pk}/comments/", {"body": "跨站 API 评论"}),
    ("logout", "/accounts/logout/", {}),
]


def _counts() -> tuple[int, int, int]:
    return Customer.objects.count(), Requirement.objects.count(), Comment.objects.count()


@pytest.mark.parametrize(("name", "path", "data"), WRITES, ids=[w[0] for w in WRITES])
def test_post_without_token_is_refused_and_writes_nothing(
    users: dict[str, Any], name: str, path: str, data: dict
) -> None:
    requirement = _requirement(users)
    before = _counts()
    title_before = requirement.title
    client = _client(users["admin"])
    response = client.post(path.format(pk=requirement.pk), data)
    assert response.status_code == 403, name
    assert _counts() == before
    requirement.refresh_from_db()
    assert requirement.title == title_before
    assert requirement.status.key != "rejected"


def test_same_post_with_token_goes_through(users: dict[str, Any]) -> None:
    requirement = _requirement(users)
    client = _client(users["admin"])
    token = _token(client, f"/requirements/{requirement.pk}/")
    response = client.post(
        f"/requirements/{requirement.pk}/comments/", {"body": "带令牌的评论"}, HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code < 400
    assert Comment.objects.filter(requirement=requirement, body="带令牌的评论").exists()


def test_login_form_needs_its_token() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 403


def test_token_authenticated_api_needs_no_csrf_token(users: dict[str, Any]) -> None:
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=users["product_manager"]).key
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/requirements/",
        {"title": "令牌创建"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 201

"""Token authentication: POST /api/v1/auth/token/ then ``Authorization: Token …``."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"


def test_good_credentials_return_a_token_that_authenticates(users):
    client = APIClient()
    response = client.post(TOKEN_URL, {"username": "sales", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=users["sales"]).key

    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/customers/").status_code == 200


def test_asking_again_returns_the_same_token(users):
    client = APIClient()
    first = client.post(TOKEN_URL, {"username": "viewer", "password": PASSWORD}, format="json").json()["token"]
    second = client.post(TOKEN_URL, {"username": "viewer", "password": PASSWORD}, format="json").json()["token"]
    assert first == second
    assert Token.objects.count() == 1


@pytest.mark.parametrize(
    ("username", "password"),
    [("sales", "wrong-password"), ("nobody", PASSWORD), ("sales", "")],
)
def test_bad_credentials_are_400_with_a_chinese_message(users, username, password):
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")
    assert response.status_code == 400
    body = response.json()
    messages = [m for errors in body.values() for m in errors]
    assert messages
    assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(messages))
    assert Token.objects.count() == 0


def test_wrong_password_message(users):
    response = APIClient().post(TOKEN_URL, {"username": "sales", "password": "nope"}, format="json")
    assert response.json() == {"non_field_errors": ["用户名或密码错误，或账号已停用。"]}


def test_inactive_user_gets_no_token(users):
    users["sales"].is_active = False
    users["sales"].save()
    response = APIClient().post(TOKEN_URL, {"username": "sales", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert not Token.objects.exists()


def test_unknown_token_and_no_credentials_are_401(users):
    client = APIClient()
    assert client.get("/api/v1/requirements/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/requirements/").status_code == 401


def test_token_endpoint_is_throttled(users):
    client = APIClient()
    codes = [
        client.post(TOKEN_URL, {"username": "sales", "password": "guess"}, format="json").status_code for _ in range(25)
    ]
    assert codes[0] == 400
    assert codes[-1] == 429


def test_token_client_writes_without_csrf(users, requirement):
    client = APIClient(enforce_csrf_checks=True)
    token = client.post(TOKEN_URL, {"username": "engineer", "password": PASSWORD}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(f"/api/v1/requirements/{requirement.pk}/transition/", {"to": "in_progress"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"]["key"] == "in_progress"


def test_token_of_a_viewer_cannot_write(users, customer):
    client = APIClient()
    token = client.post(TOKEN_URL, {"username": "viewer", "password": PASSWORD}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post("/api/v1/customers/", {"name": "E公司"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "您没有维护客户的权限。"}

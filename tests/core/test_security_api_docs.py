"""The OpenAPI document and Swagger UI: signed-in users only, unless an admin publishes them (audited)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from needpool.core.config import site_config
from needpool.core.models import AuditEntry
from needpool.core.services import site_config_update

SCHEMA = "/api/schema/"
DOCS = "/api/docs/"


def publish(value: bool) -> None:
    config = site_config()
    config.api_docs_public = value
    config.save(update_fields=["api_docs_public"])


def test_anonymous_callers_get_401_for_the_schema_and_the_sign_in_page_for_the_docs(db):
    assert APIClient().get(SCHEMA, {"format": "json"}).status_code == 401
    response = Client().get(DOCS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/api/docs/")


def test_a_bad_token_is_refused_too(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(SCHEMA).status_code == 401


def test_signed_in_users_read_both(users):
    client = Client()
    client.force_login(users["viewer"])
    assert client.get(SCHEMA, {"format": "json"}).json()["openapi"].startswith("3.")
    assert client.get(DOCS).status_code == 200


def test_published_documents_are_open_to_everyone(db):
    publish(True)
    assert APIClient().get(SCHEMA, {"format": "json"}).json()["openapi"].startswith("3.")
    assert b"swagger-ui" in Client().get(DOCS).content
    publish(False)
    assert APIClient().get(SCHEMA).status_code == 401


def test_an_admin_publishes_through_site_settings_with_an_audit_row(users):
    site_config_update(actor=users["admin"], api_docs_public=True)
    assert site_config().api_docs_public
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.UPDATE).latest("pk")
    assert "api_docs_public" in entry.changes
    assert APIClient().get(SCHEMA).status_code == 200


@pytest.mark.parametrize("role", ["manager", "product_manager", "sales", "viewer"])
def test_only_admins_may_publish(users, role):
    with pytest.raises(PermissionDenied):
        site_config_update(actor=users[role], api_docs_public=True)
    assert not site_config().api_docs_public


def test_the_admin_site_settings_form_offers_the_switch(users):
    client = Client()
    client.force_login(users["admin"])
    config = site_config()
    page = client.get(f"/admin/core/siteconfig/{config.pk}/change/")
    assert b'name="api_docs_public"' in page.content


FORMATS = st.sampled_from(["", "json", "yaml", "openapi", "openapi-json"])
HEADERS = st.dictionaries(
    st.sampled_from(["HTTP_ACCEPT", "HTTP_X_REQUESTED_WITH", "HTTP_AUTHORIZATION", "HTTP_COOKIE", "HTTP_REFERER"]),
    st.sampled_from(
        [
            "application/json",
            "application/vnd.oai.openapi",
            "text/html",
            "XMLHttpRequest",
            "Token ",
            "Token abc",
            "Basic YWRtaW46YWRtaW4=",
            "Bearer x",
            "sessionid=forged",
            "/api/docs/",
        ]
    ),
    max_size=5,
)
SUFFIXES = st.sampled_from(["", "?format=json", "?format=yaml", "?lang=en", "?lang=zh-hans"])


@given(
    path=st.sampled_from([SCHEMA, DOCS, "/api/schema", "/api/docs"]),
    suffix=SUFFIXES,
    headers=HEADERS,
    method=st.sampled_from(["get", "head", "options"]),
)
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_format_header_or_method_reads_unpublished_documents_anonymously(db, path, suffix, headers, method):
    response = getattr(Client(), method)(path + suffix, **headers)
    assert response.status_code in (301, 302, 401, 403, 404, 405, 406)
    assert b'"openapi"' not in response.content and b"openapi:" not in response.content
    assert b"swagger-ui" not in response.content


@given(path=st.sampled_from([SCHEMA, DOCS]), suffix=SUFFIXES, headers=HEADERS)
@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_published_or_not_no_header_makes_the_documents_fail(db, path, suffix, headers):
    for published in (True, False):
        publish(published)
        response = Client(raise_request_exception=False).get(path + suffix, **headers)
        assert response.status_code < 500

"""OpenAPI 3 document and the Swagger UI page, served without any CDN."""

from __future__ import annotations

import re

from tests.conftest import docs_client


def test_schema_is_openapi_3(db):
    response = docs_client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/customers/",
        "/api/v1/contacts/",
        "/api/v1/interactions/",
        "/api/v1/interactions/{id}/key-asks/{index}/feedback/",
        "/api/v1/feedback/",
        "/api/v1/requirements/",
        "/api/v1/requirements/{id}/transition/",
        "/api/v1/requirements/{id}/comments/",
        "/api/v1/requirements/{id}/history/",
        "/api/v1/options/",
        "/api/v1/statuses/",
    ):
        assert path in paths, path
    for resource in ("requirements", "feedback", "customers", "contacts"):
        assert "delete" in paths[f"/api/v1/{resource}/{{id}}/"], resource  # into the recycle bin
    assert "delete" not in paths["/api/v1/interactions/{id}/"]


def test_docs_page_loads_assets_locally(db):
    response = docs_client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert any("drf_spectacular_sidecar" in s for s in sources)


def test_schema_validates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/requirements/{id}/transition/" in target.read_text()

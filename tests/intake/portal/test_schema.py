"""The channel API in the OpenAPI document: security scheme, Idempotency-Key header, both request bodies."""

from __future__ import annotations

from tests.conftest import docs_client


def test_feedback_create_documents_the_channel_token_and_idempotency(db):
    schema = docs_client().get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["channelToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    operation = schema["paths"]["/api/v1/feedback/"]["post"]
    assert {"channelToken": []} in operation["security"]
    assert {"tokenAuth": []} in operation["security"]
    header = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in header] == ["Idempotency-Key"]
    assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
    assert {"201", "400", "401", "403", "409", "422", "429"} <= set(operation["responses"])
    body = schema["components"]["schemas"]["FeedbackCreateRequest"]["oneOf"]
    assert {"$ref": "#/components/schemas/ChannelFeedbackRequest"} in body
    assert {"$ref": "#/components/schemas/FeedbackRequest"} in body
    # The channel scheme is good for creating feedback only: reads do not list it.
    for read in (schema["paths"]["/api/v1/feedback/"]["get"], schema["paths"]["/api/v1/feedback/{id}/"]["get"]):
        assert {"channelToken": []} not in read["security"]

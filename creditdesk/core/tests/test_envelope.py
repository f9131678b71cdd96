import pytest
from django.db import connection
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_health_reports_ok_with_the_database_answering(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/health/")
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {"status": "ok", "database": "ok"}}


def test_health_is_503_in_the_error_envelope_when_the_database_does_not_answer(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_cursor(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database is down")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = api_client.get("/api/v1/health/")
    body = response.json()
    assert response.status_code == 503
    assert body["success"] is False
    assert body["error"] == "The database is not answering."
    assert body["data"]["database"] == "unavailable"


def test_unknown_api_url_is_a_404_in_the_envelope(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/no-such-thing/")
    body = response.json()
    assert response.status_code == 404
    assert body["success"] is False and body["error"] == "Not found." and body["errors"] == {}
    assert body["request_id"] == response["X-Request-ID"]


def test_wrong_method_is_a_405_in_the_envelope(api_client: APIClient) -> None:
    response = api_client.delete("/api/v1/health/")
    assert response.status_code == 405
    assert response.json()["success"] is False
    assert "DELETE" in response.json()["error"]


def test_malformed_json_is_a_400_in_the_envelope(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/login/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert "JSON parse error" in response.json()["error"]


def test_missing_credentials_are_a_401_in_the_envelope(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/billing/transactions/")
    assert response.status_code == 401
    assert response.json()["error"] == "Authentication credentials were not provided."


def test_every_response_carries_a_request_id_and_echoes_a_sane_incoming_one(api_client: APIClient) -> None:
    generated = api_client.get("/api/v1/health/")
    assert len(generated["X-Request-ID"]) == 32
    echoed = api_client.get("/api/v1/health/", HTTP_X_REQUEST_ID="trace-abc-12345")
    assert echoed["X-Request-ID"] == "trace-abc-12345"
    refused = api_client.get("/api/v1/health/", HTTP_X_REQUEST_ID="<script>")
    assert refused["X-Request-ID"] != "<script>"


def test_an_unexpected_error_is_a_500_envelope_without_a_traceback(
    owner_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(**kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("creditdesk.billing.views.ledger.selectors.credit_balance", explode)
    owner_client.raise_request_exception = False
    response = owner_client.get("/api/v1/billing/credits/balance/balance/")
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "success": False,
        "error": "Internal server error.",
        "errors": {},
        "request_id": body["request_id"],
    }
    assert "secret internals" not in response.content.decode()


def test_openapi_schema_documents_the_envelope(api_client: APIClient) -> None:
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    balance = schema["paths"]["/api/v1/billing/credits/balance/balance/"]["get"]["responses"]
    ok_schema = balance["200"]["content"]["application/json"]["schema"]
    assert ok_schema["required"] == ["success", "data"]
    assert balance["401"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorEnvelope")


def test_swagger_ui_is_served(api_client: APIClient) -> None:
    response = api_client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_non_api_paths_fall_back_to_the_front_end(
    api_client: APIClient, settings: object, tmp_path: object
) -> None:
    settings.FRONTEND_DIST = tmp_path
    (tmp_path / "index.html").write_text("<div id=root></div>")
    response = api_client.get("/account/billing")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"<div id=root></div>"


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_unknown_api_urls_are_a_json_404_for_writes_too(method: str, owner: object) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)  # a session, so that a CSRF check would apply if the view were not exempt
    response = getattr(client, method)("/api/v1/billing/payments/-1/confirm/", {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "Not found."


def test_every_schema_response_field_of_the_account_matches_what_is_sent(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    account = schema["components"]["schemas"]["Account"]["properties"]
    assert "format" not in account["billing_email"]  # blank until the customer sets it

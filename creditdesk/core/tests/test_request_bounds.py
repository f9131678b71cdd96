"""Requests Django refuses before any view (too large a body, a Host we do not serve) still answer in the
JSON envelope under /api/, never as Django's HTML page."""

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from creditdesk.billing.models import CreditUsageLog

pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, says: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and says in body["error"] and body["request_id"]
    return body


def test_a_json_body_over_the_upload_limit_is_a_413_in_the_envelope(
    owner_client: APIClient, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"operation_type": "clustering", "reference_id": "x" * 2000})

    response = owner_client.post("/api/v1/billing/credits/usage/", data=body, content_type="application/json")

    assert_envelope(response, 413, "too large")
    assert not CreditUsageLog.objects.exists()


def test_a_body_over_the_limit_with_an_idempotency_key_is_a_413_in_the_envelope(
    owner_client: APIClient, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"operation_type": "clustering", "reference_id": "x" * 2000})

    response = owner_client.post(
        "/api/v1/billing/credits/usage/",
        data=body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="big-1",
    )

    assert_envelope(response, 413, "too large")


def test_a_webhook_body_over_the_limit_is_a_413_in_the_envelope(settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    response = Client().post(
        "/api/v1/billing/webhooks/stripe/",
        data="{" + " " * 4000 + "}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert_envelope(response, 413, "too large")


@pytest.mark.parametrize("path", ["/api/v1/health/", "/api/v1/billing/credits/balance/", "/api/nowhere/"])
def test_a_host_we_do_not_serve_is_a_400_in_the_envelope_under_api(path: str) -> None:
    response = Client(HTTP_HOST="evil.example").get(path)
    assert_envelope(response, 400, "Host")


def test_a_host_we_do_not_serve_outside_api_keeps_djangos_plain_answer() -> None:
    response = Client(HTTP_HOST="evil.example").get("/account/billing")
    assert response.status_code == 400
    assert not response["Content-Type"].startswith("application/json")

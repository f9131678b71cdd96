"""`cost_usd` on a usage log is always a decimal string a client can format as money; `cost_reported`
says whether the caller reported a cost ("0.0000" then means none was reported, not a free call)."""

import pytest
from rest_framework.test import APIClient

from creditdesk.billing.models import CreditUsageLog

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"


def test_a_usage_log_without_a_cost_answers_zero_as_a_decimal_string_and_says_it_was_not_reported(
    owner_client: APIClient,
) -> None:
    response = owner_client.post(USAGE, {"operation_type": "clustering"}, format="json")

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["cost_usd"] == "0.0000" and data["cost_reported"] is False
    assert CreditUsageLog.objects.get().cost_usd is None  # stored as unknown, not as a zero cost
    listed = owner_client.get(USAGE).json()["data"]["results"][0]
    assert (listed["cost_usd"], listed["cost_reported"]) == ("0.0000", False)


@pytest.mark.parametrize("cost", ["0.1234", "0", "12.5"])
def test_a_reported_cost_even_zero_answers_as_reported(owner_client: APIClient, cost: str) -> None:
    response = owner_client.post(USAGE, {"operation_type": "clustering", "cost_usd": cost}, format="json")

    data = response.json()["data"]
    assert data["cost_reported"] is True
    assert data["cost_usd"] == f"{float(cost):.4f}"


def test_an_explicit_null_cost_is_the_same_as_none_reported(owner_client: APIClient) -> None:
    response = owner_client.post(USAGE, {"operation_type": "clustering", "cost_usd": None}, format="json")
    data = response.json()["data"]
    assert (data["cost_usd"], data["cost_reported"]) == ("0.0000", False)


def test_the_schema_documents_cost_usd_as_a_decimal_string_and_cost_reported_as_a_boolean(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    log = schema["components"]["schemas"]["CreditUsageLog"]
    assert log["properties"]["cost_usd"]["type"] == "string"
    assert log["properties"]["cost_usd"].get("nullable") is not True
    assert log["properties"]["cost_reported"]["type"] == "boolean"
    assert {"cost_usd", "cost_reported"} <= set(log["required"])

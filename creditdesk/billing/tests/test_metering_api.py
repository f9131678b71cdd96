from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditCost, CreditTransaction, CreditUsageLog
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"
BALANCE = "/api/v1/billing/credits/balance/balance/"


def test_metering_deducts_the_price_lists_credits_and_logs_the_usage(
    owner_client: APIClient, account: Account
) -> None:
    response = owner_client.post(
        USAGE,
        {
            "operation_type": "content_generation",
            "units": 3,
            "cost_usd": "0.1234",
            "model": "gpt-4o",
            "tokens_input": 1200,
            "tokens_output": 800,
            "reference_id": "job-7",
        },
        format="json",
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["credits_used"], data["cost_usd"], data["model"]) == (75, "0.1234", "gpt-4o")
    log = CreditUsageLog.objects.get(pk=data["id"])
    assert log.transaction.amount == -75 and log.transaction.balance_after == 925
    account.refresh_from_db()
    assert account.credits == 925
    assert_ledger_consistent(account)


@pytest.mark.parametrize("field, value", [("credits_used", 1), ("credits", 1), ("amount", 1), ("account", 2)])
def test_the_client_cannot_set_what_it_costs(
    field: str, value: int, owner_client: APIClient, account: Account
) -> None:
    response = owner_client.post(USAGE, {"operation_type": "clustering", field: value}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["This field cannot be set."]}
    account.refresh_from_db()
    assert account.credits == 1000


def test_unknown_and_inactive_operations_are_a_400(owner_client: APIClient, account: Account) -> None:
    assert owner_client.post(USAGE, {"operation_type": "mining"}, format="json").status_code == 400
    CreditCost.objects.filter(operation_type="linking").update(is_active=False)
    response = owner_client.post(USAGE, {"operation_type": "linking"}, format="json")
    assert response.status_code == 400
    assert "operation_type" in response.json()["errors"]
    assert not CreditUsageLog.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"operation_type": "clustering", "units": 0},
        {"operation_type": "clustering", "cost_usd": "-1"},
        {"units": 2},
        {"operation_type": "clustering", "cost_usd": "123456789012.12345"},
    ],
)
def test_bad_metering_input_is_a_400(body: dict, owner_client: APIClient) -> None:
    response = owner_client.post(USAGE, body, format="json")
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["errors"]


def test_not_enough_credits_is_a_402_saying_needed_and_available_with_nothing_written(
    owner_client: APIClient, account: Account
) -> None:
    response = owner_client.post(USAGE, {"operation_type": "content_generation", "units": 41}, format="json")
    assert response.status_code == 402
    body = response.json()
    assert body["success"] is False
    assert body["detail"] == {"needed": 1025, "available": 1000}
    assert "1025" in body["error"] and "1000" in body["error"]
    assert not CreditUsageLog.objects.exists()
    assert CreditTransaction.objects.filter(account=account).count() == 1


def test_viewers_cannot_spend_but_members_can(
    client_for: Callable[[str], APIClient], account: Account
) -> None:
    assert (
        client_for(Role.VIEWER).post(USAGE, {"operation_type": "clustering"}, format="json").status_code
        == 403
    )
    assert (
        client_for(Role.MEMBER).post(USAGE, {"operation_type": "clustering"}, format="json").status_code
        == 201
    )
    account.refresh_from_db()
    assert account.credits == 990


def test_the_balance_shows_credits_allowance_and_this_months_use(
    owner_client: APIClient, account: Account
) -> None:
    owner_client.post(USAGE, {"operation_type": "clustering", "units": 2}, format="json")
    next_month = (timezone.now().replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    for path in (BALANCE, "/api/v1/billing/credits/balance/"):
        assert owner_client.get(path).json()["data"] == {
            "credits": 980,
            "plan_credits_per_month": 100,
            "credits_used_this_month": 20,
            "credits_remaining": 980,
            "held": 0,
            "breakdown": [{"source": "promotion", "credits": 980}],
            "next_expiry": None,
            "plan_name": "Free",
            "next_grant_at": next_month.isoformat().replace("+00:00", "Z"),
        }


def test_transactions_are_newest_first_filterable_and_paginated(
    owner_client: APIClient, account: Account
) -> None:
    for _ in range(3):
        owner_client.post(USAGE, {"operation_type": "linking"}, format="json")
    data = owner_client.get("/api/v1/billing/transactions/?page_size=2").json()["data"]
    assert data["count"] == 4 and len(data["results"]) == 2 and data["next"] and data["previous"] is None
    assert [r["balance_after"] for r in data["results"]] == [991, 994]
    assert set(data["results"][0]) == {
        "id",
        "amount",
        "transaction_type",
        "description",
        "reference",
        "created_at",
        "balance_after",
    }
    grants = owner_client.get("/api/v1/billing/transactions/?transaction_type=grant").json()["data"]
    assert [r["amount"] for r in grants["results"]] == [1000]
    future = owner_client.get("/api/v1/billing/transactions/?created_after=2999-01-01T00:00:00Z").json()[
        "data"
    ]
    assert future["count"] == 0
    assert owner_client.get("/api/v1/billing/transactions/?transaction_type=bogus").status_code == 400


def test_usage_logs_are_filterable_by_operation(owner_client: APIClient) -> None:
    owner_client.post(USAGE, {"operation_type": "linking"}, format="json")
    owner_client.post(USAGE, {"operation_type": "clustering", "cost_usd": "0.10"}, format="json")
    data = owner_client.get("/api/v1/billing/credits/usage/?operation_type=clustering").json()["data"]
    assert data["count"] == 1
    assert (data["results"][0]["credits_used"], data["results"][0]["cost_usd"]) == (10, "0.1000")


def test_a_tenant_never_sees_another_tenants_ledger(
    owner_client: APIClient, account: Account, other_client: APIClient
) -> None:
    other_client.post(USAGE, {"operation_type": "clustering"}, format="json")
    listed = {
        row["id"] for row in owner_client.get("/api/v1/billing/transactions/").json()["data"]["results"]
    }
    assert listed == set(CreditTransaction.objects.filter(account=account).values_list("id", flat=True))
    assert owner_client.get(USAGE).json()["data"]["count"] == 0
    assert owner_client.get(BALANCE).json()["data"]["credits"] == 1000


def test_the_price_list_shows_active_costs(owner_client: APIClient) -> None:
    CreditCost.objects.filter(operation_type="linking").update(is_active=False)
    data = owner_client.get("/api/v1/billing/credit-costs/").json()["data"]
    operations = [row["operation_type"] for row in data["results"]]
    assert "linking" not in operations and "clustering" in operations
    clustering = next(row for row in data["results"] if row["operation_type"] == "clustering")
    assert clustering["credits_per_unit"] == 10


@pytest.mark.parametrize("path", ["/api/v1/billing/transactions/", USAGE])
def test_date_filters_take_any_utc_offset_and_refuse_out_of_range_times(
    path: str, owner_client: APIClient
) -> None:
    far_east = owner_client.get(f"{path}?created_after=2000-01-01T00:00:00%2B16:00")
    assert far_east.status_code == 200
    assert far_east.json()["data"]["count"] >= 0
    overflow = owner_client.get(f"{path}?created_before=0001-01-01T00:00:00%2B10:00")
    assert overflow.status_code == 400
    assert "created_before" in overflow.json()["errors"]


def test_a_price_of_zero_credits_is_refused_by_the_form_and_by_the_database() -> None:
    """Every metered operation must be a ledger row: a free operation would be usage without one."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from creditdesk.billing.models import CreditCost

    free = CreditCost(operation_type="free_lunch", display_name="Free lunch", credits_per_unit=0)
    with pytest.raises(ValidationError) as refused:
        free.full_clean()
    assert "credits_per_unit" in refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        free.save()
    assert not CreditCost.objects.filter(operation_type="free_lunch").exists()

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import deduct_credits, grant_credits
from creditdesk.billing.services.usage import record_usage

pytestmark = pytest.mark.django_db
ANALYTICS = "/api/v1/account/usage/analytics/"


def days_ago(n: int) -> datetime:
    return datetime.combine(
        timezone.now().date() - timedelta(days=n), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=10)


@pytest.fixture
def history(account: Account, owner: object) -> Account:
    """1000 granted today by the fixture; then usage and a purchase spread over the last days."""
    record_usage(account=account, user=owner, operation_type="clustering", units=2, at=days_ago(40))
    record_usage(account=account, user=owner, operation_type="clustering", at=days_ago(2))
    record_usage(
        account=account, user=owner, operation_type="content_generation", cost_usd="0.05", at=days_ago(2)
    )
    grant_credits(
        account=account, amount=500, transaction_type="purchase", description="Starter Pack", at=days_ago(1)
    )
    record_usage(
        account=account, user=owner, operation_type="linking", units=3, cost_usd="0.01", at=days_ago(0)
    )
    return account


def test_analytics_match_the_ledger_over_the_period(owner_client: APIClient, history: Account) -> None:
    data = owner_client.get(f"{ANALYTICS}?days=7").json()["data"]
    assert data["period_days"] == 7
    history.refresh_from_db()
    assert data["current_balance"] == history.credits == 1000 - 20 - 10 - 25 + 500 - 9
    since = timezone.now().date() - timedelta(days=6)
    ledger = CreditTransaction.objects.filter(account=history, created_at__date__gte=since)
    deducted = -sum(ledger.filter(transaction_type="deduction").values_list("amount", flat=True))
    assert data["total_usage"] == deducted == 44
    assert data["total_purchases"] == 500
    assert data["usage_by_type"] == [
        {"transaction_type": "grant", "total": 1000, "count": 1},
        {"transaction_type": "purchase", "total": 500, "count": 1},
        {"transaction_type": "deduction", "total": -44, "count": 3},
    ]
    assert data["usage_by_operation"] == [
        {"operation_type": "content_generation", "credits": 25, "count": 1, "cost_usd": "0.0500"},
        {"operation_type": "clustering", "credits": 10, "count": 1, "cost_usd": "0.0000"},
        {"operation_type": "linking", "credits": 9, "count": 1, "cost_usd": "0.0100"},
    ]


def test_daily_usage_has_exactly_days_rows_oldest_first_ending_today_zero_filled(
    owner_client: APIClient, history: Account
) -> None:
    rows = owner_client.get(f"{ANALYTICS}?days=7").json()["data"]["daily_usage"]
    today = timezone.now().date()
    assert [row["date"] for row in rows] == [str(today - timedelta(days=n)) for n in range(6, -1, -1)]
    by_date = {row["date"]: row for row in rows}
    assert by_date[str(today - timedelta(days=2))] == {
        "date": str(today - timedelta(days=2)),
        "usage": 35,
        "purchases": 0,
        "net": -35,
    }
    assert by_date[str(today - timedelta(days=1))]["purchases"] == 500
    assert by_date[str(today - timedelta(days=1))]["net"] == 500
    assert by_date[str(today - timedelta(days=5))] == {
        "date": str(today - timedelta(days=5)),
        "usage": 0,
        "purchases": 0,
        "net": 0,
    }


def test_the_default_period_is_30_days_and_older_usage_is_outside_it(
    owner_client: APIClient, history: Account
) -> None:
    data = owner_client.get(ANALYTICS).json()["data"]
    assert data["period_days"] == 30 and len(data["daily_usage"]) == 30
    assert data["total_usage"] == 44
    assert owner_client.get(f"{ANALYTICS}?days=90").json()["data"]["total_usage"] == 64


@pytest.mark.parametrize("days", ["0", "366", "-3", "abc", "1.5"])
def test_days_outside_1_to_365_are_a_400(days: str, owner_client: APIClient) -> None:
    response = owner_client.get(f"{ANALYTICS}?days={days}")
    assert response.status_code == 400
    assert "days" in response.json()["errors"]


def test_analytics_never_include_another_tenant(
    owner_client: APIClient, account: Account, other_account: Account
) -> None:
    deduct_credits(account=other_account, amount=300, description="theirs")
    data = owner_client.get(f"{ANALYTICS}?days=1").json()["data"]
    assert data["total_usage"] == 0 and data["current_balance"] == 1000

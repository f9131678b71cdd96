from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.analytics.selectors import usage_analytics
from creditdesk.analytics.serializers import AnalyticsQuerySerializer, UsageAnalyticsSerializer
from creditdesk.analytics.views import plain_days
from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import deduct_credits, grant_credits
from creditdesk.billing.services.usage import record_usage
from creditdesk.core.serializers import validated

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
        "grants": 0,
        "net": -35,
    }
    assert by_date[str(today - timedelta(days=1))]["purchases"] == 500
    assert by_date[str(today - timedelta(days=1))]["net"] == 500
    assert by_date[str(today - timedelta(days=5))] == {
        "date": str(today - timedelta(days=5)),
        "usage": 0,
        "purchases": 0,
        "grants": 0,
        "net": 0,
    }


def test_the_default_period_is_30_days_and_older_usage_is_outside_it(
    owner_client: APIClient, history: Account
) -> None:
    data = owner_client.get(ANALYTICS).json()["data"]
    assert data["period_days"] == 30 and len(data["daily_usage"]) == 30
    assert data["total_usage"] == 44
    assert owner_client.get(f"{ANALYTICS}?days=90").json()["data"]["total_usage"] == 64


def test_monthly_grants_are_an_inflow_of_their_own_and_count_in_the_day_s_net(
    owner_client: APIClient, history: Account
) -> None:
    data = owner_client.get(f"{ANALYTICS}?days=7").json()["data"]
    today = data["daily_usage"][-1]
    assert today["grants"] == 1000  # the fixture's grant, today
    assert today["purchases"] == 0
    assert today["net"] == 1000 - 9
    assert data["total_grants"] == 1000


def test_a_custom_range_covers_exactly_its_days(owner_client: APIClient, history: Account) -> None:
    today = timezone.now().date()
    start, end = today - timedelta(days=3), today - timedelta(days=1)
    data = owner_client.get(f"{ANALYTICS}?start={start}&end={end}").json()["data"]
    assert (data["start"], data["end"], data["period_days"]) == (str(start), str(end), 3)
    assert [row["date"] for row in data["daily_usage"]] == [str(start + timedelta(days=n)) for n in range(3)]
    assert data["total_usage"] == 35
    assert data["total_purchases"] == 500
    assert data["total_grants"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-05-10&end=2026-05-01", "start"),
        ("start=2026-05-10", "end"),
        ("end=2026-05-10", "start"),
        ("start=2025-01-01&end=2026-01-01", "end"),
        ("start=2026-05-01&end=2026-05-10&days=7", "days"),
        ("start=2026-02-30&end=2026-03-01", "start"),
    ],
)
def test_a_bad_custom_range_is_a_400_naming_the_field(
    query: str, field: str, owner_client: APIClient
) -> None:
    response = owner_client.get(f"{ANALYTICS}?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"]


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


@pytest.mark.parametrize("query", ["days=1", "days=30", "days=365", "start={start}&end={end}"])
def test_the_answer_is_byte_for_byte_what_its_serializer_documents(
    owner_client: APIClient, history: Account, query: str
) -> None:
    """The view builds the JSON itself (bench figure 1); UsageAnalyticsSerializer is the documented shape."""
    today = timezone.now().date()
    start, end = today - timedelta(days=3), today - timedelta(days=1)
    response = owner_client.get(f"{ANALYTICS}?{query.format(start=start, end=end)}")
    kwargs = {"start": start, "end": end} if "start" in query else {"days": int(query.split("=")[1])}
    documented = UsageAnalyticsSerializer(usage_analytics(account=history, **kwargs)).data
    assert response.content == JSONRenderer().render({"success": True, "data": documented})
    assert response.json()["data"]["usage_by_operation"]  # the test has operations to order and sum


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"days": "1"},
        {"days": "30"},
        {"days": "365"},
        {"days": "0"},
        {"days": "366"},
        {"days": "30.0"},
        {"days": " 30"},
        {"days": "+30"},
        {"days": "\u0663"},
        {"days": "30", "start": "2026-01-01"},
        {"days": ""},
    ],
)
def test_the_plain_days_shortcut_reads_a_query_as_the_serializer_does_or_leaves_it_to_it(
    params: dict,
) -> None:
    try:
        expected: dict | None = validated(AnalyticsQuerySerializer, params)
    except ValidationError:
        expected = None
    shortcut = plain_days(params)
    assert shortcut is None or shortcut == expected
    if params in ({}, {"days": "1"}, {"days": "30"}, {"days": "365"}):  # the requests the app makes
        assert shortcut is not None


def test_a_repeated_answer_comes_from_the_cache_until_the_ledger_moves(
    owner_client: APIClient, history: Account, owner: object, django_assert_num_queries
) -> None:
    url = "/api/v1/account/usage/analytics/?days=30"
    first_response = owner_client.get(url)
    first = first_response.json()["data"]
    with django_assert_num_queries(1):  # authentication only: the answer is the cached one
        again = owner_client.get(url)
    assert again.content == first_response.content
    assert again["Content-Type"] == first_response["Content-Type"] == "application/json"

    record_usage(account=history, user=owner, operation_type="clustering")
    moved = owner_client.get(url).json()["data"]
    assert moved["total_usage"] == first["total_usage"] + 10
    assert moved["current_balance"] == first["current_balance"] - 10
    assert moved["daily_usage"][-1]["usage"] == first["daily_usage"][-1]["usage"] + 10
    # Another period of the same account is an answer of its own.
    week = owner_client.get("/api/v1/account/usage/analytics/?days=7").json()["data"]
    assert week["period_days"] == 7 and len(week["daily_usage"]) == 7

"""The balance: the contract's four fields, plus held, the breakdown by source and what expires next."""

import time
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing import selectors
from creditdesk.billing.serializers.ledger import CreditBalanceSerializer
from creditdesk.billing.services.grants import grant_plan_period
from creditdesk.billing.services.holds import create_hold
from creditdesk.billing.services.ledger import deduct_credits, grant_credits
from creditdesk.billing.services.reversals import reverse_usage
from creditdesk.billing.services.usage import record_usage

pytestmark = pytest.mark.django_db
BALANCE = "/api/v1/billing/credits/balance/"


def test_the_balance_breaks_credits_down_by_source_and_shows_what_expires_next(
    owner_client: APIClient, account: Account
) -> None:
    now = timezone.now()
    soon = now + timedelta(days=3)
    grant_plan_period(account=account)  # 100 plan credits, expiring at the month's end
    grant_credits(account=account, amount=40, description="promo", expires_at=soon)
    grant_credits(account=account, amount=15, description="promo 2", reference="p2", expires_at=soon)
    grant_credits(account=account, amount=500, description="bought", source="purchase")
    deduct_credits(account=account, amount=10, description="use")  # from the soonest expiry: promo
    create_hold(account=account, user=None, operation_type="clustering", credits=200)
    data = owner_client.get(BALANCE).json()["data"]
    assert (data["credits"], data["held"], data["credits_remaining"]) == (1645, 200, 1445)
    assert data["breakdown"] == [
        {"source": "plan", "credits": 100},
        {"source": "purchase", "credits": 500},
        {"source": "promotion", "credits": 1045},  # the test account's 1000 and 45 of the promos
    ]
    assert data["next_expiry"]["credits"] == 45
    assert data["next_expiry"]["expires_at"].startswith(soon.strftime("%Y-%m-%dT%H:%M:%S"))
    assert data["plan_name"] == "Free"


def test_an_account_without_plan_credits_has_no_next_grant(owner_client: APIClient, account: Account) -> None:
    account.plan.credits_per_month = 0
    account.plan.save()
    assert owner_client.get(BALANCE).json()["data"]["next_grant_at"] is None


def test_a_hold_past_the_balance_after_expiry_never_shows_negative_spendable(
    owner_client: APIClient, make_account, account: Account
) -> None:
    grant_credits(
        account=account,
        amount=500,
        description="short-lived",
        expires_at=timezone.now() + timedelta(seconds=1),
    )
    create_hold(account=account, user=None, operation_type="clustering", credits=1400)
    from creditdesk.billing.services.grants import expire_credits

    expire_credits(now=timezone.now() + timedelta(seconds=2))
    data = owner_client.get(BALANCE).json()["data"]
    assert (data["credits"], data["held"], data["credits_remaining"]) == (1000, 1400, 0)


def test_the_balance_answers_byte_for_byte_what_its_serializer_documents(
    owner_client: APIClient, account: Account, owner
) -> None:
    """The view builds the JSON itself (bench figure 1); CreditBalanceSerializer is the documented shape."""
    soon = (timezone.now() + timedelta(days=2)).replace(microsecond=123457)
    grant_credits(account=account, amount=40, description="promo", expires_at=soon)
    grant_credits(account=account, amount=7, description="bought", source="purchase", expires_at=soon)
    usage = record_usage(account=account, user=owner, operation_type="clustering", units=3)
    reverse_usage(account=account, usage_id=usage.pk, user=owner, reason="failed job", units=1)
    create_hold(account=account, user=None, operation_type="clustering", credits=30)
    response = owner_client.get(BALANCE)
    documented = CreditBalanceSerializer(asdict(selectors.credit_balance(account=account))).data
    assert response.content == JSONRenderer().render({"success": True, "data": documented})
    data = response.json()["data"]
    assert data["credits_used_this_month"] == 20  # 30 used, 10 given back
    assert data["breakdown"][1]["source"] == "promotion" and data["held"] == 30
    assert data["next_expiry"]["expires_at"].endswith(".123457Z")  # both grants that expire then


def test_a_grant_past_its_expiry_not_yet_processed_is_not_in_the_breakdown(
    owner_client: APIClient, account: Account
) -> None:
    grant_credits(
        account=account,
        amount=500,
        description="short-lived",
        expires_at=timezone.now() + timedelta(milliseconds=300),
    )
    time.sleep(0.4)  # expired, but the periodic job has not processed it: `credits` still counts it
    data = owner_client.get(BALANCE).json()["data"]
    assert data["credits"] == 1500
    assert data["breakdown"] == [{"source": "promotion", "credits": 1000}]
    assert data["next_expiry"] is None


def test_the_balance_reads_credits_and_held_with_the_grants_not_from_the_caller_s_copy(
    account: Account,
) -> None:
    """One statement, one snapshot: the breakdown adds up to the credits it shows, whatever copy of the
    account the caller holds (authentication read it a moment before)."""

    stale = Account.objects.select_related("plan").get(pk=account.pk)
    deduct_credits(account=account, amount=25, description="use")
    create_hold(account=account, user=None, operation_type="clustering", credits=5)
    balance = selectors.credit_balance(account=stale)
    assert (balance.credits, balance.held, balance.credits_remaining) == (975, 5, 970)
    assert sum(row.credits for row in balance.breakdown) == balance.credits


def test_the_balance_never_shows_another_tenant_s_grants_or_usage(
    owner_client: APIClient, account: Account, make_account
) -> None:
    other = make_account()
    grant_credits(account=other, amount=777, description="theirs", source="purchase")
    deduct_credits(account=other, amount=50, description="their use")
    data = owner_client.get(BALANCE).json()["data"]
    assert (data["credits"], data["credits_used_this_month"]) == (1000, 0)
    assert data["breakdown"] == [{"source": "promotion", "credits": 1000}]

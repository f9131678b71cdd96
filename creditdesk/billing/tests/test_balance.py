"""The balance: the contract's four fields, plus held, the breakdown by source and what expires next."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.services.grants import grant_plan_period
from creditdesk.billing.services.holds import create_hold
from creditdesk.billing.services.ledger import deduct_credits, grant_credits

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

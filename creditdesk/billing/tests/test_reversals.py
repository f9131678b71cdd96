"""Reversal: metered credits go back to the grants they came from, never more than was charged."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditGrant, CreditTransaction, CreditUsageLog
from creditdesk.billing.services.grants import expire_credits
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.billing.services.reversals import NotReversible, reverse_usage
from creditdesk.billing.services.usage import record_usage
from creditdesk.conftest import run_concurrently
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"


def reverse_url(usage_id: int) -> str:
    return f"{USAGE}{usage_id}/reverse/"


def test_a_reversal_returns_the_credits_to_the_grants_they_came_from(
    owner_client: APIClient, account: Account
) -> None:
    grant_credits(account=account, amount=500, description="bought", source="purchase", reference="paid")
    usage = owner_client.post(USAGE, {"operation_type": "clustering", "units": 110}, format="json").json()[
        "data"
    ]
    # 1100 credits: the 1000 free credits first, then 100 of the purchase
    response = owner_client.post(
        reverse_url(usage["id"]), {"units": 15, "reason": "job failed"}, format="json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert (data["units"], data["credits"], data["credits_expired"], data["balance_after"]) == (
        15,
        150,
        0,
        550,
    )
    assert (data["usage_log"]["units_reversed"], data["usage_log"]["credits_reversed"]) == (15, 150)
    assert CreditGrant.objects.get(reference="paid").remaining == 500  # the last drawn comes back first
    assert CreditGrant.objects.get(account=account, source="promotion").remaining == 50
    row = CreditTransaction.objects.get(pk=data["id"])
    assert (row.transaction_type, row.amount) == ("reversal", 150)
    account.refresh_from_db()
    assert account.credits == 550
    assert_ledger_consistent(account)


def test_the_rest_can_be_reversed_once_and_then_nothing_more(
    owner_client: APIClient, account: Account
) -> None:
    usage = owner_client.post(USAGE, {"operation_type": "clustering", "units": 4}, format="json").json()[
        "data"
    ]
    assert (
        owner_client.post(reverse_url(usage["id"]), {"units": 1, "reason": "a"}, format="json").status_code
        == 201
    )
    too_many = owner_client.post(reverse_url(usage["id"]), {"units": 4, "reason": "b"}, format="json")
    assert too_many.status_code == 409
    assert "units" in too_many.json()["errors"]
    rest = owner_client.post(reverse_url(usage["id"]), {"reason": "c"}, format="json")
    assert rest.json()["data"]["credits"] == 30
    again = owner_client.post(reverse_url(usage["id"]), {"reason": "d"}, format="json")
    assert again.status_code == 409
    account.refresh_from_db()
    assert account.credits == 1000
    log = CreditUsageLog.objects.get(pk=usage["id"])
    assert (log.units_reversed, log.credits_reversed) == (4, 40)
    assert_ledger_consistent(account)


def test_credits_returned_to_an_expired_grant_expire_again_at_once(make_account) -> None:
    account = make_account()
    grant_credits(
        account=account, amount=100, description="promo", expires_at=timezone.now() + timedelta(seconds=1)
    )
    grant_credits(account=account, amount=10, description="kept", reference="kept")
    usage = record_usage(
        account=account, user=None, operation_type="clustering", units=5
    )  # 50 from the promo
    expire_credits(now=timezone.now() + timedelta(seconds=2))
    account.refresh_from_db()
    assert account.credits == 10
    reversal = reverse_usage(account=account, usage_id=usage.pk, user=None, reason="failed", units=2)
    assert (reversal.credits, reversal.credits_expired) == (20, 20)
    account.refresh_from_db()
    assert account.credits == 10
    types = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("id")
        .values_list("transaction_type", "amount")
    )
    assert types[-2:] == [("reversal", 20), ("expiration", -20)]
    assert_ledger_consistent(account)


def test_usage_past_the_reversal_window_cannot_be_reversed(make_account, settings) -> None:
    settings.USAGE_REVERSAL_DAYS = 7
    account = make_account(credits=100)
    usage = record_usage(account=account, user=None, operation_type="clustering")
    with pytest.raises(NotReversible):
        reverse_usage(
            account=account,
            usage_id=usage.pk,
            user=None,
            reason="late",
            now=timezone.now() + timedelta(days=8),
        )
    reverse_usage(
        account=account,
        usage_id=usage.pk,
        user=None,
        reason="in time",
        now=timezone.now() + timedelta(days=6),
    )


def test_reversal_needs_a_reason_a_spender_and_the_callers_own_usage(
    owner_client: APIClient, other_client: APIClient, account: Account, client_for
) -> None:
    usage = owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").json()["data"]
    assert owner_client.post(reverse_url(usage["id"]), {}, format="json").status_code == 400
    assert other_client.post(reverse_url(usage["id"]), {"reason": "x"}, format="json").status_code == 404
    assert (
        client_for(Role.VIEWER).post(reverse_url(usage["id"]), {"reason": "x"}, format="json").status_code
        == 403
    )
    assert (
        client_for(Role.MEMBER).post(reverse_url(usage["id"]), {"reason": "x"}, format="json").status_code
        == 201
    )


def test_a_reversal_takes_back_its_revenue_and_this_months_use(
    owner_client: APIClient, account: Account
) -> None:
    usage = owner_client.post(USAGE, {"operation_type": "clustering", "units": 3}, format="json").json()[
        "data"
    ]
    owner_client.post(reverse_url(usage["id"]), {"units": 1, "reason": "x"}, format="json")
    balance = owner_client.get("/api/v1/billing/credits/balance/").json()["data"]
    assert balance["credits_used_this_month"] == 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reversal_raced_with_its_repeat_returns_the_credits_once(make_account) -> None:
    account = make_account(credits=1000)
    usage = record_usage(account=account, user=None, operation_type="clustering", units=7)

    def reverse(_index: int) -> str:
        try:
            reverse_usage(account=account, usage_id=usage.pk, user=None, reason="retry storm")
        except NotReversible:
            return "refused"
        return "ok"

    outcomes = run_concurrently(12, reverse)
    assert sorted(outcomes) == ["ok"] + ["refused"] * 11
    account.refresh_from_db()
    assert account.credits == 1000
    assert CreditTransaction.objects.filter(account=account, transaction_type="reversal").count() == 1
    assert_ledger_consistent(account)

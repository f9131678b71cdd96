"""Concurrency on PostgreSQL: many threads, real transactions, real row locks."""

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import User
from creditdesk.billing.models import CreditUsageLog
from creditdesk.billing.services.ledger import InsufficientCredits, deduct_credits, grant_credits
from creditdesk.conftest import bearer_client, run_concurrently
from creditdesk.testing import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_parallel_deductions_past_the_balance_lose_and_double_nothing(make_account) -> None:
    account = make_account(credits=1000)

    def spend(_index: int) -> str:
        try:
            deduct_credits(account=account, amount=30, description="parallel")
        except InsufficientCredits:
            return "short"
        return "ok"

    outcomes = run_concurrently(40, spend)
    assert sorted(set(map(str, outcomes))) == ["ok", "short"]
    assert outcomes.count("ok") == 33
    account.refresh_from_db()
    assert account.credits == 1000 - 33 * 30
    assert_ledger_consistent(account)


def test_parallel_grants_and_deductions_conserve_every_credit(make_account) -> None:
    account = make_account(credits=100)

    def mixed(index: int) -> int:
        if index % 2:
            grant_credits(account=account, amount=7, description="in")
            return 7
        try:
            deduct_credits(account=account, amount=11, description="out")
        except InsufficientCredits:
            return 0
        return -11

    changes = run_concurrently(30, mixed)
    account.refresh_from_db()
    assert account.credits == 100 + sum(changes)
    assert_ledger_consistent(account)


def test_metering_over_http_in_parallel_answers_201_or_402_and_balances(make_account, make_member) -> None:
    account = make_account(credits=205)
    owner: User = make_member(account, "owner")

    def meter(_index: int) -> int:
        return (
            bearer_client(owner)
            .post("/api/v1/billing/credits/usage/", {"operation_type": "clustering"}, format="json")
            .status_code
        )

    statuses = run_concurrently(24, meter)
    assert set(statuses) <= {201, 402}
    assert statuses.count(201) == 20
    account.refresh_from_db()
    assert account.credits == 5
    assert CreditUsageLog.objects.filter(account=account).count() == 20
    assert_ledger_consistent(account)


def test_one_idempotency_key_sent_at_once_has_exactly_one_effect(make_account, make_member) -> None:
    account = make_account(credits=1000)
    owner: User = make_member(account, "owner")

    def send(_index: int) -> tuple[int, dict]:
        client: APIClient = bearer_client(owner)
        response = client.post(
            "/api/v1/billing/credits/usage/",
            {"operation_type": "image_generation"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="render-42",
        )
        return response.status_code, response.json()

    answers = run_concurrently(16, send)
    assert {status for status, _ in answers} == {201}
    assert len({str(body) for _, body in answers}) == 1
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.credits == 985
    assert_ledger_consistent(account)

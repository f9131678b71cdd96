from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction, CreditUsageLog
from creditdesk.core.models import IdempotencyKey

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"


def meter(client: APIClient, key: str, **body: object) -> object:
    return client.post(
        USAGE, {"operation_type": "clustering", **body}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_same_key_and_body_replays_the_first_response_without_a_second_effect(
    owner_client: APIClient, account: Account
) -> None:
    first = meter(owner_client, "order-1")
    second = meter(owner_client, "order-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.credits == 1000 - 10


def test_same_key_with_another_body_is_a_422_and_changes_nothing(
    owner_client: APIClient, account: Account
) -> None:
    meter(owner_client, "order-2")
    response = meter(owner_client, "order-2", units=5)
    assert response.status_code == 422
    assert response.json()["errors"] == {"Idempotency-Key": ["Already used with a different request body."]}
    account.refresh_from_db()
    assert account.credits == 990


def test_keys_are_scoped_per_account(
    owner_client: APIClient, other_client: APIClient, other_account: Account
) -> None:
    meter(owner_client, "shared-key")
    response = meter(other_client, "shared-key")
    assert response.status_code == 201
    other_account.refresh_from_db()
    assert other_account.credits == 490


def test_a_failed_request_does_not_burn_its_key(owner_client: APIClient, account: Account) -> None:
    short = meter(owner_client, "big", units=1000)
    assert short.status_code == 402
    assert not IdempotencyKey.objects.filter(key="big").exists()
    assert meter(owner_client, "big", units=1000).status_code == 402  # evaluated again, not replayed


def test_an_expired_key_runs_the_request_again(owner_client: APIClient, account: Account) -> None:
    meter(owner_client, "old")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(days=3))
    assert meter(owner_client, "old").status_code == 201
    assert CreditTransaction.objects.filter(account=account, transaction_type="deduction").count() == 2


def test_an_overlong_key_is_a_400(owner_client: APIClient) -> None:
    response = meter(owner_client, "k" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]

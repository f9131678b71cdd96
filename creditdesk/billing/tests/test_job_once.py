"""A job is charged once: (account, reference_id) is unique for metered usage, for ever, with or without
an Idempotency-Key."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction, CreditUsageLog
from creditdesk.billing.services.usage import meter_usage
from creditdesk.conftest import run_concurrently
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"
JOB = {"operation_type": "clustering", "units": 2, "model": "m", "reference_id": "job-42"}


def test_the_same_job_twice_is_charged_once_and_answers_the_first_result(
    owner_client: APIClient, account: Account
) -> None:
    first = owner_client.post(USAGE, JOB, format="json")
    again = owner_client.post(USAGE, JOB, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"] == first.json()["data"]
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    assert CreditTransaction.objects.filter(account=account, transaction_type="deduction").count() == 1
    account.refresh_from_db()
    assert account.credits == 1000 - 20
    assert_ledger_consistent(account)


def test_the_same_job_with_another_body_is_a_409_naming_the_field(
    owner_client: APIClient, account: Account
) -> None:
    owner_client.post(USAGE, JOB, format="json")
    response = owner_client.post(USAGE, {**JOB, "units": 3}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False
    assert set(body["errors"]) == {"units", "reference_id"}
    assert "units" in body["errors"]["reference_id"][0]
    account.refresh_from_db()
    assert account.credits == 980
    assert CreditUsageLog.objects.filter(account=account).count() == 1


def test_a_job_is_charged_once_for_ever_not_only_while_an_idempotency_key_lives(
    owner_client: APIClient, account: Account
) -> None:
    owner_client.post(USAGE, JOB, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    CreditUsageLog.objects.filter(account=account).update(created_at=timezone.now() - timedelta(days=400))
    response = owner_client.post(USAGE, JOB, format="json", HTTP_IDEMPOTENCY_KEY="another-key")
    assert response.status_code == 200
    assert CreditUsageLog.objects.filter(account=account).count() == 1


def test_jobs_without_a_reference_are_each_charged(owner_client: APIClient, account: Account) -> None:
    for _ in range(2):
        assert owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    assert CreditUsageLog.objects.filter(account=account).count() == 2


def test_the_same_reference_in_another_account_is_another_job(
    owner_client: APIClient, other_client: APIClient, account: Account, other_account: Account
) -> None:
    assert owner_client.post(USAGE, JOB, format="json").status_code == 201
    assert other_client.post(USAGE, JOB, format="json").status_code == 201
    other_account.refresh_from_db()
    assert other_account.credits == 500 - 20


def test_the_database_refuses_a_second_log_for_one_job(account: Account, owner) -> None:
    log = meter_usage(account=account, user=owner, operation_type="clustering", reference_id="r").log
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditUsageLog.objects.create(
            account=account,
            operation_type="clustering",
            credits_used=1,
            reference_id="r",
            transaction=log.transaction,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_job_metered_twenty_times_at_once_is_charged_once(make_account) -> None:
    account = make_account(credits=1000)

    def meter(_index: int) -> bool:
        return meter_usage(
            account=account, user=None, operation_type="clustering", reference_id="job-race"
        ).replayed

    outcomes = run_concurrently(20, meter)
    assert sorted(outcomes, key=str) == [False] + [True] * 19
    account.refresh_from_db()
    assert account.credits == 990
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    assert_ledger_consistent(account)

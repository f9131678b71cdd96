"""Auto top-up under parallel deductions on PostgreSQL: one crossing, one attempt, one charge. (Named to
run after test_grant_migration: a transactional test flushes the catalogue that test expects.)"""

import pytest
import stripe

from creditdesk.billing.models import AutoTopUp, AutoTopUpAttempt, PaymentMethodConfig
from creditdesk.billing.services.ledger import deduct_credits
from creditdesk.billing.services.topup import idempotency_key, update_rule
from creditdesk.billing.tests.factories import STRIPE_TEST_SECRET_KEY, CreditPackageFactory
from creditdesk.conftest import run_concurrently


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_deductions_across_the_threshold_start_one_attempt_and_one_charge(
    make_account, monkeypatch, settings
):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    PaymentMethodConfig.objects.update_or_create(
        payment_method="stripe", defaults={"is_enabled": True, "display_name": "Card"}
    )
    charges: list[str] = []

    def create_intent(**params: object) -> stripe.PaymentIntent:
        charges.append(str(params["idempotency_key"]))
        return stripe.PaymentIntent.construct_from(
            {"id": "pi_parallel", "status": "processing"}, STRIPE_TEST_SECRET_KEY
        )

    monkeypatch.setattr(stripe.PaymentIntent, "create", create_intent)
    account = make_account(credits=1000)
    package = CreditPackageFactory()
    AutoTopUp.objects.create(
        account=account,
        card_provider="stripe",
        stripe_customer_id="cus_parallel",
        stripe_payment_method_id="pm_parallel",
    )
    update_rule(account=account, actor=None, is_enabled=True, threshold=500, package_id=package.pk)
    account.refresh_from_db()

    run_concurrently(20, lambda _index: deduct_credits(account=account, amount=40, description="parallel"))

    account.refresh_from_db()
    assert account.credits == 200
    attempts = list(AutoTopUpAttempt.objects.filter(account=account))
    assert len(attempts) == 1
    assert (attempts[0].balance_before, attempts[0].balance_after) == (520, 480)
    assert charges == [idempotency_key(attempts[0].pk)]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_metering_post_that_crosses_the_top_up_threshold_takes_the_plain_path_and_records_the_attempt(
    make_account, make_member
):
    from creditdesk.conftest import bearer_client

    account = make_account(credits=100)
    package = CreditPackageFactory()
    AutoTopUp.objects.create(account=account, card_provider="sandbox")
    update_rule(account=account, actor=None, is_enabled=True, threshold=95, package_id=package.pk)
    client = bearer_client(make_member(account, "owner"))

    response = client.post("/api/v1/billing/credits/usage/", {"operation_type": "clustering"}, format="json")

    assert response.status_code == 201
    attempt = AutoTopUpAttempt.objects.get(account=account)
    assert (attempt.balance_before, attempt.balance_after) == (100, 90)

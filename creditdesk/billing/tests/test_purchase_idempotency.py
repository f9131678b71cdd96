"""A purchase with an Idempotency-Key: the provider is called with no transaction open, the answer is
stored with the purchase, and a key whose request died mid-way is resumed by a retry, not stuck.

Only Stripe's network is faked (FakeCheckout, which honours Stripe's Idempotency-Key as Stripe does); the
server's death is a BaseException raised around that call, which nothing in the request catches.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction, Invoice, Payment
from creditdesk.billing.providers.stripe import checkout_idempotency_key
from creditdesk.billing.services.payments import abandon_unstarted_purchases
from creditdesk.billing.tests.factories import (
    STRIPE_TEST_SECRET_KEY,
    STRIPE_TEST_WEBHOOK_SECRET,
    CreditPackageFactory,
    FakeCheckout,
    ServerKilled,
)
from creditdesk.core.models import IdempotencyKey
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stripe_configured(settings):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET


@pytest.fixture
def checkout(monkeypatch) -> FakeCheckout:
    import stripe

    fake = FakeCheckout()
    monkeypatch.setattr(stripe.checkout.Session, "create", fake.create)
    return fake


@pytest.fixture
def package():
    return CreditPackageFactory(name="Starter", credits=500, price="9.00")


def buy(client, package, key: str, method: str = "stripe"):
    return client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": method},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def lease_runs_out(key: str) -> None:
    """Without PostgreSQL's lock a key in progress counts as abandoned once its lease ran out."""
    IdempotencyKey.objects.filter(key=key).update(claimed_at=timezone.now() - timedelta(hours=1))


def test_a_stripe_checkout_is_created_with_an_idempotency_key_derived_from_the_payment(
    owner_client, package, checkout
):
    response = buy(owner_client, package, "k-derived")
    assert response.status_code == 201
    payment = Payment.objects.get()
    assert list(checkout.sessions) == [checkout_idempotency_key(payment)]
    assert checkout_idempotency_key(payment).startswith(f"creditdesk-checkout-{payment.pk}-")


def test_a_retry_after_the_server_died_once_stripe_answered_gets_that_purchase_and_the_same_session(
    owner_client, account, package, checkout
):
    checkout.die = "after"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "died-after")
    # What the dead request left: a committed draft, linked to its key, which has no answer yet.
    payment = Payment.objects.get()
    record = IdempotencyKey.objects.get(key="died-after")
    assert record.response_status is None and record.resource == f"payment:{payment.pk}"
    assert payment.status == Payment.Status.PENDING and payment.invoice.status == Invoice.Status.DRAFT
    lease_runs_out("died-after")

    retry = buy(owner_client, package, "died-after")

    assert retry.status_code == 201, retry.content
    data = retry.json()["data"]
    assert data["payment"]["id"] == payment.pk
    assert data["next_action"] == {"type": "redirect", "url": "https://checkout.stripe.com/c/pay/cs_test_1"}
    assert len(checkout.calls) == 2 and len(checkout.sessions) == 1  # asked twice, one session
    assert Payment.objects.count() == Invoice.objects.count() == 1
    payment.refresh_from_db()
    assert payment.provider_reference == "cs_test_1" and payment.invoice.invoice_number.startswith("INV-")
    again = buy(owner_client, package, "died-after")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()


def test_a_retry_after_the_server_died_before_calling_stripe_calls_it_now_for_the_same_draft(
    owner_client, package, checkout
):
    checkout.die = "before"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "died-before")
    assert checkout.calls == []
    lease_runs_out("died-before")

    retry = buy(owner_client, package, "died-before")

    assert retry.status_code == 201, retry.content
    assert retry.json()["data"]["payment"]["id"] == Payment.objects.get().pk
    assert len(checkout.calls) == len(checkout.sessions) == 1


def test_a_sandbox_purchase_resumed_after_a_crash_grants_once(owner_client, account, package, monkeypatch):
    from creditdesk.billing.providers import sandbox

    real_start = sandbox.SandboxProvider.start
    calls: list[int] = []

    def dies_once(self, **kwargs):
        calls.append(kwargs["payment"].pk)
        if len(calls) == 1:
            raise ServerKilled
        return real_start(self, **kwargs)

    monkeypatch.setattr(sandbox.SandboxProvider, "start", dies_once)
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "sandbox-died", method="sandbox")
    lease_runs_out("sandbox-died")
    retry = buy(owner_client, package, "sandbox-died", method="sandbox")

    assert retry.status_code == 201
    assert calls[0] == calls[1] == retry.json()["data"]["payment"]["id"]
    account.refresh_from_db()
    assert account.credits == 1000 + 500
    assert CreditTransaction.objects.filter(account=account, transaction_type="purchase").count() == 1
    assert_ledger_consistent(account)


def test_a_dead_request_whose_draft_the_sweep_gave_up_is_bought_afresh_by_the_retry(
    owner_client, package, checkout
):
    checkout.die = "after"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "swept")
    assert abandon_unstarted_purchases(now=timezone.now() + timedelta(days=1)) == 1
    lease_runs_out("swept")

    retry = buy(owner_client, package, "swept")

    assert retry.status_code == 201
    given_up, bought = Payment.objects.order_by("pk")
    assert given_up.status == Payment.Status.FAILED and given_up.invoice.status == Invoice.Status.DRAFT
    assert retry.json()["data"]["payment"]["id"] == bought.pk
    assert IdempotencyKey.objects.get(key="swept").resource == f"payment:{bought.pk}"


def test_a_dead_request_with_another_body_is_still_a_422(owner_client, package, checkout):
    checkout.die = "after"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "died-body")
    lease_runs_out("died-body")
    response = buy(owner_client, package, "died-body", method="bank_transfer")
    assert response.status_code == 422
    assert Payment.objects.get().invoice.status == Invoice.Status.DRAFT  # nothing resumed


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL's advisory lock knows it died")
def test_without_postgresql_a_key_in_progress_within_its_lease_is_a_409_not_a_second_purchase(
    owner_client, package, checkout
):
    checkout.die = "after"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "in-lease")
    response = buy(owner_client, package, "in-lease")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert Payment.objects.count() == 1 and len(checkout.sessions) == 1


@pytest.mark.postgres
def test_on_postgresql_the_retry_resumes_at_once_because_the_dead_request_holds_no_lock(
    owner_client, package, checkout
):
    checkout.die = "after"
    with pytest.raises(ServerKilled):
        buy(owner_client, package, "no-lease-wait")
    retry = buy(owner_client, package, "no-lease-wait")  # claimed a moment ago: no lease to wait out
    assert retry.status_code == 201
    assert retry.json()["data"]["payment"]["id"] == Payment.objects.get().pk
    assert len(checkout.sessions) == 1

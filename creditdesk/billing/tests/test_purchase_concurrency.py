"""Concurrency on PostgreSQL: parallel purchases get unique, gap-free invoice numbers; one Stripe event
delivered many times at once grants once; two staff approving one transfer at once grant once; one
purchase's Idempotency-Key sent many times at once (or retried at once after its request died) makes one
purchase and one call to Stripe."""

import threading
from collections import Counter
from collections.abc import Callable

import pytest
import stripe
from django.apps import apps
from django.db import connection
from django.test import Client
from django.utils import timezone

from creditdesk.billing.catalog import seed_catalog
from creditdesk.billing.models import CreditTransaction, Invoice, InvoiceSequence, Payment, StripeEvent
from creditdesk.billing.services.payments import approve_bank_transfer
from creditdesk.billing.services.purchases import purchase_package
from creditdesk.billing.tests.factories import (
    STRIPE_TEST_SECRET_KEY,
    STRIPE_TEST_WEBHOOK_SECRET,
    CreditPackageFactory,
    FakeCheckout,
    ServerKilled,
    checkout_session_event,
    signed_webhook,
)
from creditdesk.billing.webhooks import WebhookOutcome
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_parallel(count: int, work: Callable[[int], object]) -> list[object]:
    """Runs work(i) in `count` threads released at once; each closes its own connection at its end."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported to the test, which asserts on every outcome
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture(autouse=True)
def catalogue() -> None:
    seed_catalog(apps)  # a transactional test starts from a flushed database


def test_parallel_purchases_get_unique_gap_free_invoice_numbers(make_account, make_member):
    package = CreditPackageFactory(credits=100, price="5.00")
    accounts = [make_account(name=f"Buyer {i}") for i in range(3)]
    clients = [bearer_client(make_member(accounts[i % 3], Role.OWNER)) for i in range(9)]

    def buy(index: int) -> tuple[int, str]:
        response = clients[index].post(
            f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
            {"payment_method": "sandbox" if index % 2 else "bank_transfer"},
            format="json",
        )
        return response.status_code, response.json()["data"]["invoice"]["invoice_number"]

    results = in_parallel(9, buy)

    assert all(not isinstance(r, Exception) for r in results), results
    assert [status for status, _ in results] == [201] * 9
    year = timezone.localdate().year
    numbers = sorted(number for _, number in results)
    assert numbers == [f"INV-{year}-{seq:03d}" for seq in range(1, 10)]
    assert sorted(Invoice.objects.values_list("invoice_number", flat=True)) == numbers
    assert InvoiceSequence.objects.get(year=year).last_value == 9
    assert CreditTransaction.objects.filter(transaction_type="purchase").count() == 4  # the sandbox ones
    for account in accounts:
        assert_ledger_consistent(account)


def test_one_stripe_event_delivered_concurrently_grants_once(
    make_account, make_member, monkeypatch, settings
):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET
    monkeypatch.setattr(
        stripe.checkout.Session,
        "create",
        lambda **params: {"id": "cs_test_race", "url": "https://checkout.stripe.com/c/pay/cs_test_race"},
    )
    account = make_account(credits=0)
    owner = make_member(account, Role.OWNER)
    package = CreditPackageFactory(credits=700, price="12.00")
    payment = purchase_package(
        account=account, package_id=package.pk, payment_method="stripe", actor=owner
    ).payment
    payload, signature = signed_webhook(checkout_session_event(payment, event_id="evt_race"))

    def deliver(_: int) -> str:
        response = Client().post(
            "/api/v1/billing/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        assert response.status_code == 200, response.content
        return response.json()["data"]["outcome"]

    outcomes = in_parallel(8, deliver)

    assert all(isinstance(o, str) for o in outcomes), outcomes
    assert Counter(outcomes) == {WebhookOutcome.PROCESSED: 1, WebhookOutcome.DUPLICATE: 7}
    assert StripeEvent.objects.filter(event_id="evt_race").count() == 1
    assert list(
        CreditTransaction.objects.filter(account=account, transaction_type="purchase").values_list(
            "amount", flat=True
        )
    ) == [700]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.credits == 700
    assert_ledger_consistent(account)


def test_two_staff_approving_the_same_transfer_at_once_grant_once(
    make_account, make_member, django_user_model
):
    account = make_account(credits=0)
    owner = make_member(account, Role.OWNER)
    package = CreditPackageFactory(credits=300, price="6.00")
    payment = purchase_package(
        account=account, package_id=package.pk, payment_method="bank_transfer", actor=owner
    ).payment
    staff = [
        django_user_model.objects.create_superuser(f"staff{i}@creditdesk.test", "pw-123456789")
        for i in range(4)
    ]

    results = in_parallel(4, lambda i: approve_bank_transfer(payment_id=payment.pk, actor=staff[i]))

    assert sorted(results, key=str) == [False, False, False, True], results
    assert CreditTransaction.objects.filter(account=account, transaction_type="purchase").count() == 1
    account.refresh_from_db()
    assert account.credits == 300
    assert_ledger_consistent(account)


def test_one_purchase_key_sent_eight_times_at_once_buys_once_and_every_repeat_replays_it(
    make_account, make_member
):
    package = CreditPackageFactory(credits=100, price="5.00")
    account = make_account(name="Impatient buyer")
    client = bearer_client(make_member(account, Role.OWNER))

    def buy(_index: int) -> tuple[int, dict]:
        response = client.post(
            f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
            {"payment_method": "sandbox"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-purchase",
        )
        return response.status_code, response.json()

    results = in_parallel(8, buy)

    assert all(not isinstance(r, Exception) for r in results), results
    assert [status for status, _ in results] == [201] * 8
    assert len({str(body) for _, body in results}) == 1
    assert (
        Invoice.objects.filter(account=account).count()
        == Payment.objects.filter(account=account).count()
        == 1
    )
    account.refresh_from_db()
    assert account.credits == 100
    assert_ledger_consistent(account)


@pytest.fixture
def stripe_checkout(monkeypatch, settings) -> FakeCheckout:
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET
    fake = FakeCheckout()
    monkeypatch.setattr(stripe.checkout.Session, "create", fake.create)
    return fake


def test_one_stripe_purchase_key_sent_eight_times_at_once_makes_one_purchase_and_one_stripe_call(
    make_account, make_member, stripe_checkout
):
    stripe_checkout.delay = 0.3  # Stripe is slow: the repeats arrive while the first waits for it
    package = CreditPackageFactory(credits=100, price="5.00")
    account = make_account(name="Impatient card buyer")
    client = bearer_client(make_member(account, Role.OWNER))

    def buy(_index: int) -> tuple[int, dict]:
        response = client.post(
            f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
            {"payment_method": "stripe"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-card-purchase",
        )
        return response.status_code, response.json()

    results = in_parallel(8, buy)

    assert all(not isinstance(r, Exception) for r in results), results
    assert [status for status, _ in results] == [201] * 8
    assert len({str(body) for _, body in results}) == 1
    assert len(stripe_checkout.calls) == 1 and stripe_checkout.inside_transaction == [False]
    payment = Payment.objects.get(account=account)
    assert payment.provider_reference == "cs_test_1" and Invoice.objects.filter(account=account).count() == 1


def test_eight_retries_at_once_of_a_request_that_died_resume_it_once(
    make_account, make_member, stripe_checkout
):
    package = CreditPackageFactory(credits=100, price="5.00")
    account = make_account(name="Unlucky card buyer")
    client = bearer_client(make_member(account, Role.OWNER))

    def buy(_index: int = 0) -> tuple[int, dict]:
        response = client.post(
            f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
            {"payment_method": "stripe"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="died-then-retried",
        )
        return response.status_code, response.json()

    stripe_checkout.die = "before"
    with pytest.raises(ServerKilled):
        buy()
    connection.close()  # the dead server's connection goes with it
    draft = Payment.objects.get(account=account)
    stripe_checkout.delay = 0.3

    results = in_parallel(8, buy)

    assert all(not isinstance(r, Exception) for r in results), results
    assert [status for status, _ in results] == [201] * 8
    assert {body["data"]["payment"]["id"] for _, body in results} == {draft.pk}
    assert len(stripe_checkout.calls) == 1 and len(stripe_checkout.sessions) == 1
    assert Payment.objects.filter(account=account).count() == 1

"""Card payments: the Checkout Session we create, and Stripe's signed webhook applying each event once.

Only Stripe's network is faked (stripe.checkout.Session.create); webhook payloads are signed by Stripe's
own library with the real scheme and verified by the real stripe.Webhook.construct_event.
"""

import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import stripe
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from creditdesk.billing.models import (
    CreditTransaction,
    Invoice,
    InvoiceSequence,
    Payment,
    StripeEvent,
)
from creditdesk.billing.services.ledger import deduct_credits
from creditdesk.billing.tests.factories import (
    STRIPE_TEST_SECRET_KEY,
    STRIPE_TEST_WEBHOOK_SECRET,
    CreditPackageFactory,
    FakeCheckout,
    charge_refunded_event,
    checkout_session_event,
    signed_webhook,
    stripe_signature,
)
from creditdesk.billing.webhooks import WebhookOutcome
from creditdesk.core.models import IdempotencyKey
from creditdesk.tenancy.models import AuditLog
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/api/v1/billing/webhooks/stripe/"


@pytest.fixture(autouse=True)
def stripe_configured(settings):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    settings.SITE_URL = "https://app.creditdesk.test"


@pytest.fixture
def checkout(monkeypatch) -> FakeCheckout:
    fake = FakeCheckout()
    monkeypatch.setattr(stripe.checkout.Session, "create", fake.create)
    return fake


@pytest.fixture
def package():
    return CreditPackageFactory(name="Starter", credits=500, price="9.00")


@pytest.fixture
def stripe_payment(owner_client, package, checkout) -> Payment:
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": "stripe"}, format="json"
    )
    assert response.status_code == 201, response.content
    return Payment.objects.get(pk=response.json()["data"]["payment"]["id"])


def deliver(client, event: dict, **sign_kwargs):
    payload, signature = signed_webhook(event, **sign_kwargs)
    return client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def purchases_of(account) -> list[int]:
    return list(
        CreditTransaction.objects.filter(account=account, transaction_type="purchase").values_list(
            "amount", flat=True
        )
    )


# --- Starting a card payment -----------------------------------------------------------------------------


def test_a_stripe_purchase_opens_a_checkout_session_for_the_invoice_and_grants_nothing_yet(
    owner_client, account, package, checkout
):
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "stripe"},
        format="json",
    )

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["next_action"] == {"type": "redirect", "url": "https://checkout.stripe.com/c/pay/cs_test_1"}
    payment = Payment.objects.get()
    invoice = payment.invoice
    assert payment.status == Payment.Status.PENDING and payment.provider_reference == "cs_test_1"
    assert invoice.status == Invoice.Status.PENDING

    (params,) = checkout.calls
    assert params["api_key"] == STRIPE_TEST_SECRET_KEY
    assert params["mode"] == "payment"
    assert params["metadata"]["invoice_id"] == str(invoice.pk)
    assert params["metadata"]["payment_id"] == str(payment.pk)
    assert params["payment_intent_data"]["metadata"]["payment_id"] == str(payment.pk)
    (line,) = params["line_items"]
    assert line["price_data"]["unit_amount"] == 900 and line["price_data"]["currency"] == "usd"
    success, cancel = urlparse(params["success_url"]), urlparse(params["cancel_url"])
    assert params["success_url"].startswith("https://app.creditdesk.test/account/purchase-credits?")
    assert parse_qs(success.query)["invoice"] == [str(invoice.pk)]
    assert "session_id={CHECKOUT_SESSION_ID}" in params["success_url"]
    assert cancel.path == "/account/purchase-credits" and parse_qs(cancel.query)["status"] == ["cancelled"]

    account.refresh_from_db()
    assert account.credits == 1000
    assert purchases_of(account) == []


def test_a_stripe_failure_answers_502_fails_the_payment_and_issues_no_invoice(
    owner_client, account, package, checkout
):
    checkout.error = stripe.APIConnectionError("Network down")
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": "stripe"}, format="json"
    )

    assert response.status_code == 502
    body = response.json()
    assert body["success"] is False and body["code"] == "payment_provider_error" and body["request_id"]
    # The attempt is on record for staff: a failed payment and a draft that was never numbered.
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.FAILED and "not answering" in payment.failure_reason
    assert payment.invoice.status == Invoice.Status.DRAFT
    assert payment.invoice.invoice_number.startswith("DRAFT-")
    assert not InvoiceSequence.objects.exists()  # no number was used
    assert AuditLog.objects.filter(action="credits.purchase_failed").count() == 1
    assert not AuditLog.objects.filter(action="credits.purchase_started").exists()
    # Customers owe nothing and see nothing.
    assert owner_client.get("/api/v1/billing/invoices/").json()["data"]["count"] == 0
    assert owner_client.get("/api/v1/billing/payments/").json()["data"]["count"] == 0
    account.refresh_from_db()
    assert account.credits == 1000


def test_a_stripe_failure_under_an_idempotency_key_forgets_the_key_so_a_retry_really_retries(
    owner_client, account, package, checkout
):
    checkout.error = stripe.APIConnectionError("Network down")
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "stripe"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="card-1",
    )
    assert response.status_code == 502
    # As without a key: the failed payment and its unnumbered draft stay for staff; the key is forgotten.
    assert not IdempotencyKey.objects.exists()
    failed = Payment.objects.get()
    assert failed.status == Payment.Status.FAILED and not InvoiceSequence.objects.exists()

    checkout.error = None
    retry = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "stripe"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="card-1",
    )
    assert retry.status_code == 201
    assert retry.json()["data"]["payment"]["id"] != failed.pk
    assert owner_client.get("/api/v1/billing/invoices/").json()["data"]["count"] == 1
    assert retry.json()["data"]["invoice"]["invoice_number"].endswith("-001")


# --- The webhook: success --------------------------------------------------------------------------------


def test_a_paid_checkout_grants_the_credits_and_marks_invoice_and_payment_paid(
    api_client, stripe_payment, account, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(api_client, checkout_session_event(stripe_payment))

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "data": {"received": True, "outcome": WebhookOutcome.PROCESSED},
    }
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert stripe_payment.provider_payment_id == "pi_test_1"
    assert stripe_payment.invoice.status == Invoice.Status.PAID and stripe_payment.invoice.paid_at
    grant = CreditTransaction.objects.get(account=account, transaction_type="purchase")
    assert grant.amount == 500 and grant.reference == f"payment:{stripe_payment.pk}"
    account.refresh_from_db()
    assert account.credits == 1500
    assert_ledger_consistent(account)
    assert StripeEvent.objects.filter(event_id="evt_completed_1").exists()
    audit = AuditLog.objects.get(account=account, action="payment.succeeded")
    assert audit.changes["source"] == "stripe:evt_completed_1" and audit.actor is None
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_the_same_event_delivered_again_and_again_grants_once(api_client, stripe_payment, account):
    event = checkout_session_event(stripe_payment)
    outcomes = [deliver(api_client, event).json()["data"]["outcome"] for _ in range(3)]

    assert outcomes == [WebhookOutcome.PROCESSED, WebhookOutcome.DUPLICATE, WebhookOutcome.DUPLICATE]
    assert purchases_of(account) == [500]
    assert StripeEvent.objects.count() == 1
    assert_ledger_consistent(account)


def test_two_events_that_both_say_paid_grant_once(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_a"))
    deliver(
        api_client,
        checkout_session_event(
            stripe_payment, event_id="evt_b", event_type="checkout.session.async_payment_succeeded"
        ),
    )
    assert purchases_of(account) == [500]
    assert AuditLog.objects.filter(account=account, action="payment.succeeded").count() == 1


def test_a_delayed_payment_is_processing_until_stripe_says_it_succeeded(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c", payment_status="unpaid"))
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.PROCESSING
    assert stripe_payment.invoice.status == Invoice.Status.PENDING
    assert purchases_of(account) == []

    deliver(
        api_client,
        checkout_session_event(
            stripe_payment, event_id="evt_s", event_type="checkout.session.async_payment_succeeded"
        ),
    )
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert purchases_of(account) == [500]


def test_a_delayed_payment_that_fails_voids_the_invoice_and_grants_nothing(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c", payment_status="unpaid"))
    deliver(
        api_client,
        checkout_session_event(
            stripe_payment, event_id="evt_f", event_type="checkout.session.async_payment_failed"
        ),
    )
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.FAILED and stripe_payment.failure_reason
    assert stripe_payment.invoice.status == Invoice.Status.VOID and stripe_payment.invoice.voided_at
    assert purchases_of(account) == []
    assert AuditLog.objects.filter(account=account, action="payment.failed").exists()


def test_a_late_async_success_after_the_completed_event_does_not_go_back_to_processing(
    api_client, stripe_payment, account
):
    deliver(
        api_client,
        checkout_session_event(
            stripe_payment, event_id="evt_s", event_type="checkout.session.async_payment_succeeded"
        ),
    )
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c", payment_status="unpaid"))
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert purchases_of(account) == [500]


# --- Expiry ----------------------------------------------------------------------------------------------


def test_an_expired_checkout_fails_the_payment_and_voids_the_invoice(api_client, stripe_payment, account):
    deliver(
        api_client,
        checkout_session_event(stripe_payment, event_id="evt_x", event_type="checkout.session.expired"),
    )
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.FAILED
    assert stripe_payment.invoice.status == Invoice.Status.VOID
    assert AuditLog.objects.filter(account=account, action="payment.expired").exists()


def test_expired_after_completed_changes_nothing(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c"))
    response = deliver(
        api_client,
        checkout_session_event(stripe_payment, event_id="evt_x", event_type="checkout.session.expired"),
    )
    assert response.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert stripe_payment.invoice.status == Invoice.Status.PAID
    assert purchases_of(account) == [500]


def test_a_payment_reported_paid_after_its_checkout_expired_grants_nothing_and_alerts_staff(
    api_client, stripe_payment, account
):
    deliver(
        api_client,
        checkout_session_event(stripe_payment, event_id="evt_x", event_type="checkout.session.expired"),
    )
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c"))

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.FAILED
    assert purchases_of(account) == []
    assert AuditLog.objects.filter(account=account, action="payment.paid_after_failure").count() == 1


# --- Refunds ---------------------------------------------------------------------------------------------


def test_a_refund_claws_the_credits_back_and_marks_invoice_and_payment_refunded(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))
    response = deliver(api_client, charge_refunded_event(stripe_payment))

    assert response.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.REFUNDED
    assert stripe_payment.invoice.status == Invoice.Status.REFUNDED and stripe_payment.invoice.refunded_at
    refund = CreditTransaction.objects.get(account=account, transaction_type="refund")
    assert refund.amount == -500 and refund.reference == f"refund:payment:{stripe_payment.pk}"
    assert refund.metadata["shortfall"] == 0
    account.refresh_from_db()
    assert account.credits == 1000
    assert_ledger_consistent(account)
    audit = AuditLog.objects.get(account=account, action="payment.refunded")
    assert audit.changes["credits_recovered"] == 500 and audit.changes["credits_shortfall"] == 0


def test_a_refund_after_the_credits_were_spent_stops_at_zero_and_records_the_shortfall(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))
    deduct_credits(account=account, amount=1200, description="Spent on articles")  # 1500 -> 300

    deliver(api_client, charge_refunded_event(stripe_payment))

    account.refresh_from_db()
    assert account.credits == 0
    refund = CreditTransaction.objects.get(account=account, transaction_type="refund")
    assert refund.amount == -300 and refund.balance_after == 0
    assert refund.metadata["requested"] == 500 and refund.metadata["shortfall"] == 200
    audit = AuditLog.objects.get(account=account, action="payment.refunded")
    assert audit.changes["credits_shortfall"] == 200
    assert_ledger_consistent(account)


def test_a_refund_with_nothing_left_to_take_writes_no_ledger_row_but_records_the_shortfall(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))
    deduct_credits(account=account, amount=1500, description="Spent everything")

    deliver(api_client, charge_refunded_event(stripe_payment))

    account.refresh_from_db()
    assert account.credits == 0
    assert not CreditTransaction.objects.filter(account=account, transaction_type="refund").exists()
    assert (
        AuditLog.objects.get(account=account, action="payment.refunded").changes["credits_shortfall"] == 500
    )
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.REFUNDED
    assert_ledger_consistent(account)


def test_a_refund_that_arrives_before_the_completed_event_means_the_credits_never_arrive(
    api_client, stripe_payment, account
):
    deliver(api_client, charge_refunded_event(stripe_payment))  # found through the charge's metadata
    deliver(api_client, checkout_session_event(stripe_payment))

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.REFUNDED
    assert stripe_payment.invoice.status == Invoice.Status.REFUNDED
    assert stripe_payment.provider_payment_id == "pi_test_1"
    account.refresh_from_db()
    assert account.credits == 1000
    assert purchases_of(account) == []
    assert_ledger_consistent(account)


def test_a_repeated_refund_claws_back_once(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment))
    deliver(api_client, charge_refunded_event(stripe_payment, event_id="evt_r1"))
    deliver(api_client, charge_refunded_event(stripe_payment, event_id="evt_r2"))
    assert CreditTransaction.objects.filter(account=account, transaction_type="refund").count() == 1
    account.refresh_from_db()
    assert account.credits == 1000


def test_a_partial_refund_keeps_the_credits_and_is_left_to_staff_in_the_audit_log(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))
    deliver(api_client, charge_refunded_event(stripe_payment, refunded=False, amount_refunded=300))

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.credits == 1500
    audit = AuditLog.objects.get(account=account, action="payment.partially_refunded")
    assert audit.changes["amount_refunded_minor_units"] == 300


COMPLETED, EXPIRED, REFUNDED = "completed", "expired", "refunded"
EVENT_ORDERS = [
    *itertools.permutations((COMPLETED, EXPIRED, REFUNDED)),
    (COMPLETED, REFUNDED),
    (REFUNDED, COMPLETED),
    (COMPLETED, EXPIRED),
    (EXPIRED, COMPLETED),
    (EXPIRED,),
    (COMPLETED,),
]


def expected_after(order: tuple[str, ...]) -> tuple[str, str, int]:
    """Payment status, invoice status and credits kept, whatever order Stripe delivered the events in."""
    if REFUNDED in order:
        return "refunded", "refunded", 0
    if order[0] == COMPLETED:
        return "succeeded", "paid", 500
    return "failed", "void", 0


@pytest.mark.parametrize("order", EVENT_ORDERS, ids=lambda order: ">".join(order))
def test_events_in_any_order_end_in_the_right_state(api_client, stripe_payment, account, order):
    events = {
        COMPLETED: checkout_session_event(stripe_payment, event_id="evt_completed"),
        EXPIRED: checkout_session_event(
            stripe_payment, event_id="evt_expired", event_type="checkout.session.expired"
        ),
        REFUNDED: charge_refunded_event(stripe_payment, event_id="evt_refunded"),
    }
    for name in order:
        assert deliver(api_client, events[name]).status_code == 200

    stripe_payment.refresh_from_db()
    account.refresh_from_db()
    got = (stripe_payment.status, stripe_payment.invoice.status, account.credits - 1000)
    assert got == expected_after(order)
    assert len(purchases_of(account)) <= 1
    assert_ledger_consistent(account)


# --- Forgeries and noise ---------------------------------------------------------------------------------


def assert_nothing_changed(payment: Payment, account) -> None:
    payment.refresh_from_db()
    account.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.invoice.status == Invoice.Status.PENDING
    assert account.credits == 1000
    assert not StripeEvent.objects.exists()
    assert purchases_of(account) == []


def test_a_webhook_without_a_signature_is_refused(api_client, stripe_payment, account):
    payload = json.dumps(checkout_session_event(stripe_payment))
    response = api_client.post(WEBHOOK_URL, data=payload, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"] == "Invalid Stripe signature." and body["request_id"]
    assert_nothing_changed(stripe_payment, account)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda payload, now: stripe_signature(payload, secret="whsec_attacker"), id="wrong-secret"
        ),
        pytest.param(
            lambda payload, now: stripe_signature(payload, timestamp=now - 301), id="stale-timestamp"
        ),
        pytest.param(lambda payload, now: "t=garbage", id="malformed-header"),
        pytest.param(lambda payload, now: f"t={now},v0=abc", id="no-v1-signature"),
    ],
)
def test_a_forged_or_stale_signature_is_refused(api_client, stripe_payment, account, forge):
    payload = json.dumps(checkout_session_event(stripe_payment))
    response = api_client.post(
        WEBHOOK_URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=forge(payload, int(time.time())),
    )
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert_nothing_changed(stripe_payment, account)


def test_a_tampered_body_is_refused(api_client, stripe_payment, account):
    event = checkout_session_event(stripe_payment, payment_status="unpaid")
    payload, signature = signed_webhook(event)
    tampered = payload.replace('"unpaid"', '"paid"')
    assert tampered != payload
    response = api_client.post(
        WEBHOOK_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert_nothing_changed(stripe_payment, account)


def test_webhooks_are_refused_while_no_webhook_secret_is_configured(
    api_client, stripe_payment, account, settings
):
    event = checkout_session_event(stripe_payment)
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload, signature = signed_webhook(event)
    response = api_client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 400
    assert_nothing_changed(stripe_payment, account)


def test_the_signature_scheme_is_stripes_hmac_over_timestamp_and_raw_body(
    api_client, stripe_payment, account
):
    """Signed by hand, without Stripe's helper: t=<ts>,v1=HMAC-SHA256(secret, "<ts>.<body>")."""
    payload = json.dumps(checkout_session_event(stripe_payment))
    now = int(time.time())
    digest = hmac.new(
        STRIPE_TEST_WEBHOOK_SECRET.encode(), f"{now}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    header = f"t={now},v1={digest}"
    assert header == stripe_signature(payload, timestamp=now)
    response = api_client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200
    assert purchases_of(account) == [500]


def test_the_webhook_needs_no_login_and_no_csrf_token(stripe_payment, account):
    payload, signature = signed_webhook(checkout_session_event(stripe_payment))
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200
    assert purchases_of(account) == [500]


def test_the_webhook_only_accepts_post(api_client):
    response = api_client.get(WEBHOOK_URL)
    assert response.status_code == 405
    assert response.json()["success"] is False


def test_events_of_other_types_or_for_sessions_we_did_not_create_are_acknowledged_and_ignored(
    api_client, stripe_payment, account
):
    unknown_type = {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    assert deliver(api_client, unknown_type).json()["data"]["outcome"] == WebhookOutcome.IGNORED
    foreign = checkout_session_event(stripe_payment, event_id="evt_foreign")
    foreign["data"]["object"]["id"] = "cs_someone_else"
    foreign["data"]["object"]["metadata"] = {"payment_id": str(stripe_payment.pk)}
    response = deliver(api_client, foreign)
    assert response.status_code == 200 and response.json()["data"]["outcome"] == WebhookOutcome.IGNORED
    assert_nothing_changed(stripe_payment, account)


def test_a_checkout_in_another_currency_is_charged_in_its_smallest_unit(owner_client, checkout):
    package = CreditPackageFactory(price=Decimal("1200"), currency="JPY")
    owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": "stripe"}, format="json"
    )
    price_data = checkout.calls[0]["line_items"][0]["price_data"]
    assert price_data["currency"] == "jpy" and price_data["unit_amount"] == 1200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("key", [None, "card-tx"])
def test_no_database_transaction_is_open_while_stripe_answers(
    package, checkout, make_account, make_member, key
):
    from creditdesk.conftest import bearer_client

    owner = make_member(make_account(), role="owner")
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    response = bearer_client(owner).post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "stripe"},
        format="json",
        **headers,
    )
    assert response.status_code == 201, response.content
    assert checkout.inside_transaction == [False]
    if key is not None:  # the answer was stored with the purchase, for a repeat to replay
        record = IdempotencyKey.objects.get(key=key)
        assert record.response_status == 201
        assert record.resource == f"payment:{response.json()['data']['payment']['id']}"
    payment = Payment.objects.get(pk=response.json()["data"]["payment"]["id"])
    assert payment.provider_reference == "cs_test_1" and payment.invoice.invoice_number.startswith("INV-")


# --- Matching: an event acts only on the payment it really belongs to -------------------------------------


def assert_flagged_for_staff(payment: Payment, *, reason_contains: str) -> None:
    payment.invoice.refresh_from_db()
    assert payment.invoice.needs_review is True
    assert reason_contains in payment.invoice.review_reason
    audit = AuditLog.objects.get(account=payment.account, action="payment.webhook_mismatch")
    assert reason_contains in audit.changes["reason"]


def test_a_refund_carrying_another_payment_intent_and_a_real_payments_metadata_refunds_nothing(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))  # stores pi_test_1
    forged = charge_refunded_event(stripe_payment, event_id="evt_forged", payment_intent="pi_attacker")
    forged["data"]["object"]["currency"] = "eur"
    forged["data"]["object"]["amount"] = forged["data"]["object"]["amount_refunded"] = 100

    response = deliver(api_client, forged)

    assert response.status_code == 200 and response.json()["data"]["outcome"] == WebhookOutcome.FLAGGED
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    assert stripe_payment.provider_payment_id == "pi_test_1"
    assert stripe_payment.invoice.status == Invoice.Status.PAID
    account.refresh_from_db()
    assert account.credits == 1500
    assert not CreditTransaction.objects.filter(account=account, transaction_type="refund").exists()
    assert_flagged_for_staff(stripe_payment, reason_contains="payment intent")
    assert_ledger_consistent(account)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        pytest.param("currency", "eur", "currency", id="currency"),
        pytest.param("amount", 1, "amount", id="amount"),
    ],
)
def test_a_refund_of_our_payment_intent_in_another_currency_or_amount_is_flagged_not_acted_on(
    api_client, stripe_payment, account, field, value, reason
):
    deliver(api_client, checkout_session_event(stripe_payment))
    refund = charge_refunded_event(stripe_payment, event_id="evt_odd")
    refund["data"]["object"][field] = value

    assert deliver(api_client, refund).json()["data"]["outcome"] == WebhookOutcome.FLAGGED

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.SUCCEEDED
    account.refresh_from_db()
    assert account.credits == 1500
    assert_flagged_for_staff(stripe_payment, reason_contains=reason)


def test_a_refund_of_our_payment_intent_that_names_another_account_is_flagged_not_acted_on(
    api_client, stripe_payment, account
):
    deliver(api_client, checkout_session_event(stripe_payment))
    refund = charge_refunded_event(stripe_payment, event_id="evt_other_account")
    refund["data"]["object"]["metadata"]["account_id"] = str(account.pk + 1000)

    assert deliver(api_client, refund).json()["data"]["outcome"] == WebhookOutcome.FLAGGED

    account.refresh_from_db()
    assert account.credits == 1500
    assert_flagged_for_staff(stripe_payment, reason_contains="account")


def test_an_early_refund_found_by_metadata_must_match_account_currency_and_amount(
    api_client, stripe_payment, account
):
    early = charge_refunded_event(stripe_payment, event_id="evt_early", payment_intent="pi_unknown")
    early["data"]["object"]["amount"] = 1

    assert deliver(api_client, early).json()["data"]["outcome"] == WebhookOutcome.FLAGGED

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.PENDING and stripe_payment.provider_payment_id == ""
    assert stripe_payment.invoice.status == Invoice.Status.PENDING


def test_a_flagged_event_delivered_again_is_a_duplicate_and_flags_once(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment))
    forged = charge_refunded_event(stripe_payment, event_id="evt_forged", payment_intent="pi_attacker")
    outcomes = [deliver(api_client, forged).json()["data"]["outcome"] for _ in range(2)]
    assert outcomes == [WebhookOutcome.FLAGGED, WebhookOutcome.DUPLICATE]
    assert AuditLog.objects.filter(account=account, action="payment.webhook_mismatch").count() == 1


@pytest.mark.parametrize(
    ("amount_total", "currency", "reason"),
    [
        pytest.param(1, "jpy", "currency", id="1-jpy-for-a-usd-invoice"),
        pytest.param(100, "usd", "amount", id="1-usd-for-a-9-usd-invoice"),
        pytest.param(None, "usd", "amount", id="no-amount"),
    ],
)
def test_a_completed_checkout_that_paid_another_amount_or_currency_leaves_the_invoice_open_and_flagged(
    api_client, stripe_payment, account, amount_total, currency, reason
):
    event = checkout_session_event(stripe_payment)
    event["data"]["object"]["amount_total"] = amount_total
    event["data"]["object"]["currency"] = currency

    response = deliver(api_client, event)

    assert response.status_code == 200 and response.json()["data"]["outcome"] == WebhookOutcome.FLAGGED
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.PENDING
    assert stripe_payment.invoice.status == Invoice.Status.PENDING and stripe_payment.invoice.paid_at is None
    assert purchases_of(account) == []
    account.refresh_from_db()
    assert account.credits == 1000
    assert_flagged_for_staff(stripe_payment, reason_contains=reason)


def test_an_async_success_that_paid_another_amount_grants_nothing(api_client, stripe_payment, account):
    deliver(api_client, checkout_session_event(stripe_payment, event_id="evt_c", payment_status="unpaid"))
    event = checkout_session_event(
        stripe_payment, event_id="evt_s", event_type="checkout.session.async_payment_succeeded"
    )
    event["data"]["object"]["amount_total"] = 1

    assert deliver(api_client, event).json()["data"]["outcome"] == WebhookOutcome.FLAGGED

    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.PROCESSING
    assert stripe_payment.invoice.status == Invoice.Status.PENDING
    assert purchases_of(account) == []


def test_a_zero_decimal_currency_checkout_that_paid_the_full_amount_grants(
    owner_client, api_client, checkout
):
    package = CreditPackageFactory(price=Decimal("1200"), currency="JPY", credits=100)
    owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": "stripe"}, format="json"
    )
    payment = Payment.objects.get()
    event = checkout_session_event(payment)
    event["data"]["object"]["amount_total"] = 1200

    assert deliver(api_client, event).json()["data"]["outcome"] == WebhookOutcome.PROCESSED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert purchases_of(payment.account) == [100]


def test_staff_find_the_flagged_invoices_with_the_admins_needs_review_filter(
    api_client, stripe_payment, owner_client, package, checkout
):
    deliver(api_client, checkout_session_event(stripe_payment))
    deliver(api_client, charge_refunded_event(stripe_payment, event_id="evt_forged", payment_intent="pi_x"))
    owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": "stripe"}, format="json"
    )
    unflagged = Invoice.objects.exclude(pk=stripe_payment.invoice_id).get()
    staff = get_user_model().objects.create_superuser("staff@creditdesk.test", "staff-password-123")
    admin = Client()
    admin.force_login(staff)

    page = admin.get("/admin/billing/invoice/?needs_review__exact=1").content.decode()

    assert stripe_payment.invoice.invoice_number in page and "payment intent pi_x" in page
    assert unflagged.invoice_number not in page
    payments_page = admin.get("/admin/billing/payment/?invoice__needs_review__exact=1")
    assert payments_page.status_code == 200


def test_a_purchase_whose_server_stopped_before_the_providers_answer_is_given_up_by_the_sweep(
    owner_client, account, package
):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.invoices import create_invoice
    from creditdesk.billing.services.payments import abandon_unstarted_purchases, create_payment

    # What a kill between the two transactions leaves: a draft and a payment nobody was sent to pay.
    package.refresh_from_db()  # the factory left its price a str
    invoice = create_invoice(account=account, package=package)
    payment = create_payment(invoice=invoice, payment_method="stripe")
    assert abandon_unstarted_purchases() == 0  # still within PURCHASE_START_TIMEOUT_SECONDS

    later = timezone.now() + timedelta(minutes=11)
    assert abandon_unstarted_purchases(now=later) == 1
    assert abandon_unstarted_purchases(now=later) == 0
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == Payment.Status.FAILED and "never finished starting" in payment.failure_reason
    assert invoice.status == Invoice.Status.DRAFT and not InvoiceSequence.objects.exists()
    assert (
        AuditLog.objects.filter(action="credits.purchase_failed", target=invoice.invoice_number).count() == 1
    )


def test_the_sweep_leaves_a_started_purchase_alone(stripe_payment):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.payments import abandon_unstarted_purchases

    assert abandon_unstarted_purchases(now=timezone.now() + timedelta(days=1)) == 0
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == Payment.Status.PENDING
    assert stripe_payment.invoice.invoice_number.startswith("INV-")

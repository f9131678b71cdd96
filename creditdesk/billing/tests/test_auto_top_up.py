"""Auto top-up: a crossing of the armed threshold records one attempt inside the deduction's transaction
and starts one off-session charge; credits come through the one success path; a failure pauses the rule,
emits payment.failed once and mails the owners. Only Stripe's network is faked (PaymentIntent.create,
checkout.Session.create, Customer.create, SetupIntent.retrieve); webhooks are signed by Stripe's library.
"""

import itertools
from decimal import Decimal

import pytest
import stripe
from django.core import mail
from django.db import transaction
from django.test import Client

from creditdesk.billing.models import (
    AutoTopUp,
    AutoTopUpAttempt,
    CreditTransaction,
    Invoice,
    Payment,
    PaymentMethodConfig,
)
from creditdesk.billing.services.ledger import deduct_credits, grant_credits
from creditdesk.billing.services.topup import idempotency_key, update_rule
from creditdesk.billing.tests.factories import (
    STRIPE_TEST_SECRET_KEY,
    STRIPE_TEST_WEBHOOK_SECRET,
    CreditPackageFactory,
    signed_webhook,
)
from creditdesk.events.models import Event
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db

RULE_URL = "/api/v1/billing/auto-top-up/"
CARD_URL = "/api/v1/billing/auto-top-up/card/"
WEBHOOK_URL = "/api/v1/billing/webhooks/stripe/"
event_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def stripe_configured(settings):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET
    settings.STRIPE_WEBHOOK_TOLERANCE = 300
    settings.SITE_URL = "https://app.creditdesk.test"
    for method in ("stripe", "sandbox"):
        PaymentMethodConfig.objects.update_or_create(
            payment_method=method, defaults={"is_enabled": True, "display_name": method}
        )


class FakeStripe:
    """Stands in for Stripe's API only: records what we sent and answers like Stripe would."""

    def __init__(self) -> None:
        self.intents: list[dict] = []
        self.sessions: list[dict] = []
        self.intent_error: Exception | None = None
        self.retrieved: list[str] = []
        self.intent_status = "processing"  # what a later retrieve of any intent answers
        self.intent_overrides: dict[str, object] = {}

    def create_intent(self, **params: object) -> stripe.PaymentIntent:
        self.intents.append(params)
        if self.intent_error is not None:
            raise self.intent_error
        return stripe.PaymentIntent.construct_from(
            {
                "id": f"pi_topup_{params['idempotency_key']}",
                "object": "payment_intent",
                "status": "processing",
                "amount": params["amount"],
                "currency": params["currency"],
                "metadata": params["metadata"],
            },
            STRIPE_TEST_SECRET_KEY,
        )

    def retrieve_intent(self, intent_id: str, **params: object) -> stripe.PaymentIntent:
        self.retrieved.append(intent_id)
        sent = next(p for p in self.intents if f"pi_topup_{p['idempotency_key']}" == intent_id)
        return stripe.PaymentIntent.construct_from(
            {
                "id": intent_id,
                "object": "payment_intent",
                "status": self.intent_status,
                "amount": sent["amount"],
                "currency": sent["currency"],
                "metadata": sent["metadata"],
                "last_payment_error": {"message": "Your card was declined."}
                if self.intent_status == "requires_payment_method"
                else None,
            }
            | self.intent_overrides,
            STRIPE_TEST_SECRET_KEY,
        )

    def create_session(self, **params: object) -> stripe.checkout.Session:
        self.sessions.append(params)
        session_id = f"cs_setup_{len(self.sessions)}"
        return stripe.checkout.Session.construct_from(
            {"id": session_id, "url": f"https://checkout.stripe.com/c/setup/{session_id}"},
            STRIPE_TEST_SECRET_KEY,
        )

    def create_customer(self, **params: object) -> stripe.Customer:
        return stripe.Customer.construct_from({"id": "cus_acme"}, STRIPE_TEST_SECRET_KEY)

    def retrieve_setup_intent(self, setup_intent_id: str, **params: object) -> stripe.SetupIntent:
        return stripe.SetupIntent.construct_from(
            {
                "id": setup_intent_id,
                "customer": "cus_acme",
                "payment_method": {"id": "pm_card_visa", "card": {"brand": "visa", "last4": "4242"}},
            },
            STRIPE_TEST_SECRET_KEY,
        )


@pytest.fixture
def fake_stripe(monkeypatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setattr(stripe.PaymentIntent, "create", fake.create_intent)
    monkeypatch.setattr(stripe.PaymentIntent, "retrieve", fake.retrieve_intent)
    monkeypatch.setattr(stripe.checkout.Session, "create", fake.create_session)
    monkeypatch.setattr(stripe.Customer, "create", fake.create_customer)
    monkeypatch.setattr(stripe.SetupIntent, "retrieve", fake.retrieve_setup_intent)
    return fake


@pytest.fixture
def package():
    return CreditPackageFactory(credits=500, price="9.00", currency="USD")


def post_webhook(event: dict) -> dict:
    payload, signature = signed_webhook(event)
    response = Client().post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


def intent_event(payment: Payment, *, event_type: str, message: str = "") -> dict:
    obj = {
        "id": payment.provider_payment_id,
        "object": "payment_intent",
        "amount": int(payment.amount * 100),
        "amount_received": int(payment.amount * 100) if event_type.endswith("succeeded") else 0,
        "currency": payment.currency.lower(),
        "metadata": {"payment_id": str(payment.pk), "account_id": str(payment.account_id)},
        "last_payment_error": {"message": message} if message else None,
    }
    return {
        "id": f"evt_topup_{next(event_ids)}",
        "object": "event",
        "type": event_type,
        "data": {"object": obj},
    }


def arm(account, package, *, card: str = "sandbox", threshold: int = 500, **limits) -> AutoTopUp:
    AutoTopUp.objects.update_or_create(
        account=account,
        defaults={
            "card_provider": card,
            "card_last4": "4242",
            "stripe_customer_id": "cus_acme" if card == "stripe" else "",
            "stripe_payment_method_id": "pm_card_visa" if card == "stripe" else "",
        },
    )
    rule = update_rule(
        account=account, actor=None, is_enabled=True, threshold=threshold, package_id=package.pk, **limits
    )
    account.refresh_from_db()
    return rule


def spend(account, amount: int) -> None:
    deduct_credits(account=account, amount=amount, description="test spend")


def test_one_crossing_records_one_attempt_and_starts_one_stripe_charge_keyed_by_the_attempt(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 400)  # 1000 -> 600: above
        spend(account, 200)  # 600 -> 400: the crossing
        spend(account, 100)  # still below: no new crossing

    attempt = AutoTopUpAttempt.objects.get(account=account)
    assert (attempt.status, attempt.balance_before, attempt.balance_after) == ("charging", 600, 400)
    assert len(fake_stripe.intents) == 1
    sent = fake_stripe.intents[0]
    assert sent["off_session"] is True and sent["confirm"] is True
    assert (sent["customer"], sent["payment_method"]) == ("cus_acme", "pm_card_visa")
    assert sent["idempotency_key"] == idempotency_key(attempt.pk)
    assert (sent["amount"], sent["currency"]) == (900, "usd")  # the package's price, no tax in tests
    payment = attempt.payment
    assert (
        payment.status == "pending"
        and payment.provider_payment_id == f"pi_topup_{idempotency_key(attempt.pk)}"
    )
    account.refresh_from_db()
    assert account.credits == 300  # no credits before Stripe confirms


def test_a_rerun_charge_task_does_not_charge_or_invoice_twice(account, package, fake_stripe):
    from creditdesk.billing.services.topup import charge_attempt

    arm(account, package, card="stripe")
    spend(account, 600)  # on_commit does not run here: the attempt is still pending
    attempt = AutoTopUpAttempt.objects.get(account=account)
    assert attempt.status == "pending"
    charge_attempt(attempt_id=attempt.pk)
    charge_attempt(attempt_id=attempt.pk)
    assert len(fake_stripe.intents) == 1
    assert Payment.objects.filter(account=account).count() == 1


def test_stripe_confirmation_grants_the_package_once_through_the_success_path(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)
    payment = AutoTopUpAttempt.objects.get(account=account).payment
    event = intent_event(payment, event_type="payment_intent.succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(event)["outcome"] == "processed"
        assert post_webhook(event)["outcome"] == "duplicate"
        again = intent_event(payment, event_type="payment_intent.succeeded")
        post_webhook(again)  # a second event id for the same intent finds the payment settled

    account.refresh_from_db()
    assert account.credits == 400 + 500
    purchases = CreditTransaction.objects.filter(account=account, transaction_type="purchase")
    assert [row.amount for row in purchases] == [500]
    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.invoice.status == Invoice.Status.PAID
    assert AutoTopUpAttempt.objects.get(account=account).status == "succeeded"
    assert Event.objects.filter(account=account, type="payment.succeeded").count() == 1


def test_a_sandbox_card_tops_up_at_once_and_the_next_crossing_tops_up_again(
    account, package, django_capture_on_commit_callbacks
):
    arm(account, package)
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)  # 400 -> +500 = 900
    account.refresh_from_db()
    assert account.credits == 900
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 500)  # 900 -> 400: a new crossing
    account.refresh_from_db()
    assert account.credits == 900
    assert list(AutoTopUpAttempt.objects.filter(account=account).values_list("status", flat=True)) == [
        "succeeded",
        "succeeded",
    ]


def test_the_monthly_count_limit_stops_further_top_ups(account, package, django_capture_on_commit_callbacks):
    arm(account, package, max_per_month=1)
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)  # tops up to 900
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 500)  # crosses again: over the limit
    account.refresh_from_db()
    assert account.credits == 400
    assert AutoTopUpAttempt.objects.filter(account=account).count() == 1


def test_the_monthly_money_limit_stops_a_top_up_that_would_exceed_it(
    account, package, django_capture_on_commit_callbacks
):
    arm(account, package, max_amount_per_month=Decimal("17.99"))  # one 9.00 pack fits, two do not
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 500)
    assert AutoTopUpAttempt.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.credits == 400


def test_a_declined_card_pauses_auto_top_up_emits_payment_failed_once_and_mails_the_owners(
    account, owner, package, fake_stripe, django_capture_on_commit_callbacks
):
    arm(account, package, card="stripe")
    fake_stripe.intent_error = stripe.CardError("Your card was declined.", "card_declined", "card_declined")
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)
    attempt = AutoTopUpAttempt.objects.get(account=account)
    payment = attempt.payment
    # Stripe also reports the declined intent by webhook; it must not fail, mail or emit again.
    payment.provider_payment_id = "pi_declined"
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(intent_event(payment, event_type="payment_intent.payment_failed", message="declined"))

    assert attempt.status == "failed" and "declined" in attempt.failure_reason
    rule = AutoTopUp.objects.get(account=account)
    assert rule.paused_reason.startswith("The card was not charged")
    account.refresh_from_db()
    assert account.auto_top_up_below == 0 and account.credits == 400
    assert Event.objects.filter(account=account, type="payment.failed").count() == 1
    assert [m.to for m in mail.outbox if "auto top-up failed" in m.subject] == [["owner@acme.test"]]
    assert AuditLog.objects.filter(account=account, action="auto_top_up.paused").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 100)  # paused: no new attempt
    assert AutoTopUpAttempt.objects.filter(account=account).count() == 1


def test_a_payment_failed_webhook_pauses_and_reenabling_resumes(
    account, owner, package, fake_stripe, django_capture_on_commit_callbacks
):
    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)
    payment = AutoTopUpAttempt.objects.get(account=account).payment
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(
            intent_event(payment, event_type="payment_intent.payment_failed", message="Insufficient funds")
        )
    rule = AutoTopUp.objects.get(account=account)
    assert rule.paused_reason == "The card was not charged: Insufficient funds"
    assert Event.objects.filter(account=account, type="payment.failed").count() == 1
    assert len([m for m in mail.outbox if "auto top-up failed" in m.subject]) == 1

    response = bearer_client_for(owner).put(RULE_URL, {"is_enabled": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "active"
    account.refresh_from_db()
    assert account.auto_top_up_below == 500


def test_a_rolled_back_deduction_records_no_attempt_and_charges_nothing(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        spend(account, 600)
        raise RuntimeError("the caller's work failed")
    assert AutoTopUpAttempt.objects.count() == 0
    assert fake_stripe.intents == []


def test_a_grant_that_lifts_the_balance_is_no_crossing(account, package, django_capture_on_commit_callbacks):
    arm(account, package)
    with django_capture_on_commit_callbacks(execute=True):
        grant_credits(account=account, amount=10, description="gift")
    assert AutoTopUpAttempt.objects.count() == 0


def bearer_client_for(user):
    from creditdesk.conftest import bearer_client

    return bearer_client(user)


def test_an_owner_saves_a_sandbox_card_and_enables_the_rule_through_the_api(owner_client, account, package):
    saved = owner_client.post(CARD_URL, {"payment_method": "sandbox"}, format="json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["data"]["next_action"] == {"type": "completed"}
    assert saved.json()["data"]["auto_top_up"]["card"]["last4"] == "4242"

    response = owner_client.put(
        RULE_URL,
        {"is_enabled": True, "threshold": 300, "package_id": package.pk, "max_amount_per_month": "50.00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()["data"]
    assert body["status"] == "active"
    assert (body["threshold"], body["package_id"], body["max_amount_per_month"]) == (300, package.pk, "50.00")
    assert body["this_month"] == {"count": 0, "amount": "0.00", "currency": "USD"}
    account.refresh_from_db()
    assert account.auto_top_up_below == 300
    assert AuditLog.objects.filter(account=account, action="auto_top_up.updated").count() == 1
    assert AuditLog.objects.filter(account=account, action="auto_top_up.card_saved").count() == 1


def test_stripe_card_setup_redirects_to_checkout_in_setup_mode_and_the_webhook_stores_the_card(
    owner_client, account, fake_stripe
):
    response = owner_client.post(CARD_URL, {"payment_method": "stripe"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["next_action"] == {
        "type": "redirect",
        "url": "https://checkout.stripe.com/c/setup/cs_setup_1",
    }
    sent = fake_stripe.sessions[0]
    assert (sent["mode"], sent["customer"]) == ("setup", "cus_acme")

    event = {
        "id": "evt_setup_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_setup_1",
                "object": "checkout.session",
                "mode": "setup",
                "customer": "cus_acme",
                "setup_intent": "seti_1",
            }
        },
    }
    assert post_webhook(event)["outcome"] == "processed"
    assert post_webhook(event)["outcome"] == "duplicate"
    rule = AutoTopUp.objects.get(account=account)
    assert (rule.card_provider, rule.stripe_customer_id, rule.stripe_payment_method_id) == (
        "stripe",
        "cus_acme",
        "pm_card_visa",
    )
    assert (rule.card_brand, rule.card_last4) == ("visa", "4242")


def test_a_setup_session_we_did_not_start_is_ignored(account, fake_stripe):
    event = {
        "id": "evt_setup_x",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_unknown", "mode": "setup", "setup_intent": "seti_x"}},
    }
    assert post_webhook(event)["outcome"] == "ignored"
    assert not AutoTopUp.objects.filter(card_provider="stripe").exists()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MEMBER])
def test_only_owners_change_auto_top_up(client_for, role, package):
    client = client_for(role)
    assert client.put(RULE_URL, {"threshold": 10}, format="json").status_code == 403
    assert client.post(CARD_URL, {}, format="json").status_code == 403


def test_admins_read_the_rule_and_members_do_not(client_for):
    assert client_for(Role.ADMIN).get(RULE_URL).status_code == 200
    assert client_for(Role.MEMBER).get(RULE_URL).status_code == 403


def test_enabling_without_a_card_is_a_400_that_changes_nothing(owner_client, account, package):
    response = owner_client.put(
        RULE_URL, {"is_enabled": True, "threshold": 100, "package_id": package.pk}, format="json"
    )
    assert response.status_code == 400
    assert "is_enabled" in response.json()["errors"]
    assert not AutoTopUp.objects.filter(account=account, is_enabled=True).exists()


def test_unknown_or_read_only_fields_are_refused(owner_client):
    response = owner_client.put(RULE_URL, {"paused_reason": "", "card_last4": "0000"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"paused_reason", "card_last4"}


def test_one_accounts_rule_is_not_visible_to_another(owner_client, other_client, account, package):
    owner_client.post(CARD_URL, {"payment_method": "sandbox"}, format="json")
    body = other_client.get(RULE_URL).json()["data"]
    assert body["card"] is None and body["status"] == "no_card"


def test_an_attempt_whose_task_was_lost_is_charged_by_the_periodic_sweep(account, package, fake_stripe):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.topup import charge_stale_attempts

    arm(account, package, card="stripe")
    spend(account, 600)  # on_commit does not run here: as if the enqueue was lost
    assert charge_stale_attempts() == 0  # too young: its task may still be on its way
    AutoTopUpAttempt.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    assert charge_stale_attempts() == 1
    assert AutoTopUpAttempt.objects.get(account=account).status == "charging"
    assert len(fake_stripe.intents) == 1


def test_a_batch_of_debits_that_crosses_the_threshold_records_one_attempt(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    from creditdesk.billing.services.ledger import PlannedDebit, debit_many

    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True):
        debit_many(
            account=account,
            debits=[PlannedDebit(amount=300, description="batch", metadata={}) for _ in range(3)],
        )
    attempt = AutoTopUpAttempt.objects.get(account=account)
    assert (attempt.balance_before, attempt.balance_after) == (1000, 100)
    assert len(fake_stripe.intents) == 1


def charging_attempt(account, package, django_capture_on_commit_callbacks) -> AutoTopUpAttempt:
    """An attempt Stripe was asked to charge, whose webhook has not come for 20 minutes."""
    from datetime import timedelta

    from django.utils import timezone

    arm(account, package, card="stripe")
    with django_capture_on_commit_callbacks(execute=True):
        spend(account, 600)
    attempt = AutoTopUpAttempt.objects.get(account=account)
    assert attempt.status == "charging"
    AutoTopUpAttempt.objects.update(updated_at=timezone.now() - timedelta(minutes=20))
    return attempt


def test_a_charge_whose_webhook_was_lost_is_settled_by_asking_stripe_and_unblocks_the_next_top_up(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    from creditdesk.billing.services.topup import reconcile_charging_attempts

    attempt = charging_attempt(account, package, django_capture_on_commit_callbacks)
    assert reconcile_charging_attempts() == 0  # Stripe is still processing: nothing decided
    assert AutoTopUpAttempt.objects.get(pk=attempt.pk).status == "charging"

    fake_stripe.intent_status = "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        assert reconcile_charging_attempts() == 1
        assert reconcile_charging_attempts() == 0  # settled once
    assert fake_stripe.retrieved == [attempt.payment.provider_payment_id] * 2
    account.refresh_from_db()
    assert account.credits == 400 + 500
    assert AutoTopUpAttempt.objects.get(pk=attempt.pk).status == "succeeded"
    assert [
        r.amount for r in CreditTransaction.objects.filter(account=account, transaction_type="purchase")
    ] == [500]

    # The late webhook changes nothing, and the next crossing tops up again.
    late = intent_event(attempt.payment, event_type="payment_intent.succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(late)
        spend(account, 600)  # 900 -> 300: a new crossing
    account.refresh_from_db()
    assert account.credits == 300
    assert AutoTopUpAttempt.objects.filter(account=account).count() == 2
    assert len(fake_stripe.intents) == 2


def test_a_charge_stripe_declined_without_a_webhook_fails_and_pauses_the_rule(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    from creditdesk.billing.services.topup import reconcile_charging_attempts

    attempt = charging_attempt(account, package, django_capture_on_commit_callbacks)
    fake_stripe.intent_status = "requires_payment_method"
    assert reconcile_charging_attempts() == 1
    attempt.refresh_from_db()
    assert attempt.status == "failed" and "declined" in attempt.failure_reason
    assert AutoTopUp.objects.get(account=account).paused_reason
    assert Payment.objects.get(pk=attempt.payment_id).status == "failed"
    account.refresh_from_db()
    assert account.credits == 400  # nothing granted


def test_a_reconciled_intent_that_does_not_match_the_payment_is_flagged_once_and_grants_nothing(
    account, package, fake_stripe, django_capture_on_commit_callbacks
):
    from creditdesk.billing.services.topup import reconcile_charging_attempts

    attempt = charging_attempt(account, package, django_capture_on_commit_callbacks)
    fake_stripe.intent_status = "succeeded"
    fake_stripe.intent_overrides = {"amount": 1}
    assert reconcile_charging_attempts() == 0
    assert reconcile_charging_attempts() == 0
    assert fake_stripe.retrieved == [attempt.payment.provider_payment_id]  # flagged, then left to staff
    invoice = Invoice.objects.get(pk=attempt.payment.invoice_id)
    assert invoice.needs_review and "amount" in invoice.review_reason
    account.refresh_from_db()
    assert account.credits == 400

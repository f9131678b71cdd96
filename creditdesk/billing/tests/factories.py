import json
import threading
import time
from typing import Any

import factory
import stripe
from django.db import connection

from creditdesk.billing.models import CreditPackage, Payment
from creditdesk.core.money import minor_units

STRIPE_TEST_SECRET_KEY = "sk_test_creditdesk"
STRIPE_TEST_WEBHOOK_SECRET = "whsec_test_creditdesk"


class CreditPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    slug = factory.Sequence(lambda n: f"pack-{n}")
    credits = 500
    price = "9.00"


def checkout_session_event(
    payment: Payment,
    *,
    event_type: str = "checkout.session.completed",
    event_id: str = "evt_completed_1",
    payment_status: str = "paid",
    payment_intent: str = "pi_test_1",
) -> dict[str, Any]:
    """A Checkout Session event shaped like Stripe's, for the session `payment` was started with."""
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "checkout.session",
                "mode": "payment",
                "payment_status": payment_status,
                "status": "expired" if event_type.endswith("expired") else "complete",
                "payment_intent": payment_intent,
                "amount_total": minor_units(payment.amount, payment.currency),
                "currency": payment.currency.lower(),
                "client_reference_id": str(payment.pk),
                "metadata": {"payment_id": str(payment.pk), "invoice_id": str(payment.invoice_id)},
            }
        },
    }


def charge_refunded_event(
    payment: Payment,
    *,
    event_id: str = "evt_refunded_1",
    payment_intent: str = "pi_test_1",
    refunded: bool = True,
    amount_refunded: int | None = None,
) -> dict[str, Any]:
    amount = minor_units(payment.amount, payment.currency)
    return {
        "id": event_id,
        "object": "event",
        "type": "charge.refunded",
        "created": int(time.time()),
        "livemode": False,
        "data": {
            "object": {
                "id": "ch_test_1",
                "object": "charge",
                "amount": amount,
                "amount_refunded": amount if amount_refunded is None else amount_refunded,
                "currency": payment.currency.lower(),
                "payment_intent": payment_intent,
                "refunded": refunded,
                "metadata": {
                    "payment_id": str(payment.pk),
                    "invoice_id": str(payment.invoice_id),
                    "account_id": str(payment.account_id),
                },
            }
        },
    }


def stripe_signature(
    payload: str, *, secret: str = STRIPE_TEST_WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    """The Stripe-Signature header, made by Stripe's own library with its real scheme (t=..,v1=hmac)."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def signed_webhook(event: dict[str, Any], **kwargs: Any) -> tuple[str, str]:
    payload = json.dumps(event)
    return payload, stripe_signature(payload, **kwargs)


class ServerKilled(BaseException):
    """Stands for the process dying (SIGKILL): nothing after it runs, not even `except Exception`."""


class FakeCheckout:
    """Stands in for Stripe's network only: records what we sent and answers like Stripe would, including
    its Idempotency-Key (a repeat of a key gets the first call's session back, no second session).

    `die` simulates the server dying around the call: "before" (Stripe never called) or "after" (the
    session was created but the answer never came back to be stored)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.error: Exception | None = None
        self.die: str | None = None
        self.delay = 0.0
        self.inside_transaction: list[bool] = []
        self.sessions: dict[str, stripe.checkout.Session] = {}
        self._lock = threading.Lock()

    def create(self, *, idempotency_key: str | None = None, **params: object) -> stripe.checkout.Session:
        if self.die == "before":
            self.die = None
            raise ServerKilled
        with self._lock:
            self.calls.append(params)
            self.inside_transaction.append(connection.in_atomic_block)
        time.sleep(self.delay)
        if self.error is not None:
            raise self.error
        with self._lock:
            session = self.sessions.get(idempotency_key) if idempotency_key else None
            if session is None:
                session_id = f"cs_test_{len(self.sessions) + 1}"
                session = stripe.checkout.Session.construct_from(
                    {
                        "id": session_id,
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
                    },
                    STRIPE_TEST_SECRET_KEY,
                )
                self.sessions[idempotency_key or session_id] = session
        if self.die == "after":
            self.die = None
            raise ServerKilled
        return session

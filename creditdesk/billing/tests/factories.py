import json
import time
from typing import Any

import factory
import stripe

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

"""Stripe's webhook: verify the signature on the raw body, then apply each event id exactly once.

An event acts only on the payment it really belongs to. A checkout session is found by the session id we
stored when we created it, and must have paid the invoice's amount in its currency. A charge is found by
the payment intent we stored at the checkout's completion (by its metadata only while no intent is stored
yet), and must carry that intent, our account, the payment's currency and amount. Anything else is a
mismatch: the invoice is flagged for staff and an audit row written, and nothing is granted or refunded.

The StripeEvent row is inserted in the same transaction as the event's effect: a repeated delivery, even
a concurrent one, hits the unique event id and changes nothing; a failed one leaves no row, so Stripe's
retry applies it. Order does not matter either: the payment services only move a payment forward from
the states that allow it (see services/payments.py).
"""

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from creditdesk.billing.models import Payment, PaymentMethod, StripeEvent
from creditdesk.billing.services import payments, topup
from creditdesk.core.exceptions import json_data_response, json_error_response
from creditdesk.core.money import minor_units
from creditdesk.tenancy.audit import AuditAction

logger = logging.getLogger(__name__)

Handler = Callable[[Payment, dict[str, Any], str], None]


def _paid(payment: Payment, session: dict[str, Any], source: str) -> None:
    intent = session.get("payment_intent") or ""
    if not payments.mark_payment_succeeded(payment=payment, source=source, provider_payment_id=intent):
        payments.flag_payment_after_failure(payment=payment, source=source)


def _session_completed(payment: Payment, session: dict[str, Any], source: str) -> None:
    intent = session.get("payment_intent") or ""
    if session.get("payment_status") == "paid":
        _paid(payment, session, source)
    else:  # a delayed method (e.g. a bank debit): async_payment_succeeded or _failed follows
        payments.mark_payment_processing(payment=payment, source=source, provider_payment_id=intent)


def _async_payment_failed(payment: Payment, session: dict[str, Any], source: str) -> None:
    payments.fail_payment(payment=payment, reason="The payment failed at the bank.", source=source)


def _session_expired(payment: Payment, session: dict[str, Any], source: str) -> None:
    # Only an untouched checkout expires; one that was completed (paid or processing) stays as it is.
    payments.fail_payment(
        payment=payment,
        reason="The checkout expired before it was paid.",
        source=source,
        only_from=frozenset({Payment.Status.PENDING}),
        audit_action=AuditAction.PAYMENT_EXPIRED,
    )


def _charge_refunded(payment: Payment, charge: dict[str, Any], source: str) -> None:
    if charge.get("refunded"):
        payments.refund_payment(
            payment=payment, source=source, provider_payment_id=charge.get("payment_intent") or ""
        )
    else:
        payments.record_partial_refund(
            payment=payment,
            source=source,
            amount_refunded=int(charge.get("amount_refunded") or 0),
            currency=str(charge.get("currency") or ""),
        )


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _paid,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
    # Off-session charges of auto top-up (services/topup.py); only top-up payments are found for these.
    "payment_intent.succeeded": topup.intent_succeeded,
    "payment_intent.payment_failed": topup.intent_failed,
}


def _checkout_mismatch(payment: Payment, session: dict[str, Any]) -> str:
    invoice = payment.invoice
    paid_currency = str(session.get("currency") or "").upper()
    if paid_currency != invoice.currency.upper():
        return f"paid currency {paid_currency or '(none)'} is not the invoice's {invoice.currency}"
    expected = minor_units(invoice.total_amount, invoice.currency)
    paid = session.get("amount_total")
    if type(paid) is not int or paid != expected:
        return f"paid amount {paid} is not the invoice's {expected} (minor units of {invoice.currency})"
    intent = session.get("payment_intent") or ""
    if payment.provider_payment_id and intent and intent != payment.provider_payment_id:
        return f"payment intent {intent} is not the payment's {payment.provider_payment_id}"
    return ""


def _charge_mismatch(payment: Payment, charge: dict[str, Any]) -> str:
    intent = str(charge.get("payment_intent") or "")
    metadata = charge.get("metadata") or {}
    if payment.provider_payment_id:
        if intent != payment.provider_payment_id:
            return f"payment intent {intent or '(none)'} is not the payment's {payment.provider_payment_id}"
    elif not intent:
        return "the charge has no payment intent"
    # Found by our intent, the metadata may be missing; found by metadata alone, it must name this account.
    account_id = str(metadata.get("account_id") or "")
    if account_id != str(payment.account_id) and (account_id or not payment.provider_payment_id):
        return f"account {account_id or '(none)'} is not the payment's account {payment.account_id}"
    for key, ours in (("payment_id", payment.pk), ("invoice_id", payment.invoice_id)):
        if metadata.get(key) not in (None, "", str(ours)):
            return f"metadata {key} {metadata.get(key)} is not {ours}"
    currency = str(charge.get("currency") or "").upper()
    if currency != payment.currency.upper():
        return f"charge currency {currency or '(none)'} is not the payment's {payment.currency}"
    expected = minor_units(payment.amount, payment.currency)
    amount = charge.get("amount")
    if type(amount) is not int or amount != expected:
        return f"charge amount {amount} is not the payment's {expected} (minor units of {payment.currency})"
    return ""


# Events whose effect moves money or credits are checked against the payment before they act.
CHECKS: dict[str, Callable[[Payment, dict[str, Any]], str]] = {
    "checkout.session.completed": _checkout_mismatch,
    "checkout.session.async_payment_succeeded": _checkout_mismatch,
    "charge.refunded": _charge_mismatch,
    "payment_intent.succeeded": topup.intent_mismatch,
    "payment_intent.payment_failed": topup.intent_mismatch,
}


def _payment_for(event_type: str, obj: dict[str, Any]) -> Payment | None:
    stripe_payments = Payment.objects.filter(payment_method=PaymentMethod.STRIPE)
    if event_type.startswith("payment_intent."):
        return topup.payment_for_intent(obj)
    if event_type.startswith("checkout.session."):
        # The session id was stored when we created the session: that link cannot be mixed up.
        return stripe_payments.filter(provider_reference=obj.get("id") or "-").first()
    intent = obj.get("payment_intent")
    payment = stripe_payments.filter(provider_payment_id=intent).first() if intent else None
    if payment is None:
        # A refund may arrive before the session's completion told us the PaymentIntent: the metadata we
        # put on the PaymentIntent is copied onto its charges.
        payment_id = str((obj.get("metadata") or {}).get("payment_id") or "")
        if payment_id.isdigit():
            payment = stripe_payments.filter(pk=int(payment_id)).first()
    return payment


def _event_summary(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What staff need to compare by hand; bounded, since the event's object is the provider's."""
    keys = ("id", "payment_intent", "currency", "amount", "amount_total", "amount_refunded")
    summary = {key: obj.get(key) for key in keys if key in obj}
    summary["metadata"] = {
        str(k)[:40]: str(v)[:80] for k, v in list((obj.get("metadata") or {}).items())[:10]
    }
    return {"event_type": event_type, "event_object": summary}


class WebhookOutcome(StrEnum):
    """What the webhook did with an event; answered to Stripe as `data.outcome`."""

    PROCESSED = "processed"
    FLAGGED = "flagged"  # did not match its payment (see the module's docstring)
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a type we do not handle, or no payment of ours


def process_stripe_event(*, event: dict[str, Any]) -> WebhookOutcome:
    """Applies a verified event once and says what came of it."""
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    handler = HANDLERS.get(event_type)
    if handler is None or not event_id:
        return WebhookOutcome.IGNORED
    obj = (event.get("data") or {}).get("object") or {}
    if event_type == "checkout.session.completed" and obj.get("mode") == "setup":
        return WebhookOutcome(topup.complete_card_setup(event_id=event_id, session=obj))
    with transaction.atomic(durable=True):
        payment = _payment_for(event_type, obj)
        if payment is None:
            logger.warning("stripe event %s (%s): no payment of ours; ignored", event_id, event_type)
            return WebhookOutcome.IGNORED
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, event_type=event_type)
        except IntegrityError:
            return WebhookOutcome.DUPLICATE
        source = f"stripe:{event_id}"
        check = CHECKS.get(event_type)
        reason = check(payment, obj) if check is not None else ""
        if reason:
            payments.flag_for_review(
                payment=payment, source=source, reason=reason, details=_event_summary(event_type, obj)
            )
            return WebhookOutcome.FLAGGED
        handler(payment, obj, source)
    return WebhookOutcome.PROCESSED


@csrf_exempt
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """POST only, no authentication: the signature is the authentication."""
    if request.method != "POST":
        return json_error_response(request, 405, "Method not allowed.")
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:  # nothing can be verified, so nothing is accepted
        return json_error_response(request, 400, "Stripe webhooks are not configured.")
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature"),
            secret,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        )
    except stripe.SignatureVerificationError:
        return json_error_response(request, 400, "Invalid Stripe signature.")
    except ValueError:  # signed but not JSON: cannot be Stripe's
        return json_error_response(request, 400, "Invalid payload.")
    outcome = process_stripe_event(event=event.to_dict())
    return json_data_response({"received": True, "outcome": outcome})

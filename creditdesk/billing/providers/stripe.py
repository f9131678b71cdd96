"""Card payments through Stripe Checkout; the credits come later, from the signed webhook."""

import logging
from urllib.parse import urlencode

import stripe
from django.conf import settings

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethod, PaymentMethodConfig
from creditdesk.billing.providers.base import PaymentProvider, PaymentProviderError, PaymentStart
from creditdesk.core.money import minor_units

logger = logging.getLogger(__name__)


def purchase_page_url(**params: object) -> str:
    return f"{settings.SITE_URL}/account/purchase-credits?{urlencode(params)}"


def checkout_idempotency_key(payment: Payment) -> str:
    """Stripe's Idempotency-Key for the payment's Checkout Session. Stripe keys are per Stripe account, which
    several deployments (staging, a laptop) may share: the creation time makes one payment's key its own."""
    return f"creditdesk-checkout-{payment.pk}-{payment.created_at:%Y%m%dT%H%M%S%f}"


class StripeProvider(PaymentProvider):
    method = PaymentMethod.STRIPE

    def environment_allows(self) -> bool:
        # Without the webhook secret no payment could ever be confirmed, so the method is off.
        return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)

    def start(
        self,
        *,
        payment: Payment,
        invoice: Invoice,
        package: CreditPackage,
        config: PaymentMethodConfig,
        customer_email: str,
    ) -> PaymentStart:
        metadata = {
            "payment_id": str(payment.pk),
            "invoice_id": str(invoice.pk),
            "account_id": str(invoice.account_id),
            "credit_package": package.slug,
        }
        params: dict = {
            "api_key": settings.STRIPE_SECRET_KEY,
            "mode": "payment",
            "client_reference_id": str(payment.pk),
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": invoice.currency.lower(),
                        "unit_amount": minor_units(invoice.total_amount, invoice.currency),
                        "product_data": {"name": f"{package.name} ({invoice.credits} credits)"},
                    },
                }
            ],
            "metadata": metadata,
            # Copied onto the PaymentIntent and its Charge, so charge.refunded finds the payment too.
            "payment_intent_data": {"metadata": metadata},
            # Stripe fills in {CHECKOUT_SESSION_ID} itself, so the placeholder must stay unescaped.
            "success_url": purchase_page_url(status="success", invoice=invoice.pk)
            + "&session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": purchase_page_url(status="cancelled", invoice=invoice.pk),
        }
        if customer_email:
            params["customer_email"] = customer_email
        try:
            # Starting the same payment again (a purchase resumed after its server died) gets the same
            # session back from Stripe instead of a second one.
            session = stripe.checkout.Session.create(
                **params, idempotency_key=checkout_idempotency_key(payment)
            )
        except stripe.StripeError as exc:
            logger.warning("stripe: creating a checkout session failed: %s", exc)
            raise PaymentProviderError(
                "The card payment provider is not answering; nothing was charged. Please try again."
            ) from exc
        return PaymentStart(
            status=Payment.Status.PENDING,
            provider_reference=session["id"],
            next_action={"type": "redirect", "url": session["url"]},
        )

"""Buying a credit package: a pending invoice and payment, and the provider's first step, in one transaction."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethodConfig
from creditdesk.billing.providers import PROVIDERS, method_is_available
from creditdesk.billing.services.invoices import create_invoice, issue_invoice
from creditdesk.billing.services.payments import mark_payment_succeeded
from creditdesk.core.errors import NotFound, ValidationFailed
from creditdesk.tenancy.audit import record_audit


@dataclass(frozen=True)
class Purchase:
    invoice: Invoice
    payment: Payment
    next_action: dict[str, Any]


def purchase_package(
    *, account: Any, package_id: int, payment_method: str, actor: Any, ip_address: str | None = None
) -> Purchase:
    """Starts a purchase. The credits come when the money does (mark_payment_succeeded): at once for the
    sandbox, from the webhook for Stripe, from staff approval for a bank transfer.

    A provider error rolls the whole transaction back: no invoice, no payment, no number used.
    """
    package = CreditPackage.objects.filter(pk=package_id).first()
    if package is None:
        raise NotFound("Credit package not found.")
    if not package.is_active:
        raise ValidationFailed("This credit package is no longer on sale.")
    config = PaymentMethodConfig.objects.filter(payment_method=payment_method).first()
    if config is None or not method_is_available(config):
        raise ValidationFailed.on_field("payment_method", "This payment method is not available.")
    provider = PROVIDERS[payment_method]

    with transaction.atomic():
        invoice = create_invoice(account=account, package=package)
        payment = Payment.objects.create(
            account=account,
            invoice=invoice,
            amount=invoice.total_amount,
            currency=invoice.currency,
            status=Payment.Status.PENDING,
            payment_method=payment_method,
        )
        start = provider.start(
            payment=payment,
            invoice=invoice,
            package=package,
            config=config,
            customer_email=account.billing_email or getattr(actor, "email", ""),
        )
        payment.status = start.status
        payment.provider_reference = start.provider_reference
        payment.reference_code = start.reference_code
        payment.expires_at = start.expires_at
        payment.save(
            update_fields=["status", "provider_reference", "reference_code", "expires_at", "updated_at"]
        )
        # Numbered last: the year's sequence row stays locked only for the rest of this transaction.
        issue_invoice(invoice=invoice)
        record_audit(
            account=account,
            actor=actor,
            action="credits.purchase_started",
            target=invoice.invoice_number,
            changes={
                "credit_package": package.slug,
                "credits": invoice.credits,
                "total_amount": str(invoice.total_amount),
                "currency": invoice.currency,
                "payment_id": payment.pk,
                "payment_method": payment_method,
            },
            ip_address=ip_address,
        )
        if start.succeeded:
            mark_payment_succeeded(payment=payment, source=payment_method, actor=actor, ip_address=ip_address)
            payment.refresh_from_db()
            invoice.refresh_from_db()
    return Purchase(invoice=invoice, payment=payment, next_action=start.next_action)

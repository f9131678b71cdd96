"""Buying a credit package: a draft invoice and a payment, the provider's first step, then its answer."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethodConfig
from creditdesk.billing.providers import PROVIDERS, method_is_available
from creditdesk.billing.providers.base import PaymentProviderError
from creditdesk.billing.services.invoices import create_invoice, issue_invoice
from creditdesk.billing.services.payments import (
    abandon_payment,
    create_payment,
    mark_payment_succeeded,
    record_payment_start,
)
from creditdesk.core.errors import NotFound, ValidationFailed
from creditdesk.tenancy.audit import AuditAction, record_audit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User


@dataclass(frozen=True)
class Purchase:
    invoice: Invoice
    payment: Payment
    next_action: dict[str, Any]


def purchase_package(
    *, account: "Account", package_id: int, payment_method: str, actor: "User", ip_address: str | None = None
) -> Purchase:
    """Starts a purchase. The credits come when the money does (mark_payment_succeeded): at once for the
    sandbox, from the webhook for Stripe, from staff approval for a bank transfer.

    No transaction is open while the provider answers (a Stripe call can take seconds, and on SQLite an
    open write transaction blocks every other writer): the draft invoice and the payment commit first,
    the provider is called, and its answer is recorded in a second transaction that numbers the invoice.
    A provider error fails the payment and leaves the invoice a draft without a number, which customers
    never see; staff do, with the reason.
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
        payment = create_payment(invoice=invoice, payment_method=payment_method)
    try:
        start = provider.start(
            payment=payment,
            invoice=invoice,
            package=package,
            config=config,
            customer_email=account.billing_email or getattr(actor, "email", ""),
        )
    except PaymentProviderError as exc:
        abandon_payment(payment=payment, reason=str(exc), actor=actor, ip_address=ip_address)
        raise
    with transaction.atomic():
        payment = record_payment_start(payment=payment, start=start)
        # Numbered last: the year's sequence row stays locked only for the rest of this transaction.
        invoice = issue_invoice(invoice=invoice)
        record_audit(
            account=account,
            actor=actor,
            action=AuditAction.CREDITS_PURCHASE_STARTED,
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

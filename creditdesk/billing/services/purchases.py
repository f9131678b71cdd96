"""Buying a credit package: a draft invoice and a payment, the provider's first step, then its answer."""

from collections.abc import Callable
from dataclasses import dataclass, field
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
    unstarted_payment,
)
from creditdesk.core.errors import ApplicationError, ErrorCode, NotFound, ValidationFailed
from creditdesk.tenancy.audit import AuditAction, record_audit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User


@dataclass(frozen=True)
class Purchase:
    invoice: Invoice
    payment: Payment
    next_action: dict[str, Any]


def _nothing(_: Any) -> None:
    return None


@dataclass(frozen=True)
class PurchaseHooks:
    """Lets a caller ride on the purchase's own transactions (the view's Idempotency-Key does).

    `resume_payment_id` names the draft an earlier attempt left when its server died before recording the
    provider's answer: the purchase carries on with that draft instead of making another. `on_draft` runs
    in the transaction that commits the draft, `on_started` in the one that records the provider's answer.
    """

    resume_payment_id: int | None = None
    on_draft: Callable[[Payment], None] = field(default=_nothing)
    on_started: Callable[["Purchase"], None] = field(default=_nothing)


class PurchaseAlreadyStarted(ApplicationError):
    status_code = 409
    code = ErrorCode.CONFLICT


def purchase_package(
    *,
    account: "Account",
    package_id: int,
    payment_method: str,
    actor: "User",
    ip_address: str | None = None,
    hooks: PurchaseHooks = PurchaseHooks(),  # frozen: one shared default is safe
) -> Purchase:
    """Starts a purchase. The credits come when the money does (mark_payment_succeeded): at once for the
    sandbox, from the webhook for Stripe, from staff approval for a bank transfer.

    No transaction is open while the provider answers (a Stripe call can take seconds, and on SQLite an
    open write transaction blocks every other writer): the draft invoice and the payment commit first,
    the provider is called, and its answer is recorded in a second transaction that numbers the invoice.
    A provider error fails the payment and leaves the invoice a draft without a number, which customers
    never see; staff do, with the reason. Starting the same payment twice (a resumed draft) opens one
    provider session: the provider's idempotency key is derived from the payment.
    """
    draft = _draft_to_resume(account=account, payment_id=hooks.resume_payment_id)
    if draft is None:
        package, config = _on_sale(package_id=package_id, payment_method=payment_method)
        with transaction.atomic():
            invoice = create_invoice(account=account, package=package)
            payment = create_payment(invoice=invoice, payment_method=payment_method)
            hooks.on_draft(payment)
    else:
        payment, invoice = draft, draft.invoice
        package, config = _resumable_package(payment=payment)
    provider = PROVIDERS[payment.payment_method]
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
                "payment_method": payment.payment_method,
            },
            ip_address=ip_address,
        )
        if start.succeeded:
            mark_payment_succeeded(
                payment=payment, source=payment.payment_method, actor=actor, ip_address=ip_address
            )
            payment.refresh_from_db()
            invoice.refresh_from_db()
        purchase = Purchase(invoice=invoice, payment=payment, next_action=start.next_action)
        hooks.on_started(purchase)
    return purchase


def _on_sale(*, package_id: int, payment_method: str) -> tuple[CreditPackage, PaymentMethodConfig]:
    package = CreditPackage.objects.filter(pk=package_id).first()
    if package is None:
        raise NotFound("Credit package not found.")
    if not package.is_active:
        raise ValidationFailed("This credit package is no longer on sale.")
    config = PaymentMethodConfig.objects.filter(payment_method=payment_method).first()
    if config is None or not method_is_available(config):
        raise ValidationFailed.on_field("payment_method", "This payment method is not available.")
    return package, config


def _resumable_package(*, payment: Payment) -> tuple[CreditPackage, PaymentMethodConfig]:
    package = payment.invoice.credit_package
    config = PaymentMethodConfig.objects.filter(payment_method=payment.payment_method).first()
    if package is None or config is None:
        raise ValidationFailed("This purchase can no longer be started; please buy again.")
    return package, config


def _draft_to_resume(*, account: "Account", payment_id: int | None) -> Payment | None:
    """The account's draft `payment_id` if its provider was never answered; None when there is nothing to
    resume (no draft, or it failed: given up by the sweep or refused by the provider), so a new one is
    made. A draft whose answer was recorded is never resumed: its answer is stored with it."""
    if payment_id is None:
        return None
    payment = (
        Payment.objects.select_related("invoice__credit_package")
        .filter(account=account, pk=payment_id)
        .first()
    )
    if payment is None or payment.status == Payment.Status.FAILED:
        return None
    if not unstarted_payment(payment):
        raise PurchaseAlreadyStarted("This purchase has started already.")
    return payment

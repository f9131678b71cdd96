"""Every change of a payment's state, from its creation on, lives in this module: purchases, webhooks,
staff and auto top-ups call it, and none writes a Payment row itself. mark_payment_succeeded is the one
success path: the Stripe webhook, a staff approval of a bank transfer and the sandbox all end there, and it
grants once.

Locks: a payment's row, then its invoice's (one statement, in `_lock_payment`), then the account's (the
ledger service). Every function re-reads the status under the lock, so a late, repeated or out-of-order
event finds the payment already settled and changes nothing.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from creditdesk.billing.models import CreditGrant, CreditTransaction, Invoice, Payment, PaymentMethod
from creditdesk.billing.services.ledger import DuplicateLedgerReference, claw_back_credits, grant_credits
from creditdesk.core.errors import ApplicationError, ErrorCode, NotFound, ValidationFailed
from creditdesk.core.mail import send_templated_mail
from creditdesk.core.money import format_money
from creditdesk.events.services import emit
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.roles import Role

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.billing.providers.base import PaymentStart

logger = logging.getLogger(__name__)

Status = Payment.Status
OPEN_STATUSES = frozenset({Status.PENDING, Status.PENDING_APPROVAL, Status.PROCESSING})


def purchase_reference(payment_id: int) -> str:
    return f"payment:{payment_id}"


def refund_reference(payment_id: int) -> str:
    return f"refund:payment:{payment_id}"


def payment_event_data(*, payment: Payment) -> dict[str, Any]:
    return {
        "payment_id": payment.pk,
        "invoice_id": payment.invoice_id,
        "status": payment.status,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "payment_method": payment.payment_method,
        "failure_reason": payment.failure_reason,
    }


def invoice_event_data(*, invoice: Invoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.pk,
        "invoice_number": invoice.invoice_number,
        "total": str(invoice.total_amount),
        "currency": invoice.currency,
        "credits": invoice.credits,
    }


def granted_event_data(*, payment: Payment, invoice: Invoice) -> dict[str, Any]:
    return {
        "amount": invoice.credits,
        "source": "purchase",
        "payment_id": payment.pk,
        "balance": payment.account.credits,
    }


def _lock_payment(payment_id: int) -> Payment:
    return (
        Payment.objects.select_for_update(of=("self", "invoice"))
        .select_related("invoice", "account")
        .get(pk=payment_id)
    )


def _audit(
    *,
    payment: Payment,
    action: AuditAction,
    actor: "User | None",
    source: str,
    ip_address: str | None,
    **changes: Any,
) -> None:
    record_audit(
        account=payment.account,
        actor=actor,
        action=action,
        target=payment.invoice.invoice_number,
        changes={
            "payment_id": payment.pk,
            "payment_method": payment.payment_method,
            "status": payment.status,
            "source": source,
            **changes,
        },
        ip_address=ip_address,
    )


def create_payment(*, invoice: Invoice, payment_method: str) -> Payment:
    """The payment that will collect `invoice`, before any provider has seen it."""
    return Payment.objects.create(
        account_id=invoice.account_id,
        invoice=invoice,
        amount=invoice.total_amount,
        currency=invoice.currency,
        status=Status.PENDING,
        payment_method=payment_method,
    )


class PurchaseAbandoned(ApplicationError):
    """The purchase was given up (abandon_unstarted_purchases) while its provider was still answering."""

    status_code = 409
    code = ErrorCode.CONFLICT


def record_payment_start(*, payment: Payment, start: "PaymentStart") -> Payment:
    """What the provider answered when the payment started: its status, references and deadline."""
    payment = _lock_payment(payment.pk)
    if not unstarted_payment(payment):
        raise PurchaseAbandoned("This purchase took too long to start and was given up; please buy again.")
    payment.status = start.status
    payment.provider_reference = start.provider_reference
    payment.reference_code = start.reference_code
    payment.expires_at = start.expires_at
    payment.save(update_fields=["status", "provider_reference", "reference_code", "expires_at", "updated_at"])
    return payment


def unstarted_payment(payment: Payment) -> bool:
    """Committed as a draft, and no provider's answer recorded yet (it may never have been asked)."""
    return payment.status == Status.PENDING and payment.invoice.status == Invoice.Status.DRAFT


def record_provider_reference(*, payment: Payment, provider_reference: str) -> None:
    """The provider's name for a payment made outside a purchase (an auto top-up's charge)."""
    payment.provider_reference = provider_reference
    payment.save(update_fields=["provider_reference", "updated_at"])


def record_provider_payment_id(*, payment: Payment, provider_payment_id: str) -> bool:
    """The provider's payment (a PaymentIntent) once known; a webhook that told us first is kept. False
    when the payment had one already."""
    return bool(
        Payment.objects.filter(pk=payment.pk, provider_payment_id="").update(
            provider_payment_id=provider_payment_id, provider_reference=provider_payment_id
        )
    )


def abandon_payment(*, payment: Payment, reason: str, actor: "User | None", ip_address: str | None) -> bool:
    """The provider refused to start, could not be reached, or never answered: the payment fails, and its
    invoice stays a draft that was never numbered (customers' lists leave drafts out), so nothing is owed.
    False when the payment had started meanwhile."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if not unstarted_payment(payment):
            return False
        payment.status = Status.FAILED
        payment.failure_reason = reason[:255]
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
        _audit(
            payment=payment,
            action=AuditAction.CREDITS_PURCHASE_FAILED,
            actor=actor,
            source=payment.payment_method,
            ip_address=ip_address,
            reason=payment.failure_reason,
        )
    return True


def abandon_unstarted_purchases(*, now: datetime | None = None) -> int:
    """Fails purchases whose server stopped between committing the draft and recording the provider's
    answer (a crash or a kill mid-request): nobody was sent to pay them. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.PURCHASE_START_TIMEOUT_SECONDS)
    due = Payment.objects.filter(
        status=Status.PENDING, invoice__status=Invoice.Status.DRAFT, created_at__lt=cutoff
    ).order_by("pk")
    return sum(
        abandon_payment(
            payment=payment,
            reason="The purchase never finished starting; nothing was charged.",
            actor=None,
            ip_address=None,
        )
        for payment in due.only("pk")
    )


def _purchase_expiry(*, invoice: Invoice, now: datetime) -> datetime | None:
    """Purchased credits never expire unless their package says after how many days."""
    package = invoice.credit_package
    if package is None or package.expires_in_days is None:
        return None
    return now + timedelta(days=package.expires_in_days)


def mark_payment_succeeded(
    *,
    payment: Payment,
    source: str,
    actor: "User | None" = None,
    approved_by: "User | None" = None,
    provider_payment_id: str = "",
    audit_action: AuditAction = AuditAction.PAYMENT_SUCCEEDED,
    ip_address: str | None = None,
) -> bool:
    """Grants the invoice's credits as a `purchase` and marks payment and invoice paid; False when the
    payment was no longer open (already paid, failed, expired or refunded), with nothing changed."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if payment.status not in OPEN_STATUSES:
            return False
        invoice = payment.invoice
        now = timezone.now()
        if invoice.credits > 0:
            try:
                grant_credits(
                    account=payment.account,
                    amount=invoice.credits,
                    transaction_type=CreditTransaction.Type.PURCHASE,
                    description=f"{invoice.line_items[0]['description']} - {invoice.invoice_number}"
                    if invoice.line_items
                    else f"Credits bought with {invoice.invoice_number}",
                    reference=purchase_reference(payment.pk),
                    source=CreditGrant.Source.PURCHASE,
                    cost_basis=invoice.subtotal / invoice.credits,
                    expires_at=_purchase_expiry(invoice=invoice, now=now),
                    metadata={
                        "invoice_id": invoice.pk,
                        "invoice_number": invoice.invoice_number,
                        "payment_id": payment.pk,
                        "payment_method": payment.payment_method,
                    },
                    created_by=actor,
                )
            except DuplicateLedgerReference:
                # The status check under the lock makes this unreachable; the reference is the backstop.
                logger.error("payment %s: credits were granted already; not granting again", payment.pk)
        payment.status = Status.SUCCEEDED
        payment.approved_at = now
        if approved_by is not None:
            payment.approved_by = approved_by
        if provider_payment_id:
            payment.provider_payment_id = provider_payment_id
        payment.failure_reason = ""
        payment.save(
            update_fields=[
                "status",
                "approved_at",
                "approved_by",
                "provider_payment_id",
                "failure_reason",
                "updated_at",
            ]
        )
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = now
        invoice.save(update_fields=["status", "paid_at", "updated_at"])
        _audit(
            payment=payment,
            action=audit_action,
            actor=actor,
            source=source,
            ip_address=ip_address,
            credits=invoice.credits,
            amount=str(payment.amount),
            currency=payment.currency,
        )
        emit(account=payment.account, type="payment.succeeded", data=payment_event_data(payment=payment))
        emit(account=payment.account, type="invoice.paid", data=invoice_event_data(invoice=invoice))
        if invoice.credits > 0:
            emit(
                account=payment.account,
                type="credits.granted",
                data=granted_event_data(payment=payment, invoice=invoice),
            )
        payment_id = payment.pk
        transaction.on_commit(lambda: send_receipt(payment_id=payment_id), robust=True)
    return True


def flag_payment_after_failure(*, payment: Payment, source: str) -> bool:
    """The provider says paid, but the payment had already failed or expired here, so no credits were
    granted: the audit row asks staff to refund the customer or grant the credits by hand."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if payment.status != Status.FAILED:
            return False
        logger.warning("payment %s: paid after it failed (%s); needs staff attention", payment.pk, source)
        _audit(
            payment=payment,
            action=AuditAction.PAYMENT_PAID_AFTER_FAILURE,
            actor=None,
            source=source,
            ip_address=None,
            failure_reason=payment.failure_reason,
        )
    return True


def mark_payment_processing(*, payment: Payment, source: str, provider_payment_id: str = "") -> bool:
    """Checkout finished but the money is still on its way (delayed methods): no credits yet."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if payment.status != Status.PENDING:
            return False
        payment.status = Status.PROCESSING
        if provider_payment_id:
            payment.provider_payment_id = provider_payment_id
        payment.save(update_fields=["status", "provider_payment_id", "updated_at"])
        _audit(
            payment=payment, action=AuditAction.PAYMENT_PROCESSING, actor=None, source=source, ip_address=None
        )
    return True


def fail_payment(
    *,
    payment: Payment,
    reason: str,
    source: str,
    actor: "User | None" = None,
    only_from: frozenset[str] = OPEN_STATUSES,
    audit_action: AuditAction = AuditAction.PAYMENT_FAILED,
    ip_address: str | None = None,
) -> bool:
    """The money will not come: the payment fails and its invoice is void. False when not in `only_from`."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if payment.status not in only_from:
            return False
        now = timezone.now()
        payment.status = Status.FAILED
        payment.failure_reason = reason[:255]
        payment.save(update_fields=["status", "failure_reason", "updated_at"])
        invoice = payment.invoice
        invoice.status = Invoice.Status.VOID
        invoice.voided_at = now
        invoice.save(update_fields=["status", "voided_at", "updated_at"])
        _audit(
            payment=payment,
            action=audit_action,
            actor=actor,
            source=source,
            ip_address=ip_address,
            reason=payment.failure_reason,
        )
        emit(account=payment.account, type="payment.failed", data=payment_event_data(payment=payment))
    return True


def refund_payment(
    *, payment: Payment, source: str, actor: "User | None" = None, provider_payment_id: str = ""
) -> bool:
    """The money went back to the customer: take the credits back, as far as they are unspent.

    A refund that arrives before the payment's success (events out of order) settles the payment as
    refunded, so the late success finds it closed and grants nothing.
    """
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        if payment.status == Status.REFUNDED:
            return False
        invoice = payment.invoice
        clawback: dict[str, int] = {"requested": 0, "recovered": 0, "shortfall": 0}
        if payment.status == Status.SUCCEEDED and invoice.credits > 0:
            try:
                result = claw_back_credits(
                    account=payment.account,
                    amount=invoice.credits,
                    transaction_type=CreditTransaction.Type.REFUND,
                    description=f"Refund of {invoice.invoice_number}",
                    reference=refund_reference(payment.pk),
                    grant_reference=purchase_reference(payment.pk),
                    metadata={"invoice_id": invoice.pk, "payment_id": payment.pk},
                    created_by=actor,
                )
            except DuplicateLedgerReference:
                logger.error("payment %s: credits were clawed back already", payment.pk)
            else:
                clawback = {
                    "requested": result.requested,
                    "recovered": result.recovered,
                    "shortfall": result.shortfall,
                }
        now = timezone.now()
        payment.status = Status.REFUNDED
        if provider_payment_id and not payment.provider_payment_id:
            payment.provider_payment_id = provider_payment_id
        payment.save(update_fields=["status", "provider_payment_id", "updated_at"])
        invoice.status = Invoice.Status.REFUNDED
        invoice.refunded_at = now
        invoice.save(update_fields=["status", "refunded_at", "updated_at"])
        _audit(
            payment=payment,
            action=AuditAction.PAYMENT_REFUNDED,
            actor=actor,
            source=source,
            ip_address=None,
            amount=str(payment.amount),
            currency=payment.currency,
            credits_requested=clawback["requested"],
            credits_recovered=clawback["recovered"],
            credits_shortfall=clawback["shortfall"],
        )
    return True


def record_partial_refund(*, payment: Payment, source: str, amount_refunded: int, currency: str) -> None:
    """A partial refund leaves the credits alone; the audit row tells staff to settle it by hand."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        _audit(
            payment=payment,
            action=AuditAction.PAYMENT_PARTIALLY_REFUNDED,
            actor=None,
            source=source,
            ip_address=None,
            amount_refunded_minor_units=amount_refunded,
            refund_currency=currency,
        )


def flag_for_review(*, payment: Payment, source: str, reason: str, details: dict[str, Any]) -> None:
    """A provider's event did not match the payment it named: nothing is acted on. The invoice is flagged
    (admin filter "needs review") and an audit row keeps what was expected and what came, for staff."""
    with transaction.atomic():
        payment = _lock_payment(payment.pk)
        invoice = payment.invoice
        invoice.needs_review = True
        invoice.review_reason = reason[:255]
        invoice.save(update_fields=["needs_review", "review_reason", "updated_at"])
        logger.warning("payment %s: %s (%s); flagged for staff, not acted on", payment.pk, reason, source)
        _audit(
            payment=payment,
            action=AuditAction.PAYMENT_WEBHOOK_MISMATCH,
            actor=None,
            source=source,
            ip_address=None,
            reason=reason,
            **details,
        )


# --- Bank transfers -------------------------------------------------------------------------------------


def confirm_bank_transfer(
    *,
    account: "Account",
    payment_id: int,
    transfer_reference: str,
    actor: "User",
    ip_address: str | None = None,
) -> Payment:
    """Records the customer's own transfer reference, which helps staff match the money."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("invoice", "account")
            .filter(account=account, pk=payment_id)
            .first()
        )
        if payment is None:
            raise NotFound("Payment not found.")
        if payment.payment_method != PaymentMethod.BANK_TRANSFER or payment.status != Status.PENDING_APPROVAL:
            raise ValidationFailed("Only a bank transfer that awaits approval can be confirmed.")
        payment.transfer_reference = transfer_reference
        payment.save(update_fields=["transfer_reference", "updated_at"])
        _audit(
            payment=payment,
            action=AuditAction.BANK_TRANSFER_CONFIRMED,
            actor=actor,
            source="customer",
            ip_address=ip_address,
            transfer_reference=transfer_reference,
        )
    return payment


def cancel_bank_transfer(
    *, account: "Account", payment_id: int, actor: "User", ip_address: str | None = None
) -> Payment:
    """The customer will not pay after all: the transfer fails and its invoice is void, so staff never
    approve money that is not coming. Only while it awaits approval; a settled payment is a 400."""
    with transaction.atomic():
        payment = Payment.objects.filter(account=account, pk=payment_id).first()
        if payment is None:
            raise NotFound("Payment not found.")
        if payment.payment_method != PaymentMethod.BANK_TRANSFER:
            raise ValidationFailed("Only a bank transfer that awaits approval can be cancelled.")
        cancelled = fail_payment(
            payment=payment,
            reason="Cancelled by the customer.",
            source="customer",
            actor=actor,
            only_from=frozenset({Status.PENDING_APPROVAL}),
            audit_action=AuditAction.BANK_TRANSFER_CANCELLED,
            ip_address=ip_address,
        )
        if not cancelled:
            raise ValidationFailed("Only a bank transfer that awaits approval can be cancelled.")
        payment.refresh_from_db()
    return payment


def _bank_transfer(payment_id: int) -> Payment:
    payment = _lock_payment(payment_id)
    if payment.payment_method != PaymentMethod.BANK_TRANSFER:
        raise ValidationFailed("Only bank transfers are approved or rejected by staff.")
    return payment


def approve_bank_transfer(*, payment_id: int, actor: "User", ip_address: str | None = None) -> bool:
    """Staff saw the money arrive. Grants once: a second approval, even a simultaneous one, waits for the
    first's row lock and then finds the payment settled (False)."""
    with transaction.atomic(durable=True):
        payment = _bank_transfer(payment_id)
        if payment.status != Status.PENDING_APPROVAL:
            return False
        return mark_payment_succeeded(
            payment=payment,
            source="staff",
            actor=actor,
            approved_by=actor,
            audit_action=AuditAction.BANK_TRANSFER_APPROVED,
            ip_address=ip_address,
        )


def reject_bank_transfer(
    *, payment_id: int, actor: "User", reason: str, ip_address: str | None = None
) -> bool:
    with transaction.atomic(durable=True):
        payment = _bank_transfer(payment_id)
        return fail_payment(
            payment=payment,
            reason=reason or "Rejected by staff.",
            source="staff",
            actor=actor,
            only_from=frozenset({Status.PENDING_APPROVAL}),
            audit_action=AuditAction.BANK_TRANSFER_REJECTED,
            ip_address=ip_address,
        )


def expire_bank_transfers(*, now: datetime | None = None) -> int:
    """Fails the transfers still unapproved after BANK_TRANSFER_EXPIRY_DAYS; returns how many expired."""
    now = now or timezone.now()
    due = Payment.objects.filter(
        payment_method=PaymentMethod.BANK_TRANSFER, status=Status.PENDING_APPROVAL, expires_at__lt=now
    ).order_by("pk")
    expired = 0
    for payment in due.only("pk"):
        with transaction.atomic(durable=True):
            # An approval may have landed since the query: fail_payment re-checks under the lock.
            expired += fail_payment(
                payment=payment,
                reason=f"Expired: not approved within {settings.BANK_TRANSFER_EXPIRY_DAYS} days.",
                source="expiry",
                only_from=frozenset({Status.PENDING_APPROVAL}),
                audit_action=AuditAction.PAYMENT_EXPIRED,
            )
    return expired


# --- Receipts -------------------------------------------------------------------------------------------


def receipt_recipients(*, account: "Account") -> list[str]:
    owners = (
        get_user_model()
        .objects.filter(account_id=account.pk, role=Role.OWNER, is_active=True)
        .order_by("pk")
        .values_list("email", flat=True)
    )
    recipients: list[str] = []
    for email in [*owners, account.billing_email]:
        if email and email.lower() not in {r.lower() for r in recipients}:
            recipients.append(email)
    return recipients


def send_receipt(*, payment_id: int) -> None:
    payment = Payment.objects.select_related("invoice", "account").get(pk=payment_id)
    invoice = payment.invoice
    recipients = receipt_recipients(account=payment.account)
    if not recipients:
        return
    send_templated_mail(
        subject=f"Receipt for {invoice.invoice_number}",
        template="billing/mail/receipt.txt",
        context={
            "invoice": invoice,
            "paid_on": f"{invoice.paid_at:%Y-%m-%d}",
            "lines": [
                (item["description"], format_money(Decimal(item["amount"]), invoice.currency))
                for item in invoice.line_items
            ],
            "subtotal": format_money(invoice.subtotal, invoice.currency),
            "tax": format_money(invoice.tax_amount, invoice.currency),
            "total": format_money(invoice.total_amount, invoice.currency),
            "account_name": payment.account.name,
            "invoices_url": f"{settings.SITE_URL}/account/billing",
        },
        recipients=recipients,
    )

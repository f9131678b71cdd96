"""Purchases for the demo account, made through the real services so the demo shows real data."""

from typing import TYPE_CHECKING

from creditdesk.billing.models import CreditPackage, Payment, PaymentMethod
from creditdesk.billing.services.payments import mark_payment_succeeded
from creditdesk.billing.services.purchases import purchase_package
from creditdesk.tenancy.audit import AuditAction

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User


def _bank_transfer(*, account: "Account", actor: "User", slug: str) -> Payment:
    # Bank transfer needs no environment flag and no network, so the seed works in every environment.
    package = CreditPackage.objects.get(slug=slug)
    purchase = purchase_package(
        account=account, package_id=package.pk, payment_method=PaymentMethod.BANK_TRANSFER, actor=actor
    )
    return purchase.payment


def create_demo_purchases(*, account: "Account", actor: "User") -> list[Payment]:
    """Two paid invoices and one bank transfer awaiting approval, for the demo account.

    Meant to be called once, when the demo account is created; a second call finds the payments and does
    nothing. Needs the seeded catalogue (the starter and growth packs). It uses no durable transaction,
    so seed_demo may call it inside its own.
    """
    if Payment.objects.filter(account=account).exists():
        return []
    payments = []
    for slug in ["starter-pack", "growth-pack"]:
        payment = _bank_transfer(account=account, actor=actor, slug=slug)
        mark_payment_succeeded(
            payment=payment, source="demo", audit_action=AuditAction.BANK_TRANSFER_APPROVED, actor=None
        )
        payment.refresh_from_db()
        payments.append(payment)
    payments.append(_bank_transfer(account=account, actor=actor, slug="starter-pack"))
    return payments

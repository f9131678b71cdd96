"""Invoices: numbered INV-<year>-<seq> without gaps, priced from a credit package, taxed from settings."""

import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from creditdesk.billing.models import CreditPackage, Invoice, InvoiceSequence
from creditdesk.core.money import to_money

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

SEQUENCE_TABLE = InvoiceSequence._meta.db_table


def format_invoice_number(*, year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:03d}"


def allocate_invoice_number(*, year: int) -> str:
    """The year's next number. Call it inside the transaction that stores the invoice: the bumped row
    stays locked until that transaction ends, and a rollback gives the number back, so there are no gaps.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("allocate_invoice_number must run inside the invoice's transaction.")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SEQUENCE_TABLE} (year, last_value) VALUES (%s, 0) ON CONFLICT (year) DO NOTHING",
            [year],
        )
        cursor.execute(
            f"UPDATE {SEQUENCE_TABLE} SET last_value = last_value + 1 WHERE year = %s RETURNING last_value",
            [year],
        )
        (sequence,) = cursor.fetchone()
    return format_invoice_number(year=year, sequence=int(sequence))


def billing_details_of(account: "Account") -> dict[str, str]:
    """A snapshot: later edits of the account's address must not rewrite issued invoices."""
    return {
        "name": account.name,
        "email": account.billing_email,
        "address_line1": account.billing_address_line1,
        "address_line2": account.billing_address_line2,
        "city": account.billing_city,
        "state": account.billing_state,
        "postal_code": account.billing_postal_code,
        "country": account.billing_country,
        "tax_id": account.tax_id,
    }


def create_invoice(*, account: "Account", package: CreditPackage) -> Invoice:
    """A draft invoice for one package. It gets its number from `issue_invoice`, as late as possible in
    the purchase's transaction, so the year's sequence row is not held locked while a provider answers.
    """
    subtotal = to_money(package.price)
    tax_amount = to_money(subtotal * settings.INVOICE_TAX_RATE)  # the rate is a fraction: 0.19 = 19 %
    return Invoice.objects.create(
        account=account,
        invoice_number=f"DRAFT-{uuid.uuid4().hex[:20]}",  # unique placeholder until issued
        status=Invoice.Status.DRAFT,
        line_items=[
            {
                "description": f"{package.name} ({package.credits} credits)",
                "quantity": 1,
                "unit_price": str(subtotal),
                "amount": str(subtotal),
            }
        ],
        subtotal=subtotal,
        tax_amount=tax_amount,
        total_amount=subtotal + tax_amount,
        currency=package.currency,
        billing_details=billing_details_of(account),
        credit_package=package,
        credits=package.credits,
        due_date=timezone.localdate() + timedelta(days=settings.INVOICE_DUE_DAYS),
    )


def issue_invoice(*, invoice: Invoice) -> Invoice:
    """Gives a draft its number and makes it payable."""
    with transaction.atomic():
        invoice.invoice_number = allocate_invoice_number(year=timezone.localdate().year)
        invoice.status = Invoice.Status.PENDING
        invoice.save(update_fields=["invoice_number", "status", "updated_at"])
    return invoice

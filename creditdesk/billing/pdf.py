"""The invoice as a PDF (reportlab): seller, buyer, lines, totals, status."""

from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from creditdesk.billing.models import Invoice, Payment, PaymentMethod
from creditdesk.billing.selectors import bank_transfer_instructions
from creditdesk.core.money import format_money

# The words the billing page's status badges use, so the PDF and the page agree.
STATUS_LABELS = {status: status.label for status in Invoice.Status}


def _pending_bank_transfer(invoice: Invoice) -> Payment | None:
    return (
        invoice.payments.filter(
            payment_method=PaymentMethod.BANK_TRANSFER, status=Payment.Status.PENDING_APPROVAL
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _payment_instructions(invoice: Invoice, body: Any, heading: Any) -> list[Any]:
    """How to pay a pending bank-transfer invoice: the bank details and the reference to quote."""
    if invoice.status != Invoice.Status.PENDING:
        return []
    payment = _pending_bank_transfer(invoice)
    if payment is None:
        return []
    lines = [
        ["Amount", format_money(payment.amount, payment.currency)],
        ["Payment reference", payment.reference_code],
    ]
    if payment.expires_at:
        lines.append(["Pay by", f"{payment.expires_at:%Y-%m-%d}"])
    details = Table(lines, colWidths=[40 * mm, 120 * mm], hAlign="LEFT")
    details.setStyle(TableStyle([("FONTNAME", (1, 1), (1, 1), "Courier-Bold")]))
    return [
        Spacer(1, 6 * mm),
        Paragraph("How to pay", heading),
        Paragraph(_lines(bank_transfer_instructions()), body),
        Spacer(1, 2 * mm),
        details,
        Paragraph(
            escape(
                f"Quote the reference {payment.reference_code} so we can match your transfer to this invoice."
            ),
            body,
        ),
    ]


def _lines(*parts: Any) -> str:
    """Paragraph markup from plain text: escaped, because names and addresses come from customers."""
    return "<br/>".join(escape(str(part)) for part in parts if part)


def _buyer(details: dict[str, Any]) -> str:
    city_line = " ".join(p for p in [details.get("postal_code"), details.get("city")] if p)
    return _lines(
        details.get("name"),
        details.get("address_line1"),
        details.get("address_line2"),
        city_line,
        details.get("state"),
        details.get("country"),
        f"Tax ID: {details['tax_id']}" if details.get("tax_id") else "",
        details.get("email"),
    )


def _seller(seller: dict[str, str]) -> str:
    return _lines(
        seller.get("name"),
        seller.get("address"),
        f"Tax ID: {seller['tax_id']}" if seller.get("tax_id") else "",
        seller.get("email"),
    )


def render_invoice_pdf(invoice: Invoice) -> bytes:
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Normal"]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Invoice {invoice.invoice_number}",
        author=settings.INVOICE_SELLER.get("name", ""),
    )
    currency = invoice.currency
    status = STATUS_LABELS.get(Invoice.Status(invoice.status), invoice.status.capitalize())

    dates = [
        ["Invoice number", invoice.invoice_number],
        ["Issued", f"{invoice.created_at:%Y-%m-%d}"],
        ["Due", f"{invoice.due_date:%Y-%m-%d}" if invoice.due_date else "-"],
        ["Status", status],
    ]
    if invoice.paid_at:
        dates.append(["Paid", f"{invoice.paid_at:%Y-%m-%d}"])
    parties = Table(
        [
            [Paragraph("<b>From</b>", small), Paragraph("<b>Bill to</b>", small)],
            [
                Paragraph(_seller(settings.INVOICE_SELLER), body),
                Paragraph(_buyer(invoice.billing_details), body),
            ],
        ],
        colWidths=[87 * mm, 87 * mm],
    )
    parties.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))

    rows: list[list[Any]] = [["Description", "Qty", "Unit price", "Amount"]]
    for item in invoice.line_items:
        rows.append(
            [
                Paragraph(escape(str(item.get("description", ""))), body),
                str(item.get("quantity", 1)),
                format_money(Decimal(item["unit_price"]), currency),
                format_money(Decimal(item["amount"]), currency),
            ]
        )
    rows += [
        ["", "", "Subtotal", format_money(invoice.subtotal, currency)],
        # No rate printed: the setting may have changed since this invoice was issued.
        ["", "", "Tax", format_money(invoice.tax_amount, currency)],
        ["", "", "Total", format_money(invoice.total_amount, currency)],
    ]
    lines = Table(rows, colWidths=[92 * mm, 14 * mm, 34 * mm, 34 * mm], repeatRows=1)
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEABOVE", (2, -3), (-1, -3), 0.5, colors.grey),
                ("FONTNAME", (2, -1), (-1, -1), "Helvetica-Bold"),
                ("LINEABOVE", (2, -1), (-1, -1), 0.8, colors.black),
            ]
        )
    )
    story = [
        Paragraph(f"Invoice {escape(invoice.invoice_number)}", styles["Title"]),
        Table(dates, colWidths=[40 * mm, 80 * mm], hAlign="LEFT"),
        Spacer(1, 8 * mm),
        parties,
        Spacer(1, 8 * mm),
        lines,
        Spacer(1, 8 * mm),
        Paragraph(
            escape(
                f"{invoice.credits} credits. "
                + (
                    f"Paid on {invoice.paid_at:%Y-%m-%d}. Thank you."
                    if invoice.status == Invoice.Status.PAID
                    else f"Status: {status}."
                )
            ),
            body,
        ),
        *_payment_instructions(invoice, body, styles["Heading3"]),
    ]
    document.build(story)
    return buffer.getvalue()

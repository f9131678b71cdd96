"""Invoice numbers (INV-<year>-<seq>, gap-free) and the invoice PDF."""

from decimal import Decimal
from io import BytesIO

import pytest
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from creditdesk.billing.models import Invoice, InvoiceSequence, PaymentMethodConfig
from creditdesk.billing.services.invoices import allocate_invoice_number
from creditdesk.billing.tests.factories import CreditPackageFactory
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def buy(client, package, method: str = "sandbox") -> dict:
    response = client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/", {"payment_method": method}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


# --- Numbers ---------------------------------------------------------------------------------------------


def test_invoice_numbers_count_up_from_one_per_year():
    with transaction.atomic():
        numbers = [allocate_invoice_number(year=2031) for _ in range(3)]
        other_year = allocate_invoice_number(year=2032)
    assert numbers == ["INV-2031-001", "INV-2031-002", "INV-2031-003"]
    assert other_year == "INV-2032-001"
    assert InvoiceSequence.objects.get(year=2031).last_value == 3


def test_invoice_numbers_grow_past_three_digits():
    InvoiceSequence.objects.create(year=2031, last_value=999)
    with transaction.atomic():
        assert allocate_invoice_number(year=2031) == "INV-2031-1000"


def test_a_rolled_back_purchase_gives_its_number_back():
    with transaction.atomic():
        assert allocate_invoice_number(year=2031) == "INV-2031-001"
    with pytest.raises(RuntimeError), transaction.atomic():
        allocate_invoice_number(year=2031)
        raise RuntimeError("the provider failed")
    with transaction.atomic():
        assert allocate_invoice_number(year=2031) == "INV-2031-002"


def test_all_tenants_share_one_gap_free_sequence(owner_client, other_client):
    package = CreditPackageFactory()
    numbers = [
        buy(owner_client, package)["invoice"]["invoice_number"],
        buy(other_client, package, "bank_transfer")["invoice"]["invoice_number"],
        buy(owner_client, package, "bank_transfer")["invoice"]["invoice_number"],
    ]
    assert numbers == [f"INV-{YEAR}-001", f"INV-{YEAR}-002", f"INV-{YEAR}-003"]
    assert not Invoice.objects.filter(status=Invoice.Status.DRAFT).exists()


def test_the_invoice_list_is_newest_first_and_paginated(owner_client):
    package = CreditPackageFactory()
    for _ in range(3):
        buy(owner_client, package, "bank_transfer")
    data = owner_client.get("/api/v1/billing/invoices/?page_size=2").json()["data"]
    assert data["count"] == 3 and data["next"] is not None and data["previous"] is None
    assert [row["invoice_number"] for row in data["results"]] == [f"INV-{YEAR}-003", f"INV-{YEAR}-002"]


# --- PDF -------------------------------------------------------------------------------------------------


def test_the_invoice_pdf_opens_and_shows_number_total_status_seller_and_buyer(
    owner_client, account, settings
):
    settings.INVOICE_TAX_RATE = Decimal("0.20")
    settings.INVOICE_SELLER = {
        "name": "creditdesk Inc.",
        "address": "1 Ledger Lane",
        "email": "b@c.d",
        "tax_id": "",
    }
    account.billing_address_line1 = "42 Market Street"
    account.billing_city = "Springfield"
    account.save()
    data = buy(owner_client, CreditPackageFactory(name="Growth", credits=2500, price="39.00"))
    invoice = Invoice.objects.get(pk=data["invoice"]["id"])

    response = owner_client.get(f"/api/v1/billing/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.invoice_number}.pdf"'
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert invoice.invoice_number in text
    assert "46.80 USD" in text  # 39.00 + 20 % tax
    assert "7.80 USD" in text and "39.00 USD" in text
    assert "Status\nPaid" in text
    assert "How to pay" not in text
    assert "creditdesk Inc." in text and "1 Ledger Lane" in text
    assert "Acme" in text and "42 Market Street" in text and "Springfield" in text
    assert "Growth (2500 credits)" in text


def test_the_pdf_of_a_pending_bank_transfer_says_pending_with_the_bank_details_and_reference(
    owner_client, settings
):
    PaymentMethodConfig.objects.filter(payment_method="bank_transfer").update(
        instructions="Pay to ACME Bank, IBAN XX00 1234."
    )
    data = buy(owner_client, CreditPackageFactory(price="9.00"), "bank_transfer")
    response = owner_client.get(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/")
    text = pdf_text(response.content)
    assert "Status\nPending" in text and "Paid" not in text and "DUE" not in text
    assert "How to pay" in text and "Pay to ACME Bank, IBAN XX00 1234." in text
    reference = data["next_action"]["reference"]
    assert f"Payment reference\n{reference}" in text
    assert "Amount\n9.00 USD" in text


def test_the_pdf_of_a_cancelled_transfer_is_void_without_payment_instructions(owner_client):
    data = buy(owner_client, CreditPackageFactory(), "bank_transfer")
    owner_client.post(f"/api/v1/billing/payments/{data['payment']['id']}/cancel/")
    text = pdf_text(owner_client.get(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/").content)
    assert "Status\nVoid" in text and "How to pay" not in text


def test_customer_text_in_the_pdf_is_printed_not_interpreted(owner_client, account):
    account.name = "<b>Evil & Co</b><br/>"
    account.save()
    data = buy(owner_client, CreditPackageFactory())
    response = owner_client.get(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/")
    assert response.status_code == 200
    assert "<b>Evil & Co</b><br/>" in pdf_text(response.content)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_every_member_may_download_the_pdf(owner_client, client_for, role):
    data = buy(owner_client, CreditPackageFactory())
    response = client_for(role).get(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_another_tenants_pdf_is_404_in_the_envelope_even_when_asking_for_a_pdf(owner_client, other_client):
    data = buy(owner_client, CreditPackageFactory())
    response = other_client.get(
        f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["success"] is False


def test_the_pdf_needs_authentication(api_client, owner_client):
    data = buy(owner_client, CreditPackageFactory())
    assert api_client.get(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/").status_code == 401

"""Buying a credit package: the catalogue, the purchase endpoint, the sandbox path, roles and tenancy."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from creditdesk.billing.models import (
    CreditPackage,
    CreditTransaction,
    Invoice,
    InvoiceSequence,
    Payment,
    PaymentMethodConfig,
)
from creditdesk.billing.tests.factories import (
    STRIPE_TEST_SECRET_KEY,
    STRIPE_TEST_WEBHOOK_SECRET,
    CreditPackageFactory,
)
from creditdesk.core.models import IdempotencyKey
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def purchase_url(package_id: int) -> str:
    return f"/api/v1/billing/credit-packages/{package_id}/purchase/"


@pytest.fixture
def package() -> CreditPackage:
    return CreditPackageFactory(name="Starter", credits=500, price="9.00")


def nothing_bought() -> bool:
    return (
        not Invoice.objects.exists() and not Payment.objects.exists() and not InvoiceSequence.objects.exists()
    )


# --- Catalogue ------------------------------------------------------------------------------------------


def test_credit_packages_lists_only_active_packages_paginated(owner_client, package):
    CreditPackageFactory(name="Retired", is_active=False)
    response = owner_client.get("/api/v1/billing/credit-packages/")
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"results", "count", "next", "previous"}
    names = [row["name"] for row in data["results"]]
    assert "Starter" in names and "Retired" not in names
    row = next(row for row in data["results"] if row["name"] == "Starter")
    assert row["price"] == "9.00" and row["credits"] == 500
    assert set(row) == {
        "id",
        "name",
        "slug",
        "credits",
        "price",
        "currency",
        "description",
        "is_active",
        "is_featured",
        "sort_order",
    }


def test_payment_methods_are_enabled_only_when_configured_and_allowed_by_the_environment(
    owner_client, settings
):
    settings.BILLING_SANDBOX = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    PaymentMethodConfig.objects.filter(payment_method="bank_transfer").update(instructions="")
    response = owner_client.get("/api/v1/billing/payment-methods/")
    assert response.status_code == 200
    methods = {row["payment_method"]: row for row in response.json()["data"]["results"]}
    assert set(methods) == {"stripe", "bank_transfer", "sandbox"}
    assert methods["stripe"]["is_enabled"] is False  # no keys in this environment
    assert methods["bank_transfer"]["is_enabled"] is True
    assert methods["sandbox"]["is_enabled"] is True
    assert "IBAN" in methods["bank_transfer"]["instructions"]  # falls back to BANK_TRANSFER_INSTRUCTIONS
    assert set(methods["stripe"]) == {
        "payment_method",
        "display_name",
        "is_enabled",
        "instructions",
        "sort_order",
    }

    settings.BILLING_SANDBOX = False
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_TEST_WEBHOOK_SECRET
    PaymentMethodConfig.objects.filter(payment_method="bank_transfer").update(is_enabled=False)
    methods = {
        row["payment_method"]: row["is_enabled"]
        for row in owner_client.get("/api/v1/billing/payment-methods/").json()["data"]["results"]
    }
    assert methods == {"stripe": True, "bank_transfer": False, "sandbox": False}


def test_stripe_needs_both_the_secret_key_and_the_webhook_secret(owner_client, settings):
    settings.STRIPE_SECRET_KEY = STRIPE_TEST_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = ""
    methods = {
        row["payment_method"]: row["is_enabled"]
        for row in owner_client.get("/api/v1/billing/payment-methods/").json()["data"]["results"]
    }
    assert methods["stripe"] is False


# --- Sandbox: the whole success path at once ----------------------------------------------------------


def test_sandbox_purchase_grants_the_credits_once_and_marks_invoice_and_payment_paid(
    owner_client, owner, account, package, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["next_action"] == {"type": "completed"}
    invoice = Invoice.objects.get(account=account)
    payment = Payment.objects.get(account=account)
    assert data["invoice"]["id"] == invoice.pk and data["payment"]["id"] == payment.pk
    assert invoice.status == Invoice.Status.PAID and invoice.paid_at is not None
    assert payment.status == Payment.Status.SUCCEEDED and payment.approved_at is not None
    assert data["invoice"]["status"] == "paid" and data["payment"]["status"] == "succeeded"
    assert invoice.invoice_number == f"INV-{timezone.localdate().year}-001"
    assert invoice.credits == 500 and invoice.credit_package == package

    grant = CreditTransaction.objects.get(account=account, transaction_type="purchase")
    assert grant.amount == 500
    assert grant.reference == f"payment:{payment.pk}"
    assert grant.created_by == owner
    account.refresh_from_db()
    assert account.credits == 1000 + 500
    assert_ledger_consistent(account)

    actions = set(AuditLog.objects.filter(account=account).values_list("action", flat=True))
    assert {"credits.purchase_started", "payment.succeeded"} <= actions

    assert len(mail.outbox) == 1
    receipt = mail.outbox[0]
    assert receipt.to == [owner.email]
    assert invoice.invoice_number in receipt.subject
    assert "500 credits" in receipt.body and "9.00" in receipt.body


def test_the_purchase_response_follows_the_contract(owner_client, package):
    data = owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json").json()[
        "data"
    ]
    assert set(data) == {"invoice", "payment", "next_action"}
    assert set(data["invoice"]) == {
        "id",
        "invoice_number",
        "status",
        "subtotal",
        "tax_amount",
        "total_amount",
        "currency",
        "line_items",
        "billing_details",
        "due_date",
        "paid_at",
        "created_at",
        "pdf_url",
    }
    assert set(data["payment"]) == {
        "id",
        "invoice",
        "invoice_number",
        "amount",
        "currency",
        "status",
        "payment_method",
        "provider_reference",
        "transfer_reference",
        "failure_reason",
        "reference_code",
        "instructions",
        "expires_at",
        "created_at",
        "approved_at",
    }
    assert data["invoice"]["line_items"] == [
        {"description": "Starter (500 credits)", "quantity": 1, "unit_price": "9.00", "amount": "9.00"}
    ]
    assert data["payment"]["invoice_number"] == data["invoice"]["invoice_number"]
    assert data["payment"]["amount"] == "9.00"
    assert data["invoice"]["pdf_url"].endswith(f"/api/v1/billing/invoices/{data['invoice']['id']}/pdf/")


def test_the_receipt_also_goes_to_the_billing_email(
    owner_client, owner, account, package, django_capture_on_commit_callbacks
):
    account.billing_email = "books@acme.test"
    account.save(update_fields=["billing_email"])
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    assert mail.outbox[0].to == [owner.email, "books@acme.test"]


def test_invoice_is_taxed_rounded_half_up_and_snapshots_the_billing_address(owner_client, account, settings):
    settings.INVOICE_TAX_RATE = Decimal("0.19")
    settings.INVOICE_DUE_DAYS = 30
    package = CreditPackageFactory(credits=100, price="10.05")  # 10.05 * 0.19 = 1.9095 -> 1.91
    account.billing_address_line1 = "1 Road"
    account.billing_city = "Berlin"
    account.billing_country = "DE"
    account.tax_id = "DE123"
    account.save()

    response = owner_client.post(purchase_url(package.pk), {"payment_method": "bank_transfer"}, format="json")

    assert response.status_code == 201
    invoice = Invoice.objects.get(account=account)
    assert invoice.subtotal == Decimal("10.05")
    assert invoice.tax_amount == Decimal("1.91")
    assert invoice.total_amount == Decimal("11.96")
    assert invoice.due_date == timezone.localdate() + timedelta(days=30)
    assert invoice.billing_details["name"] == "Acme"
    assert invoice.billing_details["address_line1"] == "1 Road"
    assert invoice.billing_details["country"] == "DE" and invoice.billing_details["tax_id"] == "DE123"
    assert Payment.objects.get(invoice=invoice).amount == Decimal("11.96")

    account.billing_city = "Paris"
    account.save()
    invoice.refresh_from_db()
    assert invoice.billing_details["city"] == "Berlin"  # issued invoices keep the address they were issued to


def test_the_invoice_keeps_the_credits_it_sold_when_the_package_changes_later(owner_client, account, package):
    owner_client.post(purchase_url(package.pk), {"payment_method": "bank_transfer"}, format="json")
    package.credits = 9999
    package.price = Decimal("1.00")
    package.save()
    invoice = Invoice.objects.get(account=account)
    assert invoice.credits == 500 and invoice.total_amount == Decimal("9.00")


# --- Refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_buy(client_for, package, role, account):
    response = client_for(role).post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert nothing_bought()
    account.refresh_from_db()
    assert account.credits == 1000


def test_an_admin_can_buy(client_for, package, account):
    response = client_for(Role.ADMIN).post(
        purchase_url(package.pk), {"payment_method": "sandbox"}, format="json"
    )
    assert response.status_code == 201
    account.refresh_from_db()
    assert account.credits == 1500


def test_anonymous_callers_cannot_buy(api_client, package):
    response = api_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 401
    assert nothing_bought()


@pytest.mark.parametrize(
    "extra",
    [{"amount": "0.01"}, {"credits": 1_000_000}, {"price": "0.00"}, {"status": "paid"}],
)
def test_the_client_cannot_set_amount_credits_price_or_status(owner_client, package, account, extra):
    response = owner_client.post(
        purchase_url(package.pk),
        {"payment_method": "sandbox", **extra},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 400
    body = response.json()
    assert set(extra) <= set(body["errors"])
    assert nothing_bought()
    assert not IdempotencyKey.objects.exists()
    account.refresh_from_db()
    assert account.credits == 1000


def test_an_unknown_payment_method_is_a_field_error(owner_client, package):
    response = owner_client.post(purchase_url(package.pk), {"payment_method": "bitcoin"}, format="json")
    assert response.status_code == 400
    assert "payment_method" in response.json()["errors"]
    assert nothing_bought()


def test_a_missing_payment_method_is_a_field_error(owner_client, package):
    response = owner_client.post(purchase_url(package.pk), {}, format="json")
    assert response.status_code == 400
    assert "payment_method" in response.json()["errors"]


def test_a_method_disabled_by_an_operator_is_refused(owner_client, package):
    PaymentMethodConfig.objects.filter(payment_method="sandbox").update(is_enabled=False)
    response = owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["payment_method"] == ["This payment method is not available."]
    assert nothing_bought()


def test_the_sandbox_is_refused_where_the_environment_does_not_allow_it(owner_client, package, settings):
    settings.BILLING_SANDBOX = False
    response = owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 400
    assert "payment_method" in response.json()["errors"]
    assert nothing_bought()


def test_stripe_is_refused_without_keys(owner_client, package, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = owner_client.post(purchase_url(package.pk), {"payment_method": "stripe"}, format="json")
    assert response.status_code == 400
    assert nothing_bought()


def test_an_inactive_package_cannot_be_bought(owner_client):
    retired = CreditPackageFactory(is_active=False)
    response = owner_client.post(purchase_url(retired.pk), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 400
    assert "no longer on sale" in response.json()["error"]
    assert nothing_bought()


def test_an_unknown_package_is_404(owner_client):
    response = owner_client.post(purchase_url(999_999), {"payment_method": "sandbox"}, format="json")
    assert response.status_code == 404
    assert nothing_bought()


# --- Idempotency -----------------------------------------------------------------------------------------


def test_a_repeated_purchase_with_the_same_key_replays_without_buying_twice(owner_client, account, package):
    first = owner_client.post(
        purchase_url(package.pk), {"payment_method": "sandbox"}, format="json", HTTP_IDEMPOTENCY_KEY="buy-1"
    )
    again = owner_client.post(
        purchase_url(package.pk), {"payment_method": "sandbox"}, format="json", HTTP_IDEMPOTENCY_KEY="buy-1"
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == Payment.objects.count() == 1
    account.refresh_from_db()
    assert account.credits == 1500
    assert_ledger_consistent(account)


def test_the_same_key_with_another_body_is_refused(owner_client, package):
    owner_client.post(
        purchase_url(package.pk), {"payment_method": "sandbox"}, format="json", HTTP_IDEMPOTENCY_KEY="buy-2"
    )
    response = owner_client.post(
        purchase_url(package.pk),
        {"payment_method": "bank_transfer"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="buy-2",
    )
    assert response.status_code == 422
    assert Invoice.objects.count() == 1


# --- Reading invoices and payments -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER])
def test_every_member_reads_the_accounts_invoices_and_payments(owner_client, client_for, package, role):
    owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    invoice, payment = Invoice.objects.get(), Payment.objects.get()
    client = client_for(role)

    invoices = client.get("/api/v1/billing/invoices/").json()["data"]
    assert invoices["count"] == 1 and invoices["results"][0]["invoice_number"] == invoice.invoice_number
    assert client.get(f"/api/v1/billing/invoices/{invoice.pk}/").json()["data"]["status"] == "paid"
    payments = client.get("/api/v1/billing/payments/").json()["data"]
    assert payments["count"] == 1 and payments["results"][0]["id"] == payment.pk
    detail = client.get(f"/api/v1/billing/payments/{payment.pk}/").json()["data"]
    assert detail["invoice"] == invoice.pk and detail["payment_method"] == "sandbox"


def test_another_tenants_invoices_and_payments_are_invisible(owner_client, other_client, package):
    owner_client.post(purchase_url(package.pk), {"payment_method": "sandbox"}, format="json")
    invoice, payment = Invoice.objects.get(), Payment.objects.get()

    assert other_client.get("/api/v1/billing/invoices/").json()["data"]["count"] == 0
    assert other_client.get("/api/v1/billing/payments/").json()["data"]["count"] == 0
    for url in [
        f"/api/v1/billing/invoices/{invoice.pk}/",
        f"/api/v1/billing/invoices/{invoice.pk}/pdf/",
        f"/api/v1/billing/payments/{payment.pk}/",
    ]:
        response = other_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["success"] is False


def test_reading_invoices_needs_authentication(api_client):
    for url in ["/api/v1/billing/invoices/", "/api/v1/billing/payments/", "/api/v1/billing/credit-packages/"]:
        assert api_client.get(url).status_code == 401

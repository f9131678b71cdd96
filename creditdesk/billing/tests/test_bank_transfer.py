"""Bank transfers: instructions and a reference code, the customer's confirmation, staff approval or
rejection in the admin, and expiry."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from creditdesk.billing.demo import create_demo_purchases
from creditdesk.billing.models import CreditTransaction, Invoice, Payment, PaymentMethodConfig
from creditdesk.billing.services.payments import (
    approve_bank_transfer,
    expire_bank_transfers,
    reject_bank_transfer,
)
from creditdesk.billing.tests.factories import CreditPackageFactory
from creditdesk.core.errors import ValidationFailed
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db

ADMIN_CHANGELIST = "/admin/billing/payment/"


@pytest.fixture
def package():
    return CreditPackageFactory(name="Starter", credits=500, price="9.00")


@pytest.fixture
def transfer(owner_client, package) -> Payment:
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "bank_transfer"},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Payment.objects.get(pk=response.json()["data"]["payment"]["id"])


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("staff@creditdesk.test", "staff-password-123")


@pytest.fixture
def admin_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def confirm_url(payment: Payment) -> str:
    return f"/api/v1/billing/payments/{payment.pk}/confirm/"


def purchase_grants(account) -> list[int]:
    return list(
        CreditTransaction.objects.filter(account=account, transaction_type="purchase").values_list(
            "amount", flat=True
        )
    )


# --- Purchase --------------------------------------------------------------------------------------------


def test_a_bank_transfer_purchase_awaits_approval_with_instructions_and_a_reference(
    owner_client, account, package, settings
):
    settings.BANK_TRANSFER_EXPIRY_DAYS = 14
    PaymentMethodConfig.objects.filter(payment_method="bank_transfer").update(
        instructions="Pay to ACME Bank, IBAN XX00 1234."
    )
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "bank_transfer"},
        format="json",
    )

    assert response.status_code == 201
    data = response.json()["data"]
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PENDING_APPROVAL
    assert payment.invoice.status == Invoice.Status.PENDING
    assert data["next_action"] == {
        "type": "bank_transfer",
        "reference": payment.reference_code,
        "instructions": "Pay to ACME Bank, IBAN XX00 1234.",
        "amount": "9.00",
        "currency": "USD",
    }
    assert payment.reference_code.startswith("CD-") and len(payment.reference_code) == 11
    assert data["payment"]["provider_reference"] == payment.reference_code
    assert abs(payment.expires_at - (timezone.now() + timedelta(days=14))) < timedelta(minutes=1)
    account.refresh_from_db()
    assert account.credits == 1000 and purchase_grants(account) == []


# --- The customer's confirmation -------------------------------------------------------------------------


def test_the_owner_records_the_transfer_reference(owner_client, transfer, account):
    response = owner_client.post(
        confirm_url(transfer), {"transfer_reference": "  SEPA-778899  "}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["data"]["transfer_reference"] == "SEPA-778899"
    transfer.refresh_from_db()
    assert transfer.transfer_reference == "SEPA-778899"
    assert transfer.status == Payment.Status.PENDING_APPROVAL  # staff still have to see the money
    assert AuditLog.objects.filter(account=account, action="bank_transfer.confirmed").exists()
    account.refresh_from_db()
    assert account.credits == 1000


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_confirm(client_for, transfer, role):
    response = client_for(role).post(confirm_url(transfer), {"transfer_reference": "X"}, format="json")
    assert response.status_code == 403
    transfer.refresh_from_db()
    assert transfer.transfer_reference == ""


def test_another_tenant_cannot_confirm_and_sees_404(other_client, transfer):
    response = other_client.post(confirm_url(transfer), {"transfer_reference": "X"}, format="json")
    assert response.status_code == 404
    transfer.refresh_from_db()
    assert transfer.transfer_reference == ""
    assert not AuditLog.objects.filter(action="bank_transfer.confirmed").exists()


def test_only_a_bank_transfer_awaiting_approval_can_be_confirmed(owner_client, package, transfer, staff):
    sandbox = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "sandbox"},
        format="json",
    ).json()["data"]["payment"]
    response = owner_client.post(
        f"/api/v1/billing/payments/{sandbox['id']}/confirm/", {"transfer_reference": "X"}, format="json"
    )
    assert response.status_code == 400

    approve_bank_transfer(payment_id=transfer.pk, actor=staff)
    response = owner_client.post(confirm_url(transfer), {"transfer_reference": "X"}, format="json")
    assert response.status_code == 400
    transfer.refresh_from_db()
    assert transfer.transfer_reference == ""


@pytest.mark.parametrize(
    "body", [{}, {"transfer_reference": ""}, {"transfer_reference": "X", "status": "succeeded"}]
)
def test_a_confirmation_needs_a_reference_and_nothing_else(owner_client, transfer, body):
    response = owner_client.post(confirm_url(transfer), body, format="json")
    assert response.status_code == 400
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.PENDING_APPROVAL and transfer.transfer_reference == ""


def test_confirming_an_unknown_payment_is_404(owner_client):
    assert (
        owner_client.post(
            "/api/v1/billing/payments/999999/confirm/", {"transfer_reference": "X"}, format="json"
        ).status_code
        == 404
    )


def test_a_pending_transfer_lists_its_reference_instructions_and_expiry_for_the_billing_page(
    owner_client, transfer
):
    PaymentMethodConfig.objects.filter(payment_method="bank_transfer").update(instructions="IBAN XX00 1234.")
    listed = owner_client.get("/api/v1/billing/payments/").json()["data"]["results"][0]
    assert listed["reference_code"] == transfer.reference_code
    assert listed["instructions"] == "IBAN XX00 1234."
    assert listed["expires_at"] is not None
    detail = owner_client.get(f"/api/v1/billing/payments/{transfer.pk}/").json()["data"]
    assert detail["instructions"] == "IBAN XX00 1234." and detail["amount"] == "9.00"


def test_a_settled_transfer_no_longer_shows_instructions(owner_client, transfer, staff):
    approve_bank_transfer(payment_id=transfer.pk, actor=staff)
    detail = owner_client.get(f"/api/v1/billing/payments/{transfer.pk}/").json()["data"]
    assert detail["status"] == "succeeded" and detail["instructions"] == ""


# --- The customer's cancellation -------------------------------------------------------------------------


def cancel_url(payment: Payment) -> str:
    return f"/api/v1/billing/payments/{payment.pk}/cancel/"


def test_the_owner_cancels_a_pending_transfer_and_its_invoice_is_void(owner_client, transfer, account, staff):
    response = owner_client.post(cancel_url(transfer))

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "failed" and data["failure_reason"] == "Cancelled by the customer."
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.FAILED
    assert transfer.invoice.status == Invoice.Status.VOID
    assert AuditLog.objects.filter(account=account, action="bank_transfer.cancelled").exists()
    # A late approval of a cancelled transfer grants nothing.
    assert approve_bank_transfer(payment_id=transfer.pk, actor=staff) is False
    account.refresh_from_db()
    assert account.credits == 1000 and purchase_grants(account) == []


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_cancel(client_for, transfer, role):
    assert client_for(role).post(cancel_url(transfer)).status_code == 403
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.PENDING_APPROVAL


def test_another_tenant_cannot_cancel_and_sees_404(other_client, transfer):
    assert other_client.post(cancel_url(transfer)).status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.PENDING_APPROVAL


def test_only_a_transfer_awaiting_approval_can_be_cancelled(owner_client, package, transfer, staff, account):
    sandbox = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "sandbox"},
        format="json",
    ).json()["data"]["payment"]
    assert owner_client.post(f"/api/v1/billing/payments/{sandbox['id']}/cancel/").status_code == 400
    assert Payment.objects.get(pk=sandbox["id"]).status == Payment.Status.SUCCEEDED

    approve_bank_transfer(payment_id=transfer.pk, actor=staff)
    assert owner_client.post(cancel_url(transfer)).status_code == 400
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.SUCCEEDED and transfer.invoice.status == Invoice.Status.PAID
    account.refresh_from_db()
    assert account.credits == 1000 + 500 + 500


def test_cancelling_an_unknown_payment_is_404(owner_client):
    assert owner_client.post("/api/v1/billing/payments/999999/cancel/").status_code == 404


# --- Approval and rejection ------------------------------------------------------------------------------


def test_approval_grants_once_and_a_second_approval_changes_nothing(
    transfer, account, owner, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert approve_bank_transfer(payment_id=transfer.pk, actor=staff) is True
        assert approve_bank_transfer(payment_id=transfer.pk, actor=staff) is False

    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.SUCCEEDED
    assert transfer.approved_by == staff and transfer.approved_at is not None
    assert transfer.invoice.status == Invoice.Status.PAID
    assert purchase_grants(account) == [500]
    account.refresh_from_db()
    assert account.credits == 1500
    assert_ledger_consistent(account)
    approvals = AuditLog.objects.filter(account=account, action="bank_transfer.approved")
    assert approvals.count() == 1 and approvals.get().actor == staff
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_rejection_voids_the_invoice_and_a_later_approval_grants_nothing(transfer, account, staff):
    assert reject_bank_transfer(payment_id=transfer.pk, actor=staff, reason="No money arrived.") is True

    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.FAILED and transfer.failure_reason == "No money arrived."
    assert transfer.invoice.status == Invoice.Status.VOID and transfer.invoice.voided_at
    assert AuditLog.objects.filter(account=account, action="bank_transfer.rejected", actor=staff).exists()

    assert approve_bank_transfer(payment_id=transfer.pk, actor=staff) is False
    assert purchase_grants(account) == []
    account.refresh_from_db()
    assert account.credits == 1000


def test_a_paid_transfer_cannot_be_rejected(transfer, account, staff):
    approve_bank_transfer(payment_id=transfer.pk, actor=staff)
    assert reject_bank_transfer(payment_id=transfer.pk, actor=staff, reason="oops") is False
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.SUCCEEDED and transfer.invoice.status == Invoice.Status.PAID


def test_staff_cannot_approve_a_card_or_sandbox_payment(owner_client, package, staff):
    data = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "sandbox"},
        format="json",
    ).json()["data"]
    with pytest.raises(ValidationFailed):
        approve_bank_transfer(payment_id=data["payment"]["id"], actor=staff)


def test_the_admin_approve_action_grants_once_even_when_run_twice(admin_client, transfer, account):
    for _ in range(2):
        response = admin_client.post(
            ADMIN_CHANGELIST, {"action": "approve_bank_transfers", "_selected_action": [transfer.pk]}
        )
        assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.SUCCEEDED
    assert purchase_grants(account) == [500]
    assert_ledger_consistent(account)


def test_the_admin_reject_action_voids_the_invoice(admin_client, transfer, account):
    response = admin_client.post(
        ADMIN_CHANGELIST, {"action": "reject_bank_transfers", "_selected_action": [transfer.pk]}
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.FAILED
    assert transfer.invoice.status == Invoice.Status.VOID
    assert purchase_grants(account) == []


def test_payments_and_invoices_are_read_only_in_the_admin(admin_client, transfer):
    assert admin_client.get(ADMIN_CHANGELIST).status_code == 200
    assert admin_client.get(f"{ADMIN_CHANGELIST}add/").status_code == 403
    page = admin_client.get(f"{ADMIN_CHANGELIST}{transfer.pk}/change/")
    assert page.status_code == 200
    assert b'name="status"' not in page.content
    assert admin_client.get(f"/admin/billing/invoice/{transfer.invoice_id}/change/").status_code == 200


# --- Expiry ----------------------------------------------------------------------------------------------


def test_unapproved_transfers_expire_after_the_configured_days(
    owner_client, package, transfer, account, settings
):
    settings.BANK_TRANSFER_EXPIRY_DAYS = 14
    fresh = Payment.objects.get(
        pk=owner_client.post(
            f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
            {"payment_method": "bank_transfer"},
            format="json",
        ).json()["data"]["payment"]["id"]
    )
    Payment.objects.filter(pk=transfer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    out = StringIO()
    call_command("expire_bank_transfers", stdout=out)

    assert "expired 1 bank transfer(s)" in out.getvalue()
    transfer.refresh_from_db()
    fresh.refresh_from_db()
    assert transfer.status == Payment.Status.FAILED and "Expired" in transfer.failure_reason
    assert transfer.invoice.status == Invoice.Status.VOID
    assert fresh.status == Payment.Status.PENDING_APPROVAL
    assert AuditLog.objects.filter(account=account, action="payment.expired").count() == 1
    assert expire_bank_transfers() == 0  # running again finds nothing more


def test_an_expired_transfer_can_no_longer_be_approved(transfer, account, staff):
    Payment.objects.filter(pk=transfer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert expire_bank_transfers() == 1
    assert approve_bank_transfer(payment_id=transfer.pk, actor=staff) is False
    assert purchase_grants(account) == []


def test_an_approved_transfer_never_expires(transfer, staff):
    approve_bank_transfer(payment_id=transfer.pk, actor=staff)
    Payment.objects.filter(pk=transfer.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert expire_bank_transfers() == 0
    transfer.refresh_from_db()
    assert transfer.status == Payment.Status.SUCCEEDED


# --- Demo data -------------------------------------------------------------------------------------------


def test_the_demo_gets_two_paid_invoices_and_one_pending_transfer_once(account, owner):
    created = create_demo_purchases(account=account, actor=owner)

    assert [p.status for p in created] == ["succeeded", "succeeded", "pending_approval"]
    assert Invoice.objects.filter(account=account, status=Invoice.Status.PAID).count() == 2
    assert Payment.objects.filter(account=account, status=Payment.Status.PENDING_APPROVAL).count() == 1
    assert sorted(purchase_grants(account)) == [500, 2500]  # the seeded starter and growth packs
    assert_ledger_consistent(account)

    assert create_demo_purchases(account=account, actor=owner) == []
    assert Payment.objects.filter(account=account).count() == 3


def test_staff_find_payments_by_account_name_and_see_amounts_with_their_currency(
    admin_client, transfer, account
):
    response = admin_client.get(ADMIN_CHANGELIST, {"q": account.name})
    assert list(response.context["cl"].result_list) == [transfer]
    assert "9.00 USD" in response.content.decode()
    assert list(admin_client.get(ADMIN_CHANGELIST, {"q": "no such company"}).context["cl"].result_list) == []

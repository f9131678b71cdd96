"""Billing's and the team's changes emit their events once per cause, in the cause's transaction."""

from datetime import UTC, datetime

import pytest

from creditdesk.billing.models import Payment
from creditdesk.billing.services.payments import fail_payment, mark_payment_succeeded
from creditdesk.billing.services.subscriptions import grant_monthly_allowance
from creditdesk.billing.tests.factories import CreditPackageFactory
from creditdesk.events.models import Event
from creditdesk.tenancy.roles import Role


def types_of(account) -> list[str]:
    return sorted(Event.objects.filter(account=account).values_list("type", flat=True))


@pytest.fixture
def package():
    return CreditPackageFactory(name="Starter", credits=500, price="9.00")


def test_a_purchase_emits_payment_succeeded_invoice_paid_and_credits_granted_once(
    owner_client, account, package
):
    response = owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "sandbox"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert types_of(account) == ["credits.granted", "invoice.paid", "payment.succeeded"]
    payment = Payment.objects.get(account=account)
    events = {e.type: e.data for e in Event.objects.filter(account=account)}
    assert events["payment.succeeded"]["payment_id"] == payment.pk
    assert events["payment.succeeded"]["amount"] == "9.00"
    assert events["credits.granted"] == {
        "amount": 500,
        "source": "purchase",
        "payment_id": payment.pk,
        "balance": 1500,
    }

    # The provider confirming again is not a second cause.
    assert mark_payment_succeeded(payment=payment, source="test") is False
    assert len(types_of(account)) == 3


def test_a_failed_payment_emits_payment_failed_once(owner_client, account, package):
    owner_client.post(
        f"/api/v1/billing/credit-packages/{package.pk}/purchase/",
        {"payment_method": "bank_transfer"},
        format="json",
    )
    payment = Payment.objects.get(account=account)
    assert fail_payment(payment=payment, reason="card declined", source="test") is True
    assert fail_payment(payment=payment, reason="card declined", source="test") is False
    failed = Event.objects.get(account=account, type="payment.failed")
    assert failed.data["failure_reason"] == "card declined"
    assert types_of(account) == ["payment.failed"]


def test_the_monthly_allowance_emits_credits_granted_once_per_month(account):
    account.plan.credits_per_month = 100
    account.plan.save()
    december = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert grant_monthly_allowance(account=account, now=december) is not None
    assert grant_monthly_allowance(account=account, now=december) is None
    granted = Event.objects.get(account=account, type="credits.granted")
    assert granted.data == {"amount": 100, "source": "plan", "balance": 1100}


def test_removing_a_member_emits_member_removed_once(owner_client, account, make_member):
    member = make_member(account, Role.MEMBER, email="gone@acme.test")
    assert owner_client.delete(f"/api/v1/account/team/{member.pk}/").status_code == 200
    assert owner_client.delete(f"/api/v1/account/team/{member.pk}/").status_code == 404
    removed = Event.objects.get(account=account)
    assert removed.type == "member.removed"
    assert removed.data["email"] == "gone@acme.test"


def test_an_expired_hold_emits_hold_expired_once(account):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.holds import create_hold, release_expired_holds

    now = timezone.now()
    held = create_hold(
        account=account, user=None, operation_type="clustering", credits=200, expires_in=60, now=now
    )
    assert release_expired_holds(now=now + timedelta(seconds=30)) == 0
    assert release_expired_holds(now=now + timedelta(seconds=61)) == 1
    assert release_expired_holds(now=now + timedelta(seconds=120)) == 0
    (expired,) = Event.objects.filter(account=account, type="hold.expired")
    assert expired.data == {"hold_id": held.hold.pk, "reference_id": "", "released": 200}

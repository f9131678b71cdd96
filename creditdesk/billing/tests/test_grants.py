"""Grants: every credit arrives as one, deductions draw in a documented order, unused credits expire once."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from creditdesk.billing.models import CreditDraw, CreditGrant, CreditTransaction, Plan
from creditdesk.billing.services.grants import expire_credits, grant_plan_period
from creditdesk.billing.services.ledger import (
    InsufficientCredits,
    claw_back_credits,
    deduct_credits,
    grant_credits,
)
from creditdesk.billing.services.payments import refund_payment
from creditdesk.billing.services.purchases import purchase_package
from creditdesk.billing.services.subscriptions import grant_monthly_credits
from creditdesk.billing.services.usage import record_usage
from creditdesk.billing.services.verification import find_drift
from creditdesk.billing.tests.factories import CreditPackageFactory
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
DEC = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
JAN = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)


def draws_of(row: CreditTransaction) -> dict[str, int]:
    return {
        d.grant.reference: d.credits
        for d in CreditDraw.objects.filter(transaction=row).select_related("grant")
    }


def test_every_grant_path_records_a_grant_with_its_source(make_account, owner) -> None:
    account = make_account()
    grant_credits(account=account, amount=10, description="promo")
    grant_plan_period(account=account, now=NOV)
    package = CreditPackageFactory(credits=500, price="9.00")
    purchase_package(account=account, package_id=package.pk, payment_method="sandbox", actor=owner)
    from creditdesk.billing.services.ledger import adjust_credits

    adjust_credits(account=account, amount=7, reason="support", created_by=owner)
    sources = sorted(CreditGrant.objects.filter(account=account).values_list("source", "amount"))
    assert sources == [("adjustment", 7), ("plan", 100), ("promotion", 10), ("purchase", 500)]
    purchase = CreditGrant.objects.get(account=account, source="purchase")
    assert purchase.cost_basis == Decimal("0.018")  # 9.00 / 500 credits, before tax
    assert purchase.expires_at is None and purchase.priority == 10
    assert_ledger_consistent(account)


def test_deductions_draw_by_priority_then_soonest_expiry_then_oldest(make_account) -> None:
    account = make_account()
    now = datetime.now(UTC)
    grant_credits(account=account, amount=10, description="paid", source="purchase", reference="paid")
    grant_credits(account=account, amount=10, description="never", reference="never")
    grant_credits(
        account=account, amount=10, description="late", reference="late", expires_at=now + timedelta(days=9)
    )
    grant_credits(
        account=account, amount=10, description="soon", reference="soon", expires_at=now + timedelta(days=2)
    )
    grant_credits(account=account, amount=10, description="never2", reference="never2")
    first = deduct_credits(account=account, amount=15, description="a")
    assert draws_of(first) == {"soon": 10, "late": 5}
    second = deduct_credits(account=account, amount=22, description="b")
    assert draws_of(second) == {"late": 5, "never": 10, "never2": 7}
    third = deduct_credits(account=account, amount=13, description="c")
    assert draws_of(third) == {"never2": 3, "paid": 10}
    assert account.credits == 0
    assert_ledger_consistent(account)


def test_a_deduction_never_draws_from_a_grant_past_its_expiry_even_when_the_job_is_late(make_account) -> None:
    account = make_account()
    grant_credits(account=account, amount=50, description="promo", reference="promo", expires_at=NOV)
    grant_credits(account=account, amount=100, description="kept", reference="kept")
    later = NOV + timedelta(hours=1)
    with pytest.raises(InsufficientCredits) as short:
        deduct_credits(account=account, amount=120, description="big", at=later)
    assert (short.value.needed, short.value.available) == (120, 100)
    row = deduct_credits(account=account, amount=80, description="fits", at=later)
    assert draws_of(row) == {"kept": 80}
    expirations = CreditTransaction.objects.filter(account=account, transaction_type="expiration")
    assert [(e.amount, e.reference) for e in expirations] == [
        (-50, f"expiration:grant:{CreditGrant.objects.get(reference='promo').pk}")
    ]
    assert expire_credits(now=later).credits == 0  # the job, late, finds nothing left to do
    account.refresh_from_db()
    assert account.credits == 20
    assert_ledger_consistent(account)


def test_the_expiry_job_expires_each_grant_once_and_only_when_due(make_account) -> None:
    account = make_account(credits=5)
    grant_credits(account=account, amount=40, description="promo", reference="p", expires_at=NOV)
    deduct_credits(account=account, amount=15, description="use", at=NOV - timedelta(days=1))
    assert expire_credits(now=NOV - timedelta(seconds=1)).credits == 0
    report = expire_credits(now=NOV)
    assert (report.accounts, report.credits) == (1, 25)  # the soonest-expiring promo paid the 15
    assert expire_credits(now=NOV + timedelta(days=1)).credits == 0
    call_command("expire_credits")
    assert CreditTransaction.objects.filter(account=account, transaction_type="expiration").count() == 1
    account.refresh_from_db()
    assert account.credits == 5
    assert_ledger_consistent(account)


def test_plan_credits_expire_at_the_month_end_and_roll_over_up_to_the_plans_limit(make_account) -> None:
    Plan.objects.filter(slug="free").update(rollover_limit=30)
    account = make_account()
    grant_plan_period(account=account, now=NOV)
    deduct_credits(account=account, amount=50, description="work", at=NOV + timedelta(days=1))
    grant_monthly_credits(now=DEC)
    account.refresh_from_db()
    assert account.credits == 130  # 50 unused: 30 carried, 20 expired, plus December's 100
    rollover = CreditGrant.objects.get(account=account, source="rollover")
    assert (rollover.amount, rollover.expires_at) == (30, datetime(2027, 1, 1, tzinfo=UTC))
    types = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("id")
        .values_list("transaction_type", "amount")
    )
    assert types[-3:] == [("expiration", -50), ("rollover", 30), ("subscription", 100)]
    # December: the rollover (expiring the same day as December's plan credits, but older) goes first.
    row = deduct_credits(account=account, amount=40, description="dec", at=DEC + timedelta(days=2))
    assert draws_of(row) == {"rollover:2026-11": 30, "subscription:2026-12": 10}
    grant_monthly_credits(now=JAN)
    account.refresh_from_db()
    assert account.credits == 130  # December's 90 unused: 30 carried, 60 expired; January's 100
    assert_ledger_consistent(account)


def test_without_a_rollover_limit_unused_plan_credits_do_not_pile_up(make_account) -> None:
    account = make_account()
    grant_monthly_credits(now=NOV)
    grant_monthly_credits(now=DEC)
    account.refresh_from_db()
    assert account.credits == 100
    assert not CreditGrant.objects.filter(account=account, source="rollover").exists()


def test_purchased_credits_expire_only_when_the_package_says_so(make_account, owner) -> None:
    account = make_account()
    lasting = CreditPackageFactory(credits=100)
    seasonal = CreditPackageFactory(credits=100, expires_in_days=30)
    purchase_package(account=account, package_id=lasting.pk, payment_method="sandbox", actor=owner)
    purchase_package(account=account, package_id=seasonal.pk, payment_method="sandbox", actor=owner)
    expiries = sorted(
        CreditGrant.objects.filter(account=account).values_list("expires_at", flat=True), key=str
    )
    assert expiries[1] is None or expiries[0] is None
    dated = [e for e in expiries if e is not None]
    assert len(dated) == 1 and timedelta(days=29) < dated[0] - datetime.now(UTC) <= timedelta(days=30)
    account.refresh_from_db()
    assert account.next_expiry_at == dated[0]


def test_a_usage_log_records_the_money_value_of_the_credits_it_consumed(make_account, owner) -> None:
    account = make_account(credits=2)  # free credits: cost basis 0
    package = CreditPackageFactory(credits=400, price="10.00")  # 0.025 per credit
    purchase_package(account=account, package_id=package.pk, payment_method="sandbox", actor=owner)
    log = record_usage(account=account, user=owner, operation_type="linking", units=2)  # 6 credits
    assert log.credits_used == 6
    assert log.credits_value == Decimal("0.1000")  # 2 free + 4 x 0.025
    log.refresh_from_db()
    assert log.credits_value == Decimal("0.1000")


def test_a_refund_takes_back_the_refunded_purchase_first(make_account, owner) -> None:
    account = make_account()
    package = CreditPackageFactory(credits=100)
    purchase = purchase_package(account=account, package_id=package.pk, payment_method="sandbox", actor=owner)
    grant_credits(account=account, amount=100, description="promo")
    assert refund_payment(payment=purchase.payment, source="test") is True
    grant = CreditGrant.objects.get(account=account, source="purchase")
    assert grant.remaining == 0
    assert CreditGrant.objects.get(account=account, source="promotion").remaining == 100
    assert_ledger_consistent(account)


def test_a_claw_back_leaves_held_credits_alone(make_account) -> None:
    account = make_account(credits=100)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET held = 30 WHERE id = %s", [account.pk])
    result = claw_back_credits(account=account, amount=100, description="refund")
    assert (result.recovered, result.shortfall) == (70, 30)


def test_verify_ledger_reports_a_grant_that_drifted_from_its_draws(make_account) -> None:
    account = make_account(credits=100)
    deduct_credits(account=account, amount=30, description="use")
    call_command("verify_ledger")
    assert list(find_drift()) == []
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_creditgrant SET remaining = remaining + 5 WHERE account_id = %s", [account.pk]
        )
    drifts = list(find_drift())
    assert [(d.account_id, d.grants_remaining, len(d.broken_grants)) for d in drifts] == [(account.pk, 75, 1)]
    with pytest.raises(CommandError):
        call_command("verify_ledger")

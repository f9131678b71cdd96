from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction, DailyLedgerRollup
from creditdesk.billing.services.ledger import (
    DuplicateLedgerReference,
    InsufficientCredits,
    adjust_credits,
    claw_back_credits,
    deduct_credits,
    grant_credits,
)
from creditdesk.billing.services.subscriptions import grant_monthly_credits
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def test_grants_and_deductions_keep_the_invariant_after_every_call(make_account) -> None:
    account = make_account()
    grant_credits(account=account, amount=300, description="top-up")
    assert_ledger_consistent(account)
    row = deduct_credits(account=account, amount=120, description="work")
    assert (row.amount, row.balance_after) == (-120, 180)
    assert_ledger_consistent(account)
    grant_credits(account=account, amount=5, transaction_type="refund", description="sorry")
    assert_ledger_consistent(account)
    assert account.credits == 185


def test_a_short_deduction_raises_and_writes_nothing(make_account) -> None:
    account = make_account(credits=50)
    with pytest.raises(InsufficientCredits) as raised:
        deduct_credits(account=account, amount=51, description="too much")
    assert (raised.value.needed, raised.value.available, raised.value.status_code) == (51, 50, 402)
    account.refresh_from_db()
    assert account.credits == 50
    assert CreditTransaction.objects.filter(account=account).count() == 1
    assert_ledger_consistent(account)


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "10"])
def test_amounts_must_be_positive_integers(amount: object, make_account) -> None:
    account = make_account(credits=10)
    with pytest.raises(ValueError):
        deduct_credits(account=account, amount=amount, description="x")
    with pytest.raises(ValueError):
        grant_credits(account=account, amount=amount, description="x")


def test_the_same_reference_is_granted_once(make_account) -> None:
    account = make_account()
    grant_credits(account=account, amount=100, description="once", reference="payment:1")
    with pytest.raises(DuplicateLedgerReference):
        grant_credits(account=account, amount=100, description="twice", reference="payment:1")
    account.refresh_from_db()
    assert account.credits == 100
    assert_ledger_consistent(account)


def test_a_clawback_never_goes_below_zero_and_reports_the_shortfall(make_account) -> None:
    account = make_account(credits=500)
    deduct_credits(account=account, amount=450, description="spent")
    result = claw_back_credits(account=account, amount=500, description="refund")
    assert (result.recovered, result.shortfall) == (50, 450)
    assert result.transaction.metadata["shortfall"] == 450
    account.refresh_from_db()
    assert account.credits == 0
    nothing = claw_back_credits(account=account, amount=10, description="again")
    assert nothing.transaction is None and nothing.shortfall == 10
    assert_ledger_consistent(account)


def test_adjustments_are_signed_and_need_a_reason(make_account) -> None:
    account = make_account(credits=100)
    adjust_credits(account=account, amount=-40, reason="duplicate grant", created_by=None)
    adjust_credits(account=account, amount=15, reason="goodwill", created_by=None)
    assert account.credits == 75
    assert list(
        CreditTransaction.objects.filter(transaction_type="adjustment").values_list("amount", flat=True)
    ) == [
        15,
        -40,
    ]
    with pytest.raises(ValueError):
        adjust_credits(account=account, amount=5, reason=" ", created_by=None)
    with pytest.raises(InsufficientCredits):
        adjust_credits(account=account, amount=-76, reason="too much", created_by=None)
    assert_ledger_consistent(account)


def test_ledger_rows_can_never_be_changed_or_deleted(make_account) -> None:
    account = make_account(credits=10)
    row = CreditTransaction.objects.get(account=account)
    row.amount = 1_000_000
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        CreditTransaction.objects.filter(account=account).update(amount=5)
    with pytest.raises(TypeError):
        CreditTransaction.objects.filter(account=account).delete()
    assert CreditTransaction.objects.get(pk=row.pk).amount == 10


def test_the_database_refuses_a_negative_balance_by_itself(make_account) -> None:
    account = make_account(credits=10)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_account SET credits = -1 WHERE id = %s", [account.pk])
    account.refresh_from_db()
    assert account.credits == 10


def test_each_change_is_rolled_up_by_day_and_type(make_account) -> None:
    account = make_account(credits=100)
    deduct_credits(account=account, amount=7, description="a")
    deduct_credits(account=account, amount=3, description="b")
    rollups = {
        r.transaction_type: (r.total, r.count) for r in DailyLedgerRollup.objects.filter(account=account)
    }
    assert rollups == {"grant": (100, 1), "deduction": (-10, 2)}


def test_monthly_credits_are_granted_once_per_account_and_month(make_account) -> None:
    first, second = make_account(), make_account()
    november = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)
    report = grant_monthly_credits(now=november)
    assert (report.granted, report.already_granted) == (2, 0)
    again = grant_monthly_credits(now=november.replace(hour=5))
    assert (again.granted, again.already_granted) == (0, 2)
    assert grant_monthly_credits(now=datetime(2026, 12, 1, 1, tzinfo=UTC)).granted == 2
    for account in (first, second):
        account.refresh_from_db()
        assert account.credits == 100  # November's unused plan credits expired as December's arrived
        refs = list(
            CreditTransaction.objects.filter(account=account)
            .order_by("id")
            .values_list("reference", flat=True)
        )
        november = account.credit_grants.get(reference="subscription:2026-11")
        assert refs == ["subscription:2026-11", f"expiration:grant:{november.pk}", "subscription:2026-12"]
        assert_ledger_consistent(account)


def test_verify_ledger_is_clean_then_reports_drift(make_account, capsys: pytest.CaptureFixture) -> None:
    account: Account = make_account(credits=100)
    call_command("verify_ledger")
    assert "ledger OK" in capsys.readouterr().out
    with connection.cursor() as cursor:  # a bug that changed the balance behind the ledger's back
        cursor.execute("UPDATE accounts_account SET credits = 99 WHERE id = %s", [account.pk])
    with pytest.raises(CommandError, match="ledger drift in 1 account"):
        call_command("verify_ledger")
    assert f"account {account.pk}: credits=99 ledger_sum=100" in capsys.readouterr().err

"""Helpers for tests and benchmarks: read the ledger invariant the way an auditor would."""

from typing import TYPE_CHECKING

from django.db.models import Sum

from creditdesk.billing.models import CreditDraw, CreditGrant, CreditTransaction

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


def assert_ledger_consistent(account: "Account") -> None:
    """credits == sum(ledger amounts) == latest balance_after == sum(grants' remaining), each balance_after
    is the running sum, and each grant's remaining is its amount minus its draws."""
    account.refresh_from_db()
    rows = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("id")
        .values_list("amount", "balance_after")
    )
    running = 0
    for amount, balance_after in rows:
        running += amount
        assert balance_after == running, f"balance_after {balance_after} != running sum {running}"
    total = CreditTransaction.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0
    assert account.credits == total == running, f"credits {account.credits}, ledger sum {total}"
    assert account.credits >= 0
    grants = list(CreditGrant.objects.filter(account=account))
    remaining = sum(grant.remaining for grant in grants)
    assert account.credits == remaining, f"credits {account.credits}, grants' remaining {remaining}"
    for grant in grants:
        drawn = CreditDraw.objects.filter(grant=grant).aggregate(total=Sum("credits"))["total"] or 0
        assert grant.remaining == grant.amount - drawn, (
            f"grant {grant.reference}: remaining {grant.remaining} != {grant.amount} - {drawn}"
        )
        assert grant.expired_at is None or grant.remaining == 0, (
            f"expired grant {grant.reference} kept credits"
        )
    assert account.held >= 0, f"held {account.held}"

"""Helpers for tests and benchmarks: read the ledger invariant the way an auditor would."""

from typing import Any

from django.db.models import Sum

from creditdesk.billing.models import CreditTransaction


def assert_ledger_consistent(account: Any) -> None:
    """credits == sum(ledger amounts) == latest balance_after, and each balance_after is the running sum."""
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

"""Checks the ledger invariant for every account, in SQL, so memory does not grow with the history."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from creditdesk.billing.models import CreditTransaction

LEDGER = CreditTransaction._meta.db_table
ACCOUNTS = CreditTransaction._meta.get_field("account").related_model._meta.db_table


@dataclass(frozen=True)
class Drift:
    account_id: int
    credits: int
    ledger_sum: int
    latest_balance_after: int | None
    broken_running_sums: int

    def describe(self) -> str:
        return (
            f"account {self.account_id}: credits={self.credits} ledger_sum={self.ledger_sum} "
            f"latest_balance_after={self.latest_balance_after} rows_off_running_sum={self.broken_running_sums}"
        )


SUMMARY_SQL = f"""
SELECT a.id, a.credits, COALESCE(s.total, 0), latest.balance_after
FROM {ACCOUNTS} a
LEFT JOIN (
    SELECT account_id, SUM(amount) AS total, MAX(id) AS last_id FROM {LEDGER} GROUP BY account_id
) s ON s.account_id = a.id
LEFT JOIN {LEDGER} latest ON latest.id = s.last_id
WHERE a.credits <> COALESCE(s.total, 0) OR a.credits <> COALESCE(latest.balance_after, 0)
"""

RUNNING_SUM_SQL = f"""
SELECT account_id, COUNT(*) FROM (
    SELECT account_id, balance_after,
           SUM(amount) OVER (PARTITION BY account_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
    FROM {LEDGER}
) t WHERE running <> balance_after GROUP BY account_id
"""


def find_drift() -> Iterator[Drift]:
    with connection.cursor() as cursor:
        cursor.execute(RUNNING_SUM_SQL)
        broken = {int(account_id): int(count) for account_id, count in cursor.fetchall()}
        cursor.execute(SUMMARY_SQL)
        summary = {int(row[0]): row for row in cursor.fetchall()}
    for account_id in sorted(set(broken) | set(summary)):
        if account_id in summary:
            _, credits, total, latest = summary[account_id]
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT credits FROM {ACCOUNTS} WHERE id = %s", [account_id])
                credits = total = latest = cursor.fetchone()[0]
        yield Drift(
            account_id=account_id,
            credits=int(credits),
            ledger_sum=int(total),
            latest_balance_after=None if latest is None else int(latest),
            broken_running_sums=broken.get(account_id, 0),
        )

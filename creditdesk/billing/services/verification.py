"""Checks the ledger invariant for every account, in SQL, so memory does not grow with the history:
credits == sum(ledger) == latest balance_after == sum(grants' remaining), every balance_after is the
running sum, and every grant's remaining == amount - sum(its draws) (expiry is a draw, a reversal's
return a negative one), with nothing left in a grant whose expiry was processed."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from creditdesk.billing.models import CreditDraw, CreditGrant, CreditTransaction

LEDGER = CreditTransaction._meta.db_table
ACCOUNTS = CreditTransaction._meta.get_field("account").related_model._meta.db_table
GRANTS = CreditGrant._meta.db_table
DRAWS = CreditDraw._meta.db_table


@dataclass(frozen=True)
class Drift:
    account_id: int
    credits: int
    ledger_sum: int
    latest_balance_after: int | None
    broken_running_sums: int
    grants_remaining: int = 0
    broken_grants: tuple[int, ...] = ()

    def describe(self) -> str:
        grants = ",".join(map(str, self.broken_grants)) or "none"
        return (
            f"account {self.account_id}: credits={self.credits} ledger_sum={self.ledger_sum} "
            f"latest_balance_after={self.latest_balance_after} rows_off_running_sum={self.broken_running_sums} "
            f"grants_remaining={self.grants_remaining} grants_off_their_draws={grants}"
        )


SUMMARY_SQL = f"""
SELECT a.id, a.credits, COALESCE(s.total, 0), latest.balance_after, COALESCE(g.remaining, 0)
FROM {ACCOUNTS} a
LEFT JOIN (
    SELECT account_id, SUM(amount) AS total, MAX(id) AS last_id FROM {LEDGER} GROUP BY account_id
) s ON s.account_id = a.id
LEFT JOIN {LEDGER} latest ON latest.id = s.last_id
LEFT JOIN (SELECT account_id, SUM(remaining) AS remaining FROM {GRANTS} GROUP BY account_id) g
    ON g.account_id = a.id
"""

RUNNING_SUM_SQL = f"""
SELECT account_id, COUNT(*) FROM (
    SELECT account_id, balance_after,
           SUM(amount) OVER (PARTITION BY account_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
    FROM {LEDGER}
) t WHERE running <> balance_after GROUP BY account_id
"""

GRANTS_SQL = f"""
SELECT g.account_id, g.id FROM {GRANTS} g
LEFT JOIN (SELECT grant_id, SUM(credits) AS drawn FROM {DRAWS} GROUP BY grant_id) d ON d.grant_id = g.id
WHERE g.remaining <> g.amount - COALESCE(d.drawn, 0) OR (g.expired_at IS NOT NULL AND g.remaining <> 0)
ORDER BY g.account_id, g.id
"""


def find_drift() -> Iterator[Drift]:
    with connection.cursor() as cursor:
        cursor.execute(RUNNING_SUM_SQL)
        broken = {int(account_id): int(count) for account_id, count in cursor.fetchall()}
        cursor.execute(GRANTS_SQL)
        broken_grants: dict[int, list[int]] = {}
        for account_id, grant_id in cursor.fetchall():
            broken_grants.setdefault(int(account_id), []).append(int(grant_id))
        cursor.execute(SUMMARY_SQL)
        summary = {
            int(row[0]): row
            for row in cursor.fetchall()
            if not (int(row[1]) == int(row[2]) == int(row[3] or 0) == int(row[4]))
        }
    for account_id in sorted(set(broken) | set(summary) | set(broken_grants)):
        if account_id in summary:
            _, credits, total, latest, remaining = summary[account_id]
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT credits FROM {ACCOUNTS} WHERE id = %s", [account_id])
                credits = total = latest = remaining = cursor.fetchone()[0]
        yield Drift(
            account_id=account_id,
            credits=int(credits),
            ledger_sum=int(total),
            latest_balance_after=None if latest is None else int(latest),
            broken_running_sums=broken.get(account_id, 0),
            grants_remaining=int(remaining),
            broken_grants=tuple(broken_grants.get(account_id, ())),
        )

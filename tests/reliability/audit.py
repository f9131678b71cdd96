"""Reads an account's ledger the way an auditor would, in raw SQL, in any of the suite's databases."""

from __future__ import annotations

from dataclasses import dataclass

from tests.reliability import harness
from tests.reliability.core import Result

ACCOUNTS = "accounts_account"
LEDGER = "billing_credittransaction"
USAGE = "billing_creditusagelog"


@dataclass(frozen=True)
class Audit:
    credits: int
    ledger_sum: int
    latest_balance_after: int
    rows: int
    rows_off_running_sum: int
    deductions: int
    usage_logs: int
    usage_without_ledger: int
    deduction_without_usage: int


AUDIT_SQL = f"""
SELECT a.credits,
       COALESCE((SELECT SUM(amount) FROM {LEDGER} WHERE account_id = a.id), 0),
       COALESCE((SELECT balance_after FROM {LEDGER} WHERE account_id = a.id ORDER BY id DESC LIMIT 1), 0),
       (SELECT COUNT(*) FROM {LEDGER} WHERE account_id = a.id),
       (SELECT COUNT(*) FROM (
            SELECT balance_after, SUM(amount) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
            FROM {LEDGER} WHERE account_id = a.id) t WHERE t.running <> t.balance_after),
       (SELECT COUNT(*) FROM {LEDGER} WHERE account_id = a.id AND transaction_type = 'deduction'),
       (SELECT COUNT(*) FROM {USAGE} WHERE account_id = a.id),
       (SELECT COUNT(*) FROM {USAGE} u LEFT JOIN {LEDGER} l ON l.id = u.transaction_id
            WHERE u.account_id = a.id AND l.id IS NULL),
       (SELECT COUNT(*) FROM {LEDGER} l LEFT JOIN {USAGE} u ON u.transaction_id = l.id
            WHERE l.account_id = a.id AND l.transaction_type = 'deduction' AND u.id IS NULL)
FROM {ACCOUNTS} a WHERE a.id = %s
"""


def audit(account_id: int, db: str = harness.DB_MAIN) -> Audit:
    with harness.sql(db) as conn:
        row = conn.execute(AUDIT_SQL, [account_id]).fetchone()
    assert row is not None, f"no account {account_id}"
    return Audit(*(int(value) for value in row))


def expect_consistent(result: Result, found: Audit, *, label: str = "") -> None:
    """The invariant: credits == ledger sum == latest balance_after == every running sum; never negative."""
    where = f"{label}: " if label else ""
    result.expect(found.credits >= 0, f"{where}negative balance {found.credits}")
    result.expect(
        found.credits == found.ledger_sum, f"{where}credits {found.credits} != ledger sum {found.ledger_sum}"
    )
    result.expect(
        found.rows == 0 or found.credits == found.latest_balance_after,
        f"{where}credits {found.credits} != latest balance_after {found.latest_balance_after}",
    )
    result.expect(
        found.rows_off_running_sum == 0,
        f"{where}{found.rows_off_running_sum} ledger rows whose balance_after is not the running sum",
    )
    result.expect(
        found.usage_without_ledger == 0 and found.deduction_without_usage == 0,
        f"{where}partial rows: {found.usage_without_ledger} usage logs without ledger row, "
        f"{found.deduction_without_usage} deductions without usage log",
    )


def expect_verify_ledger(result: Result, db: str = harness.DB_MAIN) -> None:
    clean, output = harness.verify_ledger(db)
    result.expect(clean, f"verify_ledger reports drift: {output[-400:]}")

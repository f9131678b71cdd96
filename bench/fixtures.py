"""Bench data, written in SQL so that loading a million ledger rows takes seconds, not hours of HTTP.

Run inside Django (`python -m bench.fixtures accounts OUT N` or
`... history ACCOUNT_ID ROWS DAYS with-usage|ledger-only`) against the bench
database only. Every row keeps the ledger's invariant, which `verify_ledger` checks afterwards: each
balance_after is the running sum in id order, the account's credits equal the last one, and the daily
rollups hold the same sums and counts as the rows they summarise.
"""

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import django

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken  # noqa: E402

from creditdesk.accounts.models import Account, User  # noqa: E402
from creditdesk.billing.models import (  # noqa: E402
    CreditCost,
    CreditGrant,
    CreditTransaction,
    CreditUsageLog,
    DailyLedgerRollup,
    DailyOperationRollup,
    Plan,
)
from creditdesk.tenancy.roles import Role  # noqa: E402

LEDGER = CreditTransaction._meta.db_table
USAGE = CreditUsageLog._meta.db_table
LEDGER_ROLLUP = DailyLedgerRollup._meta.db_table
OPERATION_ROLLUP = DailyOperationRollup._meta.db_table
ACCOUNTS = Account._meta.db_table
GRANTS = CreditGrant._meta.db_table
USAGE_COST_USD = "0.0020"  # provider cost of one bench operation
PURCHASE_EVERY = 100  # one purchase per hundred rows keeps analytics' purchases series non-empty


def create_accounts(prefix: str, count: int) -> list[User]:
    """`count` accounts with one owner each; ids are contiguous so pgbench can pick one at random."""
    plan = Plan.objects.filter(is_default=True).first() or Plan.objects.order_by("id").first()
    accounts = Account.objects.bulk_create(
        Account(name=f"{prefix} {n}", slug=f"bench-{prefix}-{n}", plan=plan) for n in range(count)
    )
    password = make_password(None)  # nobody signs in: the bench mints tokens
    users = User.objects.bulk_create(
        User(email=f"{prefix}-{n}@bench.test", account=account, role=Role.OWNER, password=password)
        for n, account in enumerate(accounts)
    )
    ids = [account.pk for account in accounts]
    if ids[-1] - ids[0] + 1 != count:
        raise RuntimeError(f"{prefix}: account ids are not contiguous ({ids[0]}..{ids[-1]})")
    return users


def grant(account_ids: list[int], amount: int) -> None:
    """One opening grant per (new, empty) account, with its rollup row, as the ledger service writes it."""
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNTS} SET credits = credits + %s, ledger_seq = ledger_seq + 1 WHERE id = ANY(%s)",
            [amount, account_ids],
        )
        cursor.execute(
            f"INSERT INTO {LEDGER} (account_id, transaction_type, amount, balance_after, seq, description, "
            f"reference, metadata, created_at) "
            f"SELECT id, 'grant', %s, credits, ledger_seq, 'Bench grant', '', '{{}}'::jsonb, %s FROM {ACCOUNTS} "
            f"WHERE id = ANY(%s) ORDER BY id",
            [amount, now, account_ids],
        )
        cursor.execute(
            f"INSERT INTO {LEDGER_ROLLUP} (account_id, date, transaction_type, total, count) "
            f"SELECT id, %s, 'grant', %s, 1 FROM {ACCOUNTS} WHERE id = ANY(%s)",
            [now.date(), amount, account_ids],
        )
        cursor.execute(
            f"INSERT INTO {GRANTS} (account_id, source, amount, remaining, priority, cost_basis, reference, "
            f"transaction_id, created_at) SELECT l.account_id, 'promotion', l.amount, l.amount, 0, 0, "
            f"'ledger:' || l.id, l.id, l.created_at FROM {LEDGER} l "
            f"WHERE l.account_id = ANY(%s) AND l.description = 'Bench grant'",
            [account_ids],
        )


HISTORY_SQL = f"""
INSERT INTO {LEDGER} (account_id, transaction_type, amount, balance_after, seq, description, reference,
                      metadata, created_at)
SELECT %(account)s, s.tt, s.amount, SUM(s.amount) OVER (ORDER BY s.i), s.i, s.description, '', s.metadata,
       s.at
FROM (
    SELECT i,
        CASE WHEN i = 1 THEN 'grant' WHEN i %% {PURCHASE_EVERY} = 0 THEN 'purchase' ELSE 'deduction' END AS tt,
        CASE WHEN i = 1 THEN %(opening)s WHEN i %% {PURCHASE_EVERY} = 0 THEN 500
             ELSE -(%(prices)s::bigint[])[1 + i %% %(nops)s] END AS amount,
        CASE WHEN i = 1 THEN 'Opening grant' WHEN i %% {PURCHASE_EVERY} = 0 THEN 'Credit purchase'
             ELSE (%(names)s::text[])[1 + i %% %(nops)s] END AS description,
        CASE WHEN i = 1 OR i %% {PURCHASE_EVERY} = 0 THEN '{{}}'::jsonb
             ELSE jsonb_build_object('operation_type', (%(ops)s::text[])[1 + i %% %(nops)s], 'units', 1,
                                     'reference_id', '') END AS metadata,
        %(start)s::timestamptz + (i - 1) * %(step)s::interval AS at
    FROM generate_series(1, %(rows)s) AS i
) s
ORDER BY s.i
"""

USAGE_SQL = f"""
INSERT INTO {USAGE} (account_id, user_id, operation_type, units, credits_used, cost_usd, model,
                     tokens_input, tokens_output, reference_id, metadata, transaction_id, created_at)
SELECT account_id, NULL, metadata->>'operation_type', 1, -amount, {USAGE_COST_USD}, '', NULL, NULL, '', '{{}}'::jsonb,
       id, created_at
FROM {LEDGER} WHERE account_id = %(account)s AND transaction_type = 'deduction' ORDER BY id
"""

ROLLUP_SQL = f"""
INSERT INTO {LEDGER_ROLLUP} (account_id, date, transaction_type, total, count)
SELECT account_id, (created_at AT TIME ZONE 'UTC')::date, transaction_type, SUM(amount), COUNT(*)
FROM {LEDGER} WHERE account_id = %(account)s GROUP BY 1, 2, 3
"""

# From the ledger's metadata rather than the usage logs, so an account loaded without usage logs (the big
# one: they would double the load time) has the same analytics as one with them.
OPERATION_ROLLUP_SQL = f"""
INSERT INTO {OPERATION_ROLLUP} (account_id, date, operation_type, credits, count, cost_usd)
SELECT account_id, (created_at AT TIME ZONE 'UTC')::date, metadata->>'operation_type', -SUM(amount), COUNT(*),
       COUNT(*) * {USAGE_COST_USD}
FROM {LEDGER} WHERE account_id = %(account)s AND transaction_type = 'deduction' GROUP BY 1, 2, 3
"""

BALANCE_SQL = f"""
UPDATE {ACCOUNTS} SET (credits, ledger_seq) = (
    SELECT balance_after, seq FROM {LEDGER} WHERE account_id = %(account)s ORDER BY id DESC LIMIT 1
) WHERE id = %(account)s
"""

# The loaded balance as one never-expiring grant, as the migration to grants would leave it.
GRANT_SQL = f"""
INSERT INTO {GRANTS} (account_id, source, amount, remaining, priority, cost_basis, reference, created_at)
SELECT id, 'migrated', credits, credits, 0, 0, 'bench:history', now() FROM {ACCOUNTS}
WHERE id = %(account)s AND credits > 0
"""


def load_history(account_id: int, rows: int, days: int, usage_logs: bool) -> None:
    """`rows` ledger rows (deductions, some purchases) spread over `days` up to now, with the rollups."""
    costs = list(CreditCost.objects.order_by("operation_type"))
    end = timezone.now() - timedelta(minutes=5)
    params: dict[str, Any] = {
        "account": account_id,
        "rows": rows,
        "opening": rows * max(cost.credits_per_unit for cost in costs),  # never runs dry
        "prices": [cost.credits_per_unit for cost in costs],
        "names": [f"{cost.display_name} (1 × {cost.unit})" for cost in costs],
        "ops": [cost.operation_type for cost in costs],
        "nops": len(costs),
        "start": end - timedelta(days=days),
        "step": timedelta(seconds=days * 86400 / rows),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        if CreditTransaction.objects.filter(account_id=account_id).exists():
            raise RuntimeError(f"account {account_id} has a ledger already: history must come first")
        # The window sum and the group-bys sort a million rows: keep them in memory, not on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        statements = [HISTORY_SQL, ROLLUP_SQL, OPERATION_ROLLUP_SQL, BALANCE_SQL, GRANT_SQL]
        if usage_logs:
            statements.insert(1, USAGE_SQL)
        for sql in statements:
            cursor.execute(sql, params)
    with connection.cursor() as cursor:
        for table in (LEDGER, USAGE, LEDGER_ROLLUP, OPERATION_ROLLUP, ACCOUNTS):
            cursor.execute(f"ANALYZE {table}")


def session(user: User) -> dict[str, Any]:
    refresh = RefreshToken.for_user(user)
    return {"account_id": user.account_id, "access": str(refresh.access_token), "refresh": str(refresh)}


def setup_accounts(out: Path, spread: int) -> None:
    """The accounts every figure uses, their credits and tokens, written to `out` as JSON."""
    small, big, hot = (create_accounts(name, 1)[0] for name in ("small", "big", "hot"))
    spread_users = create_accounts("spread", spread)
    grant([hot.account_id], 50_000_000)
    grant([user.account_id for user in spread_users], 1_000_000)
    fixtures = {
        "small": session(small),
        "big": session(big),
        "hot": session(hot),
        # Access tokens only: a thousand refresh tokens would only fill the outstanding-token table.
        "spread": [str(AccessToken.for_user(user)) for user in spread_users],
        "spread_ids": [spread_users[0].account_id, spread_users[-1].account_id],
    }
    out.write_text(json.dumps(fixtures))


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "accounts":
        setup_accounts(Path(argv[1]), spread=int(argv[2]))
    elif command == "history":
        load_history(int(argv[1]), rows=int(argv[2]), days=int(argv[3]), usage_logs=argv[4] == "with-usage")
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

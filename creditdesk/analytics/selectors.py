"""Usage analytics, read from billing's daily rollups: the cost depends on `days`, not on the history."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import connections, router
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction, DailyLedgerRollup, DailyOperationRollup

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

TxType = CreditTransaction.Type
MAX_DAYS = 365
Converter = Callable[[Any, Any, Any], Any]


# Monthly plan credits and operator grants: inflows the customer did not pay for separately.
GRANT_TYPES = frozenset({TxType.GRANT, TxType.SUBSCRIPTION})
TYPE_ORDER = {value: index for index, value in enumerate(TxType.values)}


# An answer is cached under the account's ledger_seq, which any change it shows advances: an entry is never
# stale, only unused once the ledger moves on. The key names the database and the account's creation time
# too (a database dropped and made again restarts its ids and seqs); the short timeout bounds what a restore
# of an older copy of the same database could meet (flush the cache after one: README, "How it is built").
ANALYTICS_CACHE_SECONDS = 10 * 60
_CACHE_VERSION = 1  # bump when the answer's shape changes


def analytics_period(
    *, days: int | None = None, start: date | None = None, end: date | None = None, today: date | None = None
) -> tuple[date, date]:
    """`start`..`end` as given, or the last `days` (default 30) UTC days up to today."""
    if start is None or end is None:
        end = today or timezone.now().date()
        start = end - timedelta(days=(days or 30) - 1)
    return start, end


def analytics_cache_key(*, account: "Account", start: date, end: date) -> str:
    database = connections["default"].settings_dict["NAME"]  # several databases may share one cache
    return (
        f"analytics:{_CACHE_VERSION}:{database}:{account.pk}:{account.created_at.timestamp()}:"
        f"{account.ledger_seq}:"
        f"{start.isoformat()}:{end.isoformat()}"
    )


def ledger_replicated(*, account: "Account") -> bool:
    """Whether the database analytics read from (the replica, inside replica_reads) has the ledger up to the
    seq `account` was read with from the primary; always, without a replica."""
    model = type(account)
    alias = router.db_for_read(model)
    if alias == "default":
        return True
    seq = model.objects.using(alias).filter(pk=account.pk).values_list("ledger_seq", flat=True).first()
    return seq is not None and seq >= account.ledger_seq


def usage_analytics(
    *,
    account: "Account",
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The last `days` days up to today, or the UTC calendar days `start`..`end` (both included)."""
    start, end = analytics_period(days=days, start=start, end=end, today=today)
    days = (end - start).days + 1
    today = end
    by_day, by_type, operation_rows = _rollup_rows(account=account, start=start, end=end)
    one_day = timedelta(days=1)
    nothing = (0, 0, 0, 0)
    daily_usage = []
    day = start
    for _ in range(days):
        usage, purchases, grants, net = by_day.get(day, nothing)
        daily_usage.append(
            {"date": day, "usage": usage, "purchases": purchases, "grants": grants, "net": net}
        )
        day += one_day
    totals = {transaction_type: total for transaction_type, total, _count in by_type}
    usage_by_type = [
        {"transaction_type": transaction_type, "total": total, "count": count}
        for transaction_type, total, count in sorted(by_type, key=lambda row: TYPE_ORDER[row[0]])
    ]
    usage_by_operation = [
        {"operation_type": operation_type, "credits": credits, "count": count, "cost_usd": cost_usd}
        for operation_type, credits, count, cost_usd in operation_rows
    ]
    return {
        "period_days": days,
        "start": start,
        "end": end,
        "current_balance": account.credits,
        "usage_by_type": usage_by_type,
        "daily_usage": daily_usage,
        # The period's sums of the daily figures, which are the totals by type.
        "total_usage": -totals.get(TxType.DEDUCTION, 0),
        "total_purchases": totals.get(TxType.PURCHASE, 0),
        "total_grants": sum(totals.get(transaction_type, 0) for transaction_type in GRANT_TYPES),
        "usage_by_operation": usage_by_operation,
    }


@dataclass(frozen=True)
class _RollupStatement:
    sql: str
    date_converters: list[Converter]
    date: Any  # the column's expression, which the converters take
    cost_converters: list[Converter]
    cost: Any


@cache
def _rollup_statement(alias: str) -> _RollupStatement:
    """Both rollups in one statement, summed by the database, as rows (kind, date, name, a, b, c, d, cost):
    "day" rows (date, usage, purchases, grants, net) for the days that have ledger rows, "type" rows
    (transaction_type, total, count) over the period, then "operation" rows (operation_type, credits,
    count, cost), most credits first.

    Written once per process and database from the models' metadata: for a year of days the ORM spent
    more Python building and converting the queries, and Python more summing rows, than the database
    spent answering them.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    ledger, operation = DailyLedgerRollup._meta, DailyOperationRollup._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    total, kind = f"l.{column(ledger, 'total')}", f"l.{column(ledger, 'transaction_type')}"
    day, count = f"l.{column(ledger, 'date')}", f"l.{column(ledger, 'count')}"
    ledger_rows = (
        f"FROM {quote(ledger.db_table)} l "
        f"WHERE l.{column(ledger, 'account')} = %s AND {day} >= %s AND {day} <= %s "
    )
    sql = (
        f"SELECT 'day', {day}, NULL, "
        f"CAST(SUM(CASE WHEN {kind} = %s THEN -{total} ELSE 0 END) AS BIGINT), "
        f"CAST(SUM(CASE WHEN {kind} = %s THEN {total} ELSE 0 END) AS BIGINT), "
        f"CAST(SUM(CASE WHEN {kind} IN (%s, %s) THEN {total} ELSE 0 END) AS BIGINT), "
        f"CAST(SUM({total}) AS BIGINT), CAST(NULL AS DECIMAL) "  # typed: PostgreSQL unions it with SUM(cost)
        f"{ledger_rows}GROUP BY {day} "
        "UNION ALL "
        f"SELECT 'type', NULL, {kind}, CAST(SUM({total}) AS BIGINT), CAST(SUM({count}) AS BIGINT), 0, 0, NULL "
        f"{ledger_rows}GROUP BY {kind} "
        "UNION ALL "
        f"SELECT 'operation', NULL, o.{column(operation, 'operation_type')}, "
        f"CAST(SUM(o.{column(operation, 'credits')}) AS BIGINT), "
        f"CAST(SUM(o.{column(operation, 'count')}) AS BIGINT), 0, 0, SUM(o.{column(operation, 'cost_usd')}) "
        f"FROM {quote(operation.db_table)} o "
        f"WHERE o.{column(operation, 'account')} = %s AND o.{column(operation, 'date')} >= %s "
        f"AND o.{column(operation, 'date')} <= %s "
        f"GROUP BY o.{column(operation, 'operation_type')} "
        "ORDER BY 1, 4 DESC, 3"
    )
    date_field: Any = ledger.get_field("date")
    date_col = date_field.get_col(ledger.db_table)
    cost_field: Any = operation.get_field("cost_usd")
    cost_col = cost_field.get_col(operation.db_table)
    return _RollupStatement(
        sql=sql,
        date_converters=connection.ops.get_db_converters(date_col) + date_field.get_db_converters(connection),
        date=date_col,
        cost_converters=connection.ops.get_db_converters(cost_col) + cost_field.get_db_converters(connection),
        cost=cost_col,
    )


def _rollup_rows(
    *, account: "Account", start: date, end: date
) -> tuple[
    dict[date, tuple[int, int, int, int]], list[tuple[str, int, int]], list[tuple[str, int, int, Decimal]]
]:
    """For start..end: (usage, purchases, grants, net) by day (days with ledger rows only), the
    (transaction_type, total, count) totals, and the (operation_type, credits, count, cost_usd) totals,
    most credits first."""
    alias = router.db_for_read(DailyLedgerRollup)
    connection = connections[alias]
    statement = _rollup_statement(alias)
    first, last = connection.ops.adapt_datefield_value(start), connection.ops.adapt_datefield_value(end)
    period = [account.pk, first, last]
    types = [TxType.DEDUCTION.value, TxType.PURCHASE.value, *sorted(str(t) for t in GRANT_TYPES)]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [*types, *period, *period, *period])
        rows = cursor.fetchall()
    by_day: dict[date, tuple[int, int, int, int]] = {}
    by_type: list[tuple[str, int, int]] = []
    operations: list[tuple[str, int, int, Decimal]] = []
    for kind, day, name, a, b, c, d, cost in rows:
        if kind == "day":
            for convert in statement.date_converters:
                day = convert(day, statement.date, connection)
            by_day[day] = (int(a), int(b), int(c), int(d))
        elif kind == "type":
            by_type.append((name, int(a), int(b)))
        else:
            for convert in statement.cost_converters:
                cost = convert(cost, statement.cost, connection)
            operations.append((name, int(a), int(b), cost if cost is not None else Decimal("0")))
    return by_day, by_type, operations

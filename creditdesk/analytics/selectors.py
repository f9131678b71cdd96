"""Usage analytics, read from billing's daily rollups: the cost depends on `days`, not on the history."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connections, router
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction, DailyLedgerRollup, DailyOperationRollup

TxType = CreditTransaction.Type
MAX_DAYS = 365
Converter = Callable[[Any, Any, Any], Any]


# Monthly plan credits and operator grants: inflows the customer did not pay for separately.
GRANT_TYPES = frozenset({TxType.GRANT, TxType.SUBSCRIPTION})


def usage_analytics(
    *,
    account: Any,
    days: int | None = None,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The last `days` days up to today, or the UTC calendar days `start`..`end` (both included)."""
    if start is None or end is None:
        end = today or timezone.now().date()
        start = end - timedelta(days=(days or 30) - 1)
    days = (end - start).days + 1
    today = end
    usage: dict[date, int] = defaultdict(int)
    purchases: dict[date, int] = defaultdict(int)
    grants: dict[date, int] = defaultdict(int)
    net: dict[date, int] = defaultdict(int)
    by_type: dict[str, list[int]] = {}
    ledger_rows, operation_rows = _rollup_rows(account=account, start=start, end=today)
    for day, transaction_type, total, count in ledger_rows:
        running = by_type.setdefault(transaction_type, [0, 0])
        running[0] += total
        running[1] += count
        net[day] += total
        if transaction_type == TxType.DEDUCTION:
            usage[day] -= total
        elif transaction_type == TxType.PURCHASE:
            purchases[day] += total
        elif transaction_type in GRANT_TYPES:
            grants[day] += total

    one_day = timedelta(days=1)
    daily_usage = []
    day = start
    for _ in range(days):
        daily_usage.append(
            {
                "date": day,
                "usage": usage.get(day, 0),
                "purchases": purchases.get(day, 0),
                "grants": grants.get(day, 0),
                "net": net.get(day, 0),
            }
        )
        day += one_day
    type_order = {value: index for index, value in enumerate(TxType.values)}
    usage_by_type = [
        {"transaction_type": transaction_type, "total": total, "count": count}
        for transaction_type, (total, count) in sorted(by_type.items(), key=lambda item: type_order[item[0]])
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
        "total_usage": sum(usage.values()),
        "total_purchases": sum(purchases.values()),
        "total_grants": sum(grants.values()),
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
    """Both rollups in one statement, as rows (kind, date, name, amount, count, cost): the ledger rollup's
    rows for the days ("ledger"), then the operations' totals over them ("operation", most credits first).

    Written once per process and database from the models' metadata: for a year of days the ORM spent
    more Python building and converting the two queries than the database spent answering them.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    ledger, operation = DailyLedgerRollup._meta, DailyOperationRollup._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    sql = (
        f"SELECT 'ledger', l.{column(ledger, 'date')}, l.{column(ledger, 'transaction_type')}, "
        f"l.{column(ledger, 'total')}, l.{column(ledger, 'count')}, NULL "
        f"FROM {quote(ledger.db_table)} l "
        f"WHERE l.{column(ledger, 'account')} = %s AND l.{column(ledger, 'date')} >= %s "
        f"AND l.{column(ledger, 'date')} <= %s "
        "UNION ALL "
        f"SELECT 'operation', NULL, o.{column(operation, 'operation_type')}, "
        f"CAST(SUM(o.{column(operation, 'credits')}) AS BIGINT), CAST(SUM(o.{column(operation, 'count')}) AS BIGINT), "
        f"SUM(o.{column(operation, 'cost_usd')}) "
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
    *, account: Any, start: date, end: date
) -> tuple[list[tuple[date, str, int, int]], list[tuple[str, int, int, Decimal]]]:
    """The ledger rollup's (date, transaction_type, total, count) rows for start..end, and the operations'
    (operation_type, credits, count, cost_usd) totals over those days, most credits first."""
    alias = router.db_for_read(DailyLedgerRollup)
    connection = connections[alias]
    statement = _rollup_statement(alias)
    first, last = connection.ops.adapt_datefield_value(start), connection.ops.adapt_datefield_value(end)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [account.pk, first, last, account.pk, first, last])
        rows = cursor.fetchall()
    ledger: list[tuple[date, str, int, int]] = []
    operations: list[tuple[str, int, int, Decimal]] = []
    for kind, day, name, amount, count, cost in rows:
        if kind == "ledger":
            for convert in statement.date_converters:
                day = convert(day, statement.date, connection)
            ledger.append((day, name, int(amount), int(count)))
        else:
            for convert in statement.cost_converters:
                cost = convert(cost, statement.cost, connection)
            operations.append((name, int(amount), int(count), cost if cost is not None else Decimal("0")))
    return ledger, operations

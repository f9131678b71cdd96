"""Usage analytics, read from billing's daily rollups: the cost depends on `days`, not on the history."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Sum
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction, DailyLedgerRollup, DailyOperationRollup

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

TxType = CreditTransaction.Type
MAX_DAYS = 365


# Monthly plan credits and operator grants: inflows the customer did not pay for separately.
GRANT_TYPES = frozenset({TxType.GRANT, TxType.SUBSCRIPTION})


def usage_analytics(
    *,
    account: "Account",
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
    rollups = DailyLedgerRollup.objects.filter(account=account, date__gte=start, date__lte=today).values_list(
        "date", "transaction_type", "total", "count"
    )
    for day, transaction_type, total, count in rollups:
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

    daily_usage = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        daily_usage.append(
            {
                "date": day,
                "usage": usage[day],
                "purchases": purchases[day],
                "grants": grants[day],
                "net": net[day],
            }
        )
    type_order = {value: index for index, value in enumerate(TxType.values)}
    usage_by_type = [
        {"transaction_type": transaction_type, "total": total, "count": count}
        for transaction_type, (total, count) in sorted(by_type.items(), key=lambda item: type_order[item[0]])
    ]
    usage_by_operation = [
        {
            "operation_type": row["operation_type"],
            "credits": row["credits"],
            "count": row["count"],
            "cost_usd": row["cost_usd"] or Decimal("0"),
        }
        for row in DailyOperationRollup.objects.filter(account=account, date__gte=start, date__lte=today)
        .values("operation_type")
        .annotate(credits=Sum("credits"), count=Sum("count"), cost_usd=Sum("cost_usd"))
        .order_by("-credits", "operation_type")
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

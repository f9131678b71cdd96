"""Usage analytics, read from billing's daily rollups: the cost depends on `days`, not on the history."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction, DailyLedgerRollup, DailyOperationRollup

TxType = CreditTransaction.Type
MAX_DAYS = 365


def usage_analytics(*, account: Any, days: int, today: date | None = None) -> dict[str, Any]:
    today = today or timezone.now().date()
    start = today - timedelta(days=days - 1)
    usage: dict[date, int] = defaultdict(int)
    purchases: dict[date, int] = defaultdict(int)
    by_type: dict[str, list[int]] = {}
    rollups = DailyLedgerRollup.objects.filter(account=account, date__gte=start, date__lte=today).values_list(
        "date", "transaction_type", "total", "count"
    )
    for day, transaction_type, total, count in rollups:
        running = by_type.setdefault(transaction_type, [0, 0])
        running[0] += total
        running[1] += count
        if transaction_type == TxType.DEDUCTION:
            usage[day] -= total
        elif transaction_type == TxType.PURCHASE:
            purchases[day] += total

    daily_usage = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        daily_usage.append(
            {
                "date": day,
                "usage": usage[day],
                "purchases": purchases[day],
                "net": purchases[day] - usage[day],
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
        "current_balance": account.credits,
        "usage_by_type": usage_by_type,
        "daily_usage": daily_usage,
        "total_usage": sum(usage.values()),
        "total_purchases": sum(purchases.values()),
        "usage_by_operation": usage_by_operation,
    }

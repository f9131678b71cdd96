"""Reads of billing data; every function takes the tenant as `account=`."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from creditdesk.billing.models import (
    CreditCost,
    CreditPackage,
    CreditTransaction,
    CreditUsageLog,
    DailyLedgerRollup,
    Invoice,
    Payment,
    PaymentMethodConfig,
)


@dataclass(frozen=True)
class CreditBalance:
    credits: int
    plan_credits_per_month: int
    credits_used_this_month: int
    credits_remaining: int


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def credits_deducted_since(*, account: Any, since: datetime) -> int:
    total = DailyLedgerRollup.objects.filter(
        account=account, date__gte=since.date(), transaction_type=CreditTransaction.Type.DEDUCTION
    ).aggregate(total=Sum("total"))["total"]
    return -(total or 0)


def credit_balance(*, account: Any) -> CreditBalance:
    return CreditBalance(
        credits=account.credits,
        plan_credits_per_month=account.plan.credits_per_month,
        credits_used_this_month=credits_deducted_since(account=account, since=month_start()),
        credits_remaining=account.credits,
    )


def transaction_list(*, account: Any) -> QuerySet[CreditTransaction]:
    return CreditTransaction.objects.filter(account=account).order_by("-created_at", "-id")


def usage_log_list(*, account: Any) -> QuerySet[CreditUsageLog]:
    return CreditUsageLog.objects.filter(account=account).order_by("-created_at", "-id")


def active_credit_costs() -> QuerySet[CreditCost]:
    return CreditCost.objects.filter(is_active=True).order_by("operation_type")


def active_credit_packages() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(is_active=True).order_by("sort_order", "id")


def payment_method_configs() -> QuerySet[PaymentMethodConfig]:
    return PaymentMethodConfig.objects.order_by("sort_order", "id")


def invoice_list(*, account: Any) -> QuerySet[Invoice]:
    return Invoice.objects.filter(account=account).order_by("-created_at", "-id")


def payment_list(*, account: Any) -> QuerySet[Payment]:
    return Payment.objects.filter(account=account).select_related("invoice").order_by("-created_at", "-id")

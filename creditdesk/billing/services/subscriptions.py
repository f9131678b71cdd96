"""The monthly allowance: each active account gets its plan's credits once per UTC month (a `plan` grant
that expires at the month's end, see services/grants.py)."""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.apps import apps

from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.grants import grant_plan_period, subscription_reference

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

__all__ = ["MonthlyGrantReport", "grant_monthly_allowance", "grant_monthly_credits", "subscription_reference"]


@dataclass(frozen=True)
class MonthlyGrantReport:
    granted: int
    already_granted: int
    skipped: int


def grant_monthly_allowance(*, account: "Account", now: datetime | None = None) -> CreditTransaction | None:
    """Grants the plan's monthly credits unless this month's grant exists (a unique reference says so)."""
    return grant_plan_period(account=account, now=now)


def grant_monthly_credits(*, now: datetime | None = None) -> MonthlyGrantReport:
    account_model = apps.get_model("accounts", "Account")  # billing never imports accounts
    granted = already = skipped = 0
    for account in (
        account_model.objects.filter(is_active=True).select_related("plan").iterator(chunk_size=500)
    ):
        if account.plan.credits_per_month <= 0:
            skipped += 1
        elif grant_monthly_allowance(account=account, now=now) is None:
            already += 1
        else:
            granted += 1
    return MonthlyGrantReport(granted=granted, already_granted=already, skipped=skipped)

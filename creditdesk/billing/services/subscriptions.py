"""The monthly allowance: each active account gets its plan's credits once per UTC month."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import DuplicateLedgerReference, grant_credits


def subscription_reference(month: datetime) -> str:
    return f"subscription:{month:%Y-%m}"


@dataclass(frozen=True)
class MonthlyGrantReport:
    granted: int
    already_granted: int
    skipped: int


def grant_monthly_allowance(*, account: Any, now: datetime | None = None) -> CreditTransaction | None:
    """Grants the plan's monthly credits unless this month's grant exists (a unique reference says so)."""
    month = now or timezone.now()
    if account.plan.credits_per_month <= 0:
        return None
    try:
        with transaction.atomic():
            return grant_credits(
                account=account,
                amount=account.plan.credits_per_month,
                transaction_type=CreditTransaction.Type.SUBSCRIPTION,
                description=f"{account.plan.name} plan credits for {month:%B %Y}",
                reference=subscription_reference(month),
                at=now,
            )
    except DuplicateLedgerReference:
        return None


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

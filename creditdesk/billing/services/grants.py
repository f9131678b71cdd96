"""Grants over time: the plan's monthly credits (which expire at the month's end, with a rollover), the
sign-up grant, and the expiry job. Balances and grants themselves change only in services/ledger.py."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from creditdesk.billing.models import CreditGrant, CreditTransaction
from creditdesk.billing.services.ledger import (
    DuplicateLedgerReference,
    expire_due_grants,
    grant_credits,
    lock_account,
    read_account_state,
)
from creditdesk.events.services import emit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User

TxType = CreditTransaction.Type
Source = CreditGrant.Source


def period_start(at: datetime) -> datetime:
    """The start of the UTC month `at` falls in: plan periods are calendar months."""
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_period_start(at: datetime) -> datetime:
    return period_start(period_start(at) + timedelta(days=32))


def granted_data(*, row: CreditTransaction, source: str) -> dict[str, Any]:
    return {"amount": row.amount, "source": source, "balance": row.balance_after}


def subscription_reference(month: datetime) -> str:
    return f"subscription:{month:%Y-%m}"


def grant_plan_period(
    *,
    account: "Account",
    now: datetime | None = None,
    created_by: "User | None" = None,
    description: str = "",
) -> CreditTransaction | None:
    """Grants the plan's credits for the month `now` falls in, expiring at its end; None when the plan
    has none or the month's grant exists (its reference `subscription:YYYY-MM` is unique). Grants that
    are due expire first, so last month's plan credits leave (and roll over) before this month's arrive."""
    plan = account.plan
    if plan.credits_per_month <= 0:
        return None
    start = period_start(now or timezone.now())
    try:
        with transaction.atomic():
            lock_account(account=account, now=now, at=now)
            # Accounts that signed up before grants had their first month granted as "initial".
            if CreditTransaction.objects.filter(
                account_id=account.pk, reference="initial", created_at__gte=start
            ).exists():
                return None
            row = grant_credits(
                account=account,
                amount=plan.credits_per_month,
                transaction_type=TxType.SUBSCRIPTION,
                description=description or f"{plan.name} plan credits for {start:%B %Y}",
                reference=subscription_reference(start),
                created_by=created_by,
                at=now,
                source=Source.PLAN,
                expires_at=next_period_start(start),
                period_start=start,
            )
            emit(account=account, type="credits.granted", data=granted_data(row=row, source="plan"))
            return row
    except DuplicateLedgerReference:
        return None


def grant_signup_credits(
    *, account: "Account", created_by: "User | None" = None, at: datetime | None = None
) -> None:
    """A new account's first period: the same grant the monthly job makes, so that the job, run later in
    the same month, finds it and grants nothing more."""
    start = period_start(at or timezone.now())
    grant_plan_period(
        account=account,
        now=at,
        created_by=created_by,
        description=f"Initial credits: {account.plan.name} plan for {start:%B %Y}",
    )


def carry_over(
    *, account: "Account", grant: CreditGrant, unused: int, at: datetime | None
) -> CreditTransaction | None:
    """Called as a plan grant expires with `unused` credits: up to the plan's rollover limit carry into
    the next period as a `rollover` grant that expires at that period's end. Rollovers do not roll over."""
    if grant.source != Source.PLAN or unused <= 0 or grant.period_start is None:
        return None
    plan = account.plan
    carried = min(plan.rollover_limit, unused)
    if carried <= 0:
        return None
    next_start = next_period_start(grant.period_start)
    return grant_credits(
        account=account,
        amount=carried,
        transaction_type=TxType.ROLLOVER,
        description=f"Unused {plan.name} plan credits of {grant.period_start:%B %Y} carried over",
        reference=f"rollover:{grant.period_start:%Y-%m}",
        at=at,
        source=Source.ROLLOVER,
        expires_at=next_period_start(next_start),
        period_start=next_start,
    )


@dataclass(frozen=True)
class ExpiryReport:
    accounts: int
    credits: int


def expire_credits(*, now: datetime | None = None) -> ExpiryReport:
    """The periodic expiry (run it every minute): every grant past its expires_at leaves through one
    `expiration` row. Safe to run twice at once: each account's grants expire under its lock, once."""
    now = now or timezone.now()
    account_model = apps.get_model("accounts", "Account")  # billing never imports accounts
    due = (
        CreditGrant.objects.filter(expired_at__isnull=True, expires_at__lte=now)
        .values_list("account_id", flat=True)
        .distinct()
    )
    accounts = credits = 0
    for account_id in sorted(set(due)):
        account = account_model.objects.select_related("plan").get(pk=account_id)
        with transaction.atomic():
            read_account_state(account.pk, for_update=True)
            credits += expire_due_grants(account=account, now=now)
        accounts += 1
    return ExpiryReport(accounts=accounts, credits=credits)


def next_grant_at(*, account: "Account", now: datetime | None = None) -> datetime | None:
    """When the monthly job grants this account's plan credits next, or None (no plan credits)."""
    if not account.is_active or account.plan.credits_per_month <= 0:
        return None
    return next_period_start(now or timezone.now())

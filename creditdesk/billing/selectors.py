"""Reads of billing data; every function takes the tenant as `account=`."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Self

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, DecimalField, F, Max, Model, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from creditdesk.billing.models import (
    CreditCost,
    CreditGrant,
    CreditHold,
    CreditPackage,
    CreditTransaction,
    CreditUsageLog,
    DailyLedgerRollup,
    DailyOperationRollup,
    Invoice,
    LedgerQuerySet,
    Payment,
    PaymentMethodConfig,
)
from creditdesk.billing.services.grants import next_grant_at

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


@dataclass(frozen=True)
class SourceCredits:
    source: str
    credits: int


@dataclass(frozen=True)
class NextExpiry:
    credits: int
    expires_at: datetime


@dataclass(frozen=True)
class CreditBalance:
    credits: int
    plan_credits_per_month: int
    credits_used_this_month: int
    credits_remaining: int  # spendable: credits - held
    held: int
    breakdown: list[SourceCredits]
    next_expiry: NextExpiry | None
    plan_name: str | None
    next_grant_at: datetime | None


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# Net of reversals: usage given back is not usage.
USAGE_TYPES = (CreditTransaction.Type.DEDUCTION.value, CreditTransaction.Type.REVERSAL.value)


@dataclass(frozen=True)
class _BalanceStatement:
    sql: str
    expires_at_converters: list[Callable[[Any, Any, Any], Any]]
    expires_at: Any  # the column's expression, which the converters take


@cache
def _balance_statement(alias: str) -> _BalanceStatement:
    """The balance's one statement: the live grants grouped by source and expiry, this month's usage from
    the rollups, and the account's credits and held, as rows (kind, source, expires_at, credits, held).

    One statement is one snapshot: the breakdown adds up to `credits` even while metering runs. Written
    once per process and database from the models' metadata, as tenancy/member_query.py does, because
    the ORM spent more Python building the three queries than the database spent answering them.
    """
    connection = connections[alias]
    quote = connection.ops.quote_name
    grant, rollup = CreditGrant._meta, DailyLedgerRollup._meta
    account_model: Any = grant.get_field("account").related_model
    account = account_model._meta

    def column(meta: Any, name: str) -> str:
        return quote(meta.get_field(name).column)

    expires_field: Any = grant.get_field("expires_at")
    expires_at = expires_field.get_col(grant.db_table)
    sql = (
        f"SELECT 'grant', g.{column(grant, 'source')}, g.{column(grant, 'expires_at')}, "
        f"CAST(SUM(g.{column(grant, 'remaining')}) AS BIGINT), 0 "
        f"FROM {quote(grant.db_table)} g "
        f"WHERE g.{column(grant, 'account')} = %s AND g.{column(grant, 'remaining')} > 0 "
        f"AND g.{column(grant, 'expired_at')} IS NULL "
        f"AND (g.{column(grant, 'expires_at')} IS NULL OR g.{column(grant, 'expires_at')} > %s) "
        f"GROUP BY g.{column(grant, 'source')}, g.{column(grant, 'expires_at')} "
        "UNION ALL "
        f"SELECT 'used', NULL, NULL, CAST(COALESCE(SUM(r.{column(rollup, 'total')}), 0) AS BIGINT), 0 "
        f"FROM {quote(rollup.db_table)} r "
        f"WHERE r.{column(rollup, 'account')} = %s AND r.{column(rollup, 'date')} >= %s "
        f"AND r.{column(rollup, 'transaction_type')} IN (%s, %s) "
        "UNION ALL "
        f"SELECT 'account', NULL, NULL, a.{column(account, 'credits')}, a.{column(account, 'held')} "
        f"FROM {quote(account.db_table)} a WHERE a.{quote(account.pk.column)} = %s"
    )
    converters = connection.ops.get_db_converters(expires_at) + expires_field.get_db_converters(connection)
    return _BalanceStatement(sql=sql, expires_at_converters=converters, expires_at=expires_at)


def _live_grants(
    rows: list[tuple[str, datetime | None, int]],
) -> tuple[list[SourceCredits], NextExpiry | None]:
    """The live grants' credits by source (non-zero, in draw order of sources) and the soonest-expiring
    ones, from rows (source, expires_at, credits) grouped by source and expiry."""
    by_source: dict[str, int] = {}
    soonest: NextExpiry | None = None
    for source, expires_at, credits in rows:
        by_source[source] = by_source.get(source, 0) + credits
        if expires_at is None:
            continue
        if soonest is None or expires_at < soonest.expires_at:
            soonest = NextExpiry(credits=credits, expires_at=expires_at)
        elif expires_at == soonest.expires_at:
            soonest = NextExpiry(credits=soonest.credits + credits, expires_at=expires_at)
    breakdown = [
        SourceCredits(source=source, credits=by_source[source])
        for source in CreditGrant.Source.values
        if by_source.get(source)
    ]
    return breakdown, soonest


def credit_balance(*, account: "Account") -> CreditBalance:
    """The balance, read from the primary in one statement (credits and held are read again with the
    grants, so the breakdown and the balance come from the same snapshot)."""
    now = timezone.now()
    alias = router.db_for_read(CreditGrant)
    connection = connections[alias]
    statement = _balance_statement(alias)
    ops = connection.ops
    params = [
        account.pk,
        ops.adapt_datetimefield_value(now),
        account.pk,
        ops.adapt_datefield_value(month_start(now).date()),
        *USAGE_TYPES,
        account.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        rows = cursor.fetchall()
    grants: list[tuple[str, datetime | None, int]] = []
    used = 0
    credits, held = account.credits, account.held
    for kind, source, expires_at, amount, amount_held in rows:
        if kind == "grant":
            for convert in statement.expires_at_converters:
                expires_at = convert(expires_at, statement.expires_at, connection)
            grants.append((source, expires_at, int(amount)))
        elif kind == "used":
            used = -int(amount)
        else:
            credits, held = int(amount), int(amount_held)
    breakdown, next_expiry = _live_grants(grants)
    plan = account.plan
    return CreditBalance(
        credits=credits,
        plan_credits_per_month=plan.credits_per_month,
        credits_used_this_month=used,
        credits_remaining=max(0, credits - held),
        held=held,
        breakdown=breakdown,
        next_expiry=next_expiry,
        plan_name=plan.name if plan else None,
        next_grant_at=next_grant_at(account=account, now=now),
    )


class RollupCountMixin:
    """An account's list whose unfiltered count() is read from the daily rollups: O(days), not O(rows).

    The paginator counts on every page, and COUNT(*) over an account's whole history grows with it (a
    million ledger rows: a quarter of a second per page, bench/README.md). The ledger service writes each
    rollup in the transaction of the rows it counts, so the sum of their counts is exact. Any further
    filter (type, dates) drops the shortcut and counts the rows.
    """

    rollup_count: Callable[[], int] | None = None

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone.rollup_count = self.rollup_count
        return clone

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Self:
        clone = super()._filter_or_exclude(negate, args, kwargs)  # type: ignore[misc]
        clone.rollup_count = None
        return clone

    def count(self) -> int:
        query = self.query  # type: ignore[attr-defined]
        if self.rollup_count is None or query.is_sliced or query.is_empty():
            return super().count()  # type: ignore[misc]
        return self.rollup_count()


class LedgerList(LedgerQuerySet):
    """An account's whole ledger, newest first, whose pages are seeks on the row's sequence number.

    Unfiltered, the count is the account's last `seq` (one index probe) and rows [a:b] of the list are
    the rows with `total - b < seq <= total - a`: page 1,000 reads 25 index entries, as page 1 does,
    where OFFSET would walk the 24,975 before it. seq follows the ledger's order (it is handed out under
    the balance lock), so this is the order of created_at, id. Any filter (type, dates) drops back to
    COUNT(*) and OFFSET over the rows it selects.
    """

    seek_account: Any = None
    _seek_total: int | None = None

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone.seek_account = self.seek_account
        return clone

    def _filter_or_exclude(self, negate: bool, args: Any, kwargs: Any) -> Self:
        clone = super()._filter_or_exclude(negate, args, kwargs)  # type: ignore[misc]
        clone.seek_account = None
        return clone

    def _seekable(self) -> bool:
        query = self.query
        return self.seek_account is not None and not query.is_sliced and not query.is_empty()

    def count(self) -> int:
        if not self._seekable():
            return super().count()
        if self._seek_total is None:
            last = CreditTransaction.objects.filter(account=self.seek_account).aggregate(last=Max("seq"))
            self._seek_total = last["last"] or 0
        return self._seek_total

    def __getitem__(self, key: Any) -> Any:
        if not (isinstance(key, slice) and key.step is None and self._seekable()):
            return super().__getitem__(key)
        total = self.count()  # the paginator asked already: the same figure, so pages do not overlap
        start = max(key.start or 0, 0)
        stop = total if key.stop is None else min(key.stop, total)
        if start >= stop:
            return self.none()
        # A plain filter: the clone is no longer seekable, so this is one range scan of (account, seq).
        return self.filter(seq__gt=total - stop, seq__lte=total - start).order_by("-seq")


class UsageLogList(RollupCountMixin, QuerySet):
    pass


def _rollup_rows(model: type[Model], account: "Account") -> Callable[[], int]:
    return lambda: model._default_manager.filter(account=account).aggregate(rows=Sum("count"))["rows"] or 0


def transaction_list(*, account: "Account") -> QuerySet[CreditTransaction]:
    rows: LedgerList = (
        LedgerList(model=CreditTransaction).filter(account=account).order_by("-created_at", "-id")
    )
    rows.seek_account = account
    return rows


def usage_log_list(*, account: "Account") -> QuerySet[CreditUsageLog]:
    rows: UsageLogList = (
        UsageLogList(model=CreditUsageLog).filter(account=account).order_by("-created_at", "-id")
    )
    rows.rollup_count = _rollup_rows(DailyOperationRollup, account)
    return rows


def hold_list(*, account: "Account") -> QuerySet[CreditHold]:
    return CreditHold.objects.filter(account=account).order_by("-created_at", "-id")


def active_credit_costs() -> QuerySet[CreditCost]:
    return CreditCost.objects.filter(is_active=True).order_by("operation_type")


def active_credit_packages() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(is_active=True).order_by("sort_order", "id")


def payment_method_configs() -> QuerySet[PaymentMethodConfig]:
    return PaymentMethodConfig.objects.order_by("sort_order", "id")


def invoice_list(*, account: "Account") -> QuerySet[Invoice]:
    # A draft was never issued (its provider refused to start): nothing is owed, so customers don't see it.
    return (
        Invoice.objects.filter(account=account)
        .exclude(status=Invoice.Status.DRAFT)
        .order_by("-created_at", "-id")
    )


def payment_list(*, account: "Account") -> QuerySet[Payment]:
    return (
        Payment.objects.filter(account=account)
        .exclude(invoice__status=Invoice.Status.DRAFT)
        .select_related("invoice")
        .order_by("-created_at", "-id")
    )


def bank_transfer_instructions() -> str:
    """What a customer paying by bank transfer is told: the operator's text, else the setting."""
    config = PaymentMethodConfig.objects.filter(payment_method="bank_transfer").only("instructions").first()
    return (config.instructions if config else "") or settings.BANK_TRANSFER_INSTRUCTIONS


# --- margin, for operators (never in a tenant's API) ---------------------------------------------------

MARGIN_GROUPS = ("operation_type", "account", "period")


@dataclass(frozen=True)
class MarginRow:
    operation_type: str | None
    account_id: int | None
    account_name: str | None
    period: date | None  # the month's first day, UTC
    calls: int
    credits: int  # net of reversals
    revenue: Decimal  # what the consumed credits were bought for (their grants' cost basis)
    provider_cost: Decimal  # sum of the callers' cost_usd
    margin: Decimal
    margin_pct: Decimal | None  # margin / revenue, in percent; None without revenue
    floor: Decimal | None  # the operation type's margin_floor, when grouped by operation type
    below_floor: bool


def margin_report(
    *,
    group_by: Sequence[str] = ("operation_type",),
    account_id: int | None = None,
    operation_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[MarginRow]:
    """Revenue, provider cost and margin of metered usage, grouped by any of operation_type, account and
    period (UTC month), optionally for one account or operation type and a time range [since, until).
    Revenue is the money value of the credits consumed (net of reversals), in the packages' currency."""
    unknown = set(group_by) - set(MARGIN_GROUPS)
    if unknown or not group_by:
        raise ValueError(f"group_by takes some of {MARGIN_GROUPS}, not {sorted(unknown) or 'nothing'}")
    rows = CreditUsageLog.objects.all()
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    if operation_type:
        rows = rows.filter(operation_type=operation_type)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    keys = {
        "operation_type": "operation_type",
        "account": "account_id",
        "period": "period",
    }
    if "period" in group_by:
        rows = rows.annotate(period=TruncMonth("created_at", tzinfo=UTC))
    fields = [keys[g] for g in group_by] + (["account__name"] if "account" in group_by else [])
    totals = (
        rows.values(*fields)
        .annotate(
            calls=Count("id"),
            credits=Sum(F("credits_used") - F("credits_reversed")),
            revenue=Coalesce(Sum("credits_value"), Value(Decimal("0")), output_field=DecimalField()),
            provider_cost=Coalesce(Sum("cost_usd"), Value(Decimal("0")), output_field=DecimalField()),
        )
        .order_by(*fields)
    )
    floors = dict(CreditCost.objects.values_list("operation_type", "margin_floor"))
    report = []
    for total in totals:
        revenue, cost = Decimal(total["revenue"]), Decimal(total["provider_cost"])
        margin = revenue - cost
        pct = (margin / revenue * 100).quantize(Decimal("0.01")) if revenue else None
        op = total.get("operation_type")
        floor = floors.get(op) if op else None
        period = total.get("period")
        report.append(
            MarginRow(
                operation_type=op,
                account_id=total.get("account_id"),
                account_name=total.get("account__name"),
                period=period.date() if period is not None else None,
                calls=total["calls"],
                credits=int(total["credits"] or 0),
                revenue=revenue.quantize(Decimal("0.0001")),
                provider_cost=cost.quantize(Decimal("0.0001")),
                margin=margin.quantize(Decimal("0.0001")),
                margin_pct=pct,
                floor=floor,
                below_floor=floor is not None and (pct is None or pct < floor),
            )
        )
    return report

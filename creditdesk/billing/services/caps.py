"""Spending caps: credits an API key or a member may spend per UTC day and month.

A capped subject has one counter row per period (tenancy.SpendingCounter). A deduction charges the
counters with one conditional UPDATE each (`spent = spent + n WHERE spent + n <= cap`) inside the
deduction's own transaction: the counter row stays locked until the transaction ends, so parallel
deductions cannot pass a cap together, and a refused deduction (cap or balance) leaves every counter and
the balance as they were (CapExceeded rolls the deduction's block back).

Lock order, everywhere: the account's row first (the balance UPDATE, or the holds' account lock), then
the counters, day before month, subject by subject in a fixed order. A platform key's counters are
shared by many accounts, but no transaction ever holds a counter while waiting for an account, so two
deductions never wait on each other in a cycle.

Subjects without a cap write nothing: an uncapped key or member costs no statement on the metering path.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from creditdesk.billing.models import CreditUsageLog
from creditdesk.core.errors import ApplicationError, ErrorCode, NotFound, ValidationFailed
from creditdesk.tenancy.api_keys import update_account_key
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.models import ApiKey, MemberCreditCap, SpendingCounter

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.billing.models import CreditHold

COUNTER_TABLE = SpendingCounter._meta.db_table
Period = SpendingCounter.Period


class CapExceeded(ApplicationError):
    status_code = 402
    code = ErrorCode.SPENDING_CAP_EXCEEDED

    def __init__(self, *, cap: "Cap", spent: int, needed: int):
        period_word = "today" if cap.period == Period.DAY else "this month"
        super().__init__(
            f"Spending cap reached: the {cap.label}'s {cap.period_name} cap is {cap.limit} credits, "
            f"{spent} are spent {period_word} and this needs {needed}.",
            extra={
                "cap": cap.name,
                "subject": cap.label,
                "limit": cap.limit,
                "spent": spent,
                "needed": needed,
                "period_starts_on": cap.starts_on.isoformat(),
            },
        )


@dataclass(frozen=True)
class Cap:
    subject: str  # "key:<id>" or "member:<id>"
    label: str  # what the error names: "API key 'worker' (cdk_live_ab12cd34…)" or "member a@b.c"
    kind: str  # "api_key" or "member"
    period: str
    starts_on: date
    limit: int | None  # None: counted, not capped

    @property
    def period_name(self) -> str:
        return "daily" if self.period == Period.DAY else "monthly"

    @property
    def name(self) -> str:
        return f"{self.kind}.{self.period_name}"


def period_starts(at: datetime) -> dict[str, date]:
    day = timezone.localtime(at, UTC).date() if timezone.is_aware(at) else at.date()
    return {Period.DAY: day, Period.MONTH: day.replace(day=1)}


def _member_cap(member: "User | None") -> MemberCreditCap | None:
    if member is None or not getattr(member, "pk", None):
        return None
    try:  # loaded with the member by the JWT authentication (a LEFT JOIN, no extra query)
        return member.credit_cap
    except ObjectDoesNotExist:
        return None


def caps_for(*, api_key: "ApiKey | None", member: "User | None", at: datetime) -> list[Cap]:
    starts = period_starts(at)
    holders: list[tuple[str, str, str, Any]] = []
    if api_key is not None:
        label = f"API key {api_key.name!r} ({api_key.display_prefix}…)"
        holders.append((f"key:{api_key.pk}", label, "api_key", api_key))
    member_cap = _member_cap(member)
    if member is not None and member_cap is not None:
        holders.append((f"member:{member.pk}", f"member {member.email}", "member", member_cap))
    caps: list[Cap] = []
    for subject, label, kind, holder in holders:
        daily, monthly = holder.daily_credit_cap, holder.monthly_credit_cap
        if daily is None and monthly is None:
            continue
        # A capped subject keeps both counters, so what it spent this day and month is always known.
        caps.append(Cap(subject, label, kind, Period.DAY, starts[Period.DAY], daily))
        caps.append(Cap(subject, label, kind, Period.MONTH, starts[Period.MONTH], monthly))
    return sorted(caps, key=lambda cap: (cap.subject, cap.period))


def _add_within_cap(cap: Cap, credits: int) -> bool:
    sql = (
        f"UPDATE {COUNTER_TABLE} SET spent = spent + %s WHERE subject = %s AND period = %s AND starts_on = %s"
    )
    params: list[Any] = [credits, cap.subject, cap.period, cap.starts_on]
    if cap.limit is not None:
        sql += " AND spent + %s <= %s"
        params += [credits, cap.limit]
    with connection.cursor() as cursor:
        cursor.execute(sql + " RETURNING spent", params)
        return cursor.fetchone() is not None


def _ensure_counter(*, account_id: int, cap: Cap) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {COUNTER_TABLE} (account_id, subject, period, starts_on, spent) "
            "VALUES (%s, %s, %s, %s, 0) ON CONFLICT (subject, period, starts_on) DO NOTHING",
            [account_id, cap.subject, cap.period, cap.starts_on],
        )


def spent_on(cap: Cap) -> int:
    """What the cap's subject spent in its period so far (0 before the first spend)."""
    return _spent(cap)


def _spent(cap: Cap) -> int:
    row = (
        SpendingCounter.objects.filter(subject=cap.subject, period=cap.period, starts_on=cap.starts_on)
        .values_list("spent", flat=True)
        .first()
    )
    return int(row or 0)


def charge_caps(
    *,
    account_id: int,
    api_key: "ApiKey | None" = None,
    member: "User | None" = None,
    credits: int,
    at: datetime | None = None,
) -> list[Cap]:
    """Counts `credits` against every cap of the key and the member; CapExceeded names the first cap it
    would pass. Must run inside the deduction's transaction (the caller rolls everything back on error).
    Returns the caps charged, for release_caps."""
    caps = caps_for(api_key=api_key, member=member, at=at or timezone.now())
    if not caps:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("charge_caps must run inside the deduction's transaction.")
    for cap in caps:
        # The counter usually exists: one statement. The first spend of a period creates it.
        if _add_within_cap(cap, credits):
            continue
        _ensure_counter(account_id=account_id, cap=cap)
        if not _add_within_cap(cap, credits):
            raise CapExceeded(cap=cap, spent=_spent(cap), needed=credits)
    return caps


def release_caps(
    *,
    credits: int,
    charged_at: datetime | None = None,
    api_key_id: int | None = None,
    member_id: int | None = None,
    hold: "CreditHold | None" = None,
) -> None:
    """Gives back credits charged at `charged_at` (a hold released, expired, or settled for less), to the
    counters of that day and month, never below 0. `hold` stands for its key, member and creation time.
    Like charge_caps, it runs after the account's lock, in the caller's transaction."""
    if hold is not None:
        api_key_id, member_id, charged_at = hold.api_key_id, hold.user_id, hold.created_at
    if credits <= 0 or charged_at is None:
        return
    starts = period_starts(charged_at)
    subjects = [f"key:{api_key_id}"] if api_key_id else []
    subjects += [f"member:{member_id}"] if member_id else []
    with connection.cursor() as cursor:
        for subject in sorted(subjects):
            for period in (Period.DAY, Period.MONTH):
                cursor.execute(
                    f"UPDATE {COUNTER_TABLE} SET spent = CASE WHEN spent > %s THEN spent - %s ELSE 0 END "
                    "WHERE subject = %s AND period = %s AND starts_on = %s",
                    [credits, credits, subject, period, starts[period]],
                )


def _seed_counters(*, account: "Account", subject: str, usage_filter: dict[str, Any], now: datetime) -> None:
    """A subject that had no cap had no counters kept: when a cap appears, its counters start from what
    the usage log says was spent this day and month, so a cap set at noon counts the morning too."""
    for period, starts_on in period_starts(now).items():
        since = datetime.combine(starts_on, datetime.min.time(), tzinfo=UTC)
        spent = (
            CreditUsageLog.objects.filter(account=account, created_at__gte=since, **usage_filter).aggregate(
                total=Sum("credits_used")
            )["total"]
            or 0
        )
        SpendingCounter.objects.update_or_create(
            subject=subject,
            period=period,
            starts_on=starts_on,
            defaults={"account": account, "spent": spent},
        )


def _had_no_cap(daily: int | None, monthly: int | None) -> bool:
    return daily is None and monthly is None


def update_api_key(
    *, account: "Account", actor: "User", key_id: int, changes: dict[str, Any], ip: str | None = None
) -> ApiKey:
    """Renames a key and/or changes its caps (audited by tenancy's update_account_key)."""
    with transaction.atomic():
        before = ApiKey.objects.filter(account=account, pk=key_id).first()
        if before is None:
            raise NotFound("No such API key.")
        api_key = update_account_key(account=account, actor=actor, key_id=key_id, changes=changes, ip=ip)
        gains_cap = not _had_no_cap(api_key.daily_credit_cap, api_key.monthly_credit_cap)
        if gains_cap and _had_no_cap(before.daily_credit_cap, before.monthly_credit_cap):
            _seed_counters(
                account=account,
                subject=f"key:{api_key.pk}",
                usage_filter={"api_key": api_key},
                now=timezone.now(),
            )
    return api_key


def set_member_caps(
    *,
    account: "Account",
    actor: "User",
    member: "User",
    daily_credit_cap: int | None,
    monthly_credit_cap: int | None,
    ip: str | None = None,
) -> MemberCreditCap:
    for field, cap in (("daily_credit_cap", daily_credit_cap), ("monthly_credit_cap", monthly_credit_cap)):
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise ValidationFailed.on_field(field, "A cap is a whole number of credits, 0 or more.")
    with transaction.atomic():
        current = MemberCreditCap.objects.select_for_update().filter(member=member).first()
        before = (
            (current.daily_credit_cap, current.monthly_credit_cap) if current is not None else (None, None)
        )
        after = (daily_credit_cap, monthly_credit_cap)
        if current is None:
            current = MemberCreditCap(account=account, member=member)
        current.daily_credit_cap, current.monthly_credit_cap = after
        current.save()
        if before != after:
            record_audit(
                account=account,
                actor=actor,
                action=AuditAction.MEMBER_CAP_CHANGED,
                target=member.email,
                changes={
                    "daily_credit_cap": {"from": before[0], "to": after[0]},
                    "monthly_credit_cap": {"from": before[1], "to": after[1]},
                },
                ip_address=ip,
            )
        if not _had_no_cap(*after) and _had_no_cap(*before):
            # A member's own spending: what they metered themselves, not through a key.
            _seed_counters(
                account=account,
                subject=f"member:{member.pk}",
                usage_filter={"user": member, "api_key__isnull": True},
                now=timezone.now(),
            )
    return current


def member_caps(*, account: "Account", member: "User") -> MemberCreditCap:
    return MemberCreditCap.objects.filter(account=account, member=member).first() or MemberCreditCap(
        account=account, member=member
    )


def counter_spent(*, subject: str, at: datetime | None = None) -> dict[str, int]:
    """What a subject has spent this day and month, as its counters say (0 where none is kept)."""
    starts = period_starts(at or timezone.now())
    this_period = Q(period=Period.DAY, starts_on=starts[Period.DAY]) | Q(
        period=Period.MONTH, starts_on=starts[Period.MONTH]
    )
    rows = dict(SpendingCounter.objects.filter(this_period, subject=subject).values_list("period", "spent"))
    return {"day": int(rows.get(Period.DAY, 0)), "month": int(rows.get(Period.MONTH, 0))}

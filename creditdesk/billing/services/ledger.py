"""The only code that changes a balance or a grant. Each change is one conditional UPDATE of the account's
credits and one ledger row carrying balance_after, in the same transaction, plus the grant it creates or
the draws it takes from grants, and the daily rollups analytics reads.

The UPDATE ... RETURNING takes the account's row lock (PostgreSQL) or runs inside SQLite's IMMEDIATE
transaction, so the ledger row is inserted while the balance is held: within an account, ledger ids
follow the order in which balances changed, and balance_after is always the running sum. Every writer of
an account's grants takes that lock first, so the grants need no lock of their own.

Invariant (verify_ledger): credits == sum(ledger) == latest balance_after == sum(grants' remaining), and
each grant's remaining == amount - sum(its draws); expiry is a draw, a reversal's return a negative one.
Spendable = credits - held: a deduction may not take credits that active holds reserve.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from creditdesk.billing.models import (
    CreditDraw,
    CreditGrant,
    CreditTransaction,
    DailyLedgerRollup,
    DailyOperationRollup,
)
from creditdesk.billing.services.alerts import note_balance_change
from creditdesk.core.errors import ApplicationError, ErrorCode

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

TxType = CreditTransaction.Type
Source = CreditGrant.Source
ACCOUNT_TABLE = CreditTransaction._meta.get_field("account").related_model._meta.db_table
GRANT_TABLE = CreditGrant._meta.db_table
DRAW_TABLE = CreditDraw._meta.db_table
VALUE_PLACES = Decimal("0.0001")

# What a grant's credits are when the caller does not say: the ledger row's type decides.
SOURCE_OF_TYPE: dict[str, str] = {
    TxType.GRANT: Source.PROMOTION,
    TxType.SUBSCRIPTION: Source.PLAN,
    TxType.PURCHASE: Source.PURCHASE,
    TxType.ADJUSTMENT: Source.ADJUSTMENT,
    TxType.REFUND: Source.ADJUSTMENT,
    TxType.ROLLOVER: Source.ROLLOVER,
}
# Paid credits are drawn last: free credits (which often expire) go first, whatever their expiry.
DEFAULT_PRIORITY: dict[str, int] = {Source.PURCHASE: 10}


class InsufficientCredits(ApplicationError):
    status_code = 402
    code = ErrorCode.INSUFFICIENT_CREDITS

    def __init__(self, *, needed: int, available: int):
        super().__init__(
            f"Insufficient credits: this needs {needed} and the account has {available}.",
            extra={"needed": needed, "available": available},
        )
        self.needed = needed
        self.available = available


class DuplicateLedgerReference(Exception):
    """A ledger row with this reference exists already for the account: the grant happened before."""


class GrantDrift(RuntimeError):
    """The live grants do not hold the credits the balance says: refuse the change rather than invent."""


@dataclass(frozen=True)
class Clawback:
    transaction: CreditTransaction | None
    requested: int
    recovered: int

    @property
    def shortfall(self) -> int:
        return self.requested - self.recovered


@dataclass(frozen=True)
class Debit:
    """A deduction's ledger row and the money value (cost basis) of the credits it consumed."""

    transaction: CreditTransaction
    value: Decimal


def _positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"A credit amount must be a positive integer, not {amount!r}.")
    return amount


def _db_time(value: datetime | None) -> Any:
    # Raw SQL on SQLite compares datetimes as text: send them in the format the ORM stores.
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def _change_balance(*, account_id: int, delta: int, now: datetime | None = None) -> tuple[int, int] | None:
    """Applies delta unless it would take the spendable balance (credits - held) below zero, or unless
    one of the account's grants is due to expire (then the caller expires it first); returns the new
    balance and the ledger row's sequence number, or None. An increase always applies."""
    with connection.cursor() as cursor:
        if delta > 0:
            cursor.execute(
                f"UPDATE {ACCOUNT_TABLE} SET credits = credits + %s, ledger_seq = ledger_seq + 1 "
                "WHERE id = %s RETURNING credits, ledger_seq",
                [delta, account_id],
            )
        else:
            cursor.execute(
                f"UPDATE {ACCOUNT_TABLE} SET credits = credits + %s, ledger_seq = ledger_seq + 1 "
                "WHERE id = %s AND credits + %s >= held "
                "AND (next_expiry_at IS NULL OR next_expiry_at > %s) RETURNING credits, ledger_seq",
                [delta, account_id, delta, _db_time(now or timezone.now())],
            )
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def _take_expired(*, account_id: int, credits: int) -> tuple[int, int]:
    """Expiry takes what it must: the credits of a grant past its date leave even when holds wanted them.
    Returns the balance and the expiry row's sequence number."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET credits = credits - %s, ledger_seq = ledger_seq + 1 WHERE id = %s "
            "RETURNING credits, ledger_seq",
            [credits, account_id],
        )
        balance, seq = cursor.fetchone()
        return int(balance), int(seq)


@dataclass(frozen=True)
class AccountState:
    credits: int
    held: int
    next_expiry_at: datetime | None

    @property
    def spendable(self) -> int:
        return max(0, self.credits - self.held)


def read_account_state(account_id: int, *, for_update: bool = False) -> AccountState:
    # SQLite has no FOR UPDATE; its IMMEDIATE transaction already holds the write lock.
    lock = " FOR UPDATE" if for_update and connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT credits, held, next_expiry_at FROM {ACCOUNT_TABLE} WHERE id = %s{lock}", [account_id]
        )
        row = cursor.fetchone()
    if row is None:
        raise ValueError(f"No account {account_id}.")
    return AccountState(credits=int(row[0]), held=int(row[1]), next_expiry_at=_aware(row[2]))


def _aware(expiry: Any) -> datetime | None:
    if isinstance(expiry, str):  # SQLite hands raw text back
        return datetime.fromisoformat(expiry).replace(tzinfo=UTC)
    if expiry is not None and timezone.is_naive(expiry):
        return timezone.make_aware(expiry, UTC)
    return expiry


def _read_balance(account_id: int, *, for_update: bool = False) -> int:
    return read_account_state(account_id, for_update=for_update).spendable


def _note_expiry(*, account_id: int, expires_at: datetime) -> None:
    """Moves the account's next_expiry_at earlier when a grant expiring sooner arrives."""
    at = _db_time(expires_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET next_expiry_at = %s WHERE id = %s "
            "AND (next_expiry_at IS NULL OR next_expiry_at > %s)",
            [at, account_id, at],
        )


def refresh_next_expiry(*, account_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET next_expiry_at = (SELECT MIN(g.expires_at) FROM {GRANT_TABLE} g "
            "WHERE g.account_id = %s AND g.remaining > 0 AND g.expired_at IS NULL) WHERE id = %s",
            [account_id, account_id],
        )


def _bump_ledger_rollup(
    *, account_id: int, at: datetime, transaction_type: str, amount: int, count: int = 1
) -> None:
    table = DailyLedgerRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, date, transaction_type, total, count) VALUES (%s, %s, %s, %s, %s) "
            f"ON CONFLICT (account_id, date, transaction_type) DO UPDATE "
            f"SET total = {table}.total + excluded.total, count = {table}.count + excluded.count",
            [account_id, at.date(), transaction_type, amount, count],
        )


def bump_operation_rollup(
    *,
    account_id: int,
    at: datetime,
    operation_type: str,
    credits: int,
    cost_usd: Decimal | None,
    count: int = 1,
) -> None:
    """Adds a usage to its day's rollup; a reversal passes negative credits and count=0 (the usage log
    it reverses is still one row)."""
    table = DailyOperationRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, date, operation_type, credits, count, cost_usd) "
            f"VALUES (%s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT (account_id, date, operation_type) DO UPDATE "
            f"SET credits = {table}.credits + excluded.credits, count = {table}.count + excluded.count, "
            f"cost_usd = {table}.cost_usd + excluded.cost_usd",
            [account_id, at.date(), operation_type, credits, count, cost_usd or Decimal("0")],
        )


def _note_top_up_crossing(*, account: "Account", before: int, after: int) -> None:
    """Auto top-up: integers already on the account unless the armed threshold was crossed (topup.py)."""
    below = account.auto_top_up_below
    if below and after < below <= before:
        from creditdesk.billing.services.topup import record_crossing  # topup imports this module

        record_crossing(account=account, before=before, after=after)


def _ledger_row(
    *,
    account_id: int,
    transaction_type: str,
    delta: int,
    balance_after: int,
    seq: int,
    description: str,
    reference: str,
    metadata: dict | None,
    created_by: "User | None",
    api_key: "ApiKey | None",
    created_at: datetime,
) -> CreditTransaction:
    """A ledger row, not yet saved: the one place every writer (one change, or a batch) builds it."""
    return CreditTransaction(
        account_id=account_id,
        transaction_type=transaction_type,
        amount=delta,
        balance_after=balance_after,
        seq=seq,
        description=description[:255],
        reference=reference,
        metadata=metadata or {},
        created_by=created_by if created_by is not None and created_by.pk else None,
        api_key=api_key,
        created_at=created_at,
    )


def _write(
    *,
    account: "Account",
    delta: int,
    transaction_type: str,
    description: str,
    reference: str,
    metadata: dict | None,
    created_by: "User | None",
    at: datetime | None,
    then: Callable[[CreditTransaction], None] | None = None,
    balance: tuple[int, int] | None = None,
    api_key: "ApiKey | None" = None,
) -> CreditTransaction | None:
    """Changes the balance by delta and appends its ledger row, `then` (the grant or the draws) and the
    rollup; None (and nothing written) when the spendable balance would go below zero. `balance` (the
    new balance and the row's seq) is passed when the caller changed the balance itself (expiry).

    A savepoint costs two round trips on the metering path, so there is one only where an error is
    expected and handled: a duplicate reference, rolled back to it and reported as
    DuplicateLedgerReference so that the caller's transaction goes on.
    """
    try:
        with transaction.atomic(savepoint=bool(reference)):
            changed = balance or _change_balance(account_id=account.pk, delta=delta, now=at)
            if changed is None:
                return None
            new_balance, seq = changed
            # Taken under the balance lock, so created_at follows the ledger's order. `at` backdates
            # imported history (seed_demo), which must be written oldest first.
            now = at or timezone.now()
            row = _ledger_row(
                account_id=account.pk,
                transaction_type=transaction_type,
                delta=delta,
                balance_after=new_balance,
                seq=seq,
                description=description,
                reference=reference,
                metadata=metadata,
                created_by=created_by,
                api_key=api_key,
                created_at=now,
            )
            row.save(force_insert=True)
            if then is not None:
                then(row)
            _bump_ledger_rollup(
                account_id=account.pk, at=now, transaction_type=transaction_type, amount=delta
            )
            note_balance_change(account=account, before=new_balance - delta, after=new_balance)
            _note_top_up_crossing(account=account, before=new_balance - delta, after=new_balance)
    except IntegrityError as exc:
        if (
            reference
            and CreditTransaction.objects.filter(account_id=account.pk, reference=reference).exists()
        ):
            raise DuplicateLedgerReference(reference) from exc
        raise
    account.credits = new_balance
    account.ledger_seq = seq
    return row


# --- draws -------------------------------------------------------------------------------------------

DRAW_ORDER_SQL = "priority, expires_at NULLS LAST, created_at, id"

PG_DRAW_SQL = f"""
WITH ordered AS (
    SELECT id, remaining, cost_basis,
           SUM(remaining) OVER (ORDER BY {DRAW_ORDER_SQL}) AS upto
    FROM {GRANT_TABLE}
    WHERE account_id = %(account)s AND remaining > 0 AND (expires_at IS NULL OR expires_at > %(now)s)
), take AS (
    SELECT id, cost_basis, LEAST(remaining, %(credits)s - (upto - remaining)) AS credits
    FROM ordered WHERE upto - remaining < %(credits)s
), drained AS (
    UPDATE {GRANT_TABLE} g SET remaining = g.remaining - take.credits FROM take WHERE g.id = take.id
    RETURNING g.id
), drawn AS (
    INSERT INTO {DRAW_TABLE} (transaction_id, grant_id, credits)
    SELECT %(transaction)s, id, credits FROM take RETURNING id
)
SELECT COALESCE(SUM(credits), 0), COALESCE(SUM(credits * cost_basis), 0) FROM take
"""


def _draw_order(prefer_reference: str = "") -> list[Any]:
    order: list[Any] = ["priority", F("expires_at").asc(nulls_last=True), "created_at", "id"]
    if prefer_reference:
        first = Case(
            When(reference=prefer_reference, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        order.insert(0, first)
    return order


def _draw_orm(*, row: CreditTransaction, credits: int, now: datetime, prefer_reference: str = "") -> Decimal:
    live = _GrantQueue(row.account_id)
    for grant_id, remaining, cost_basis in (
        CreditGrant.objects.filter(account_id=row.account_id, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by(*_draw_order(prefer_reference))
        .values_list("id", "remaining", "cost_basis")
    ):
        live.add(grant_id, remaining, cost_basis)
    draws, value = live.take(credits)
    for grant_id, take in draws:
        CreditGrant.objects.filter(pk=grant_id).update(remaining=F("remaining") - take)
    CreditDraw.objects.bulk_create(
        [CreditDraw(transaction=row, grant_id=grant_id, credits=take) for grant_id, take in draws]
    )
    return value


def _draw(*, row: CreditTransaction, credits: int, now: datetime, prefer_reference: str = "") -> Decimal:
    """Takes `credits` from the account's live grants in draw order and records the draws; returns their
    money value. Runs under the account's lock (after the balance UPDATE)."""
    if connection.vendor != "postgresql" or prefer_reference:
        value = _draw_orm(row=row, credits=credits, now=now, prefer_reference=prefer_reference)
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                PG_DRAW_SQL,
                {"account": row.account_id, "now": now, "credits": credits, "transaction": row.pk},
            )
            drawn, value = cursor.fetchone()
        if int(drawn) != credits:
            raise GrantDrift(f"account {row.account_id}: live grants hold {drawn} of the {credits} drawn")
        value = Decimal(value)
    return value.quantize(VALUE_PLACES)


# --- expiry ------------------------------------------------------------------------------------------


def expire_due_grants(*, account: "Account", now: datetime, at: datetime | None = None) -> int:
    """Expires the account's grants past `now`: an `expiration` ledger row per grant with credits left
    (reference `expiration:grant:<id>`, so once), and a plan grant's rollover. Call it holding the
    account's lock (lock_account). The rows are dated `at` (backdated history) or, when None, the
    moment they are written, under the lock, so that ledger ids and times agree. Returns the credits."""
    from creditdesk.billing.services.grants import carry_over  # grants builds on this module

    expired = 0
    while True:
        due = list(
            CreditGrant.objects.filter(
                account_id=account.pk, expired_at__isnull=True, expires_at__lte=now
            ).order_by("expires_at", "id")
        )
        if not due:
            break
        for grant in due:
            credits = grant.remaining
            if credits:
                _expire_credits(account=account, grant=grant, credits=credits, at=at, reference="")
                expired += credits
            CreditGrant.objects.filter(pk=grant.pk).update(expired_at=now)
            carry_over(account=account, grant=grant, unused=credits, at=at)
    refresh_next_expiry(account_id=account.pk)
    return expired


def _expire_credits(
    *, account: "Account", grant: CreditGrant, credits: int, at: datetime | None, reference: str
) -> None:
    """Writes the `expiration` row taking `credits` out of the grant; reference defaults to the grant's
    one expiry (a reversal's return to an expired grant passes its own)."""

    def draw(row: CreditTransaction) -> None:
        CreditDraw.objects.create(transaction=row, grant=grant, credits=credits)
        CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") - credits)

    balance = _take_expired(account_id=account.pk, credits=credits)
    _write(
        account=account,
        delta=-credits,
        transaction_type=TxType.EXPIRATION,
        description=f"Expired: {grant.get_source_display().lower()} credits ({grant.reference})",
        reference=reference or f"expiration:grant:{grant.pk}",
        metadata={
            "grant_id": grant.pk,
            "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        },
        created_by=None,
        at=at,
        then=draw,
        balance=balance,
    )


def lock_account(
    *, account: "Account", now: datetime | None = None, at: datetime | None = None
) -> AccountState:
    """Takes the account's row lock and expires the grants due at `now` first (their rows dated `at`, or
    the moment they are written); returns the state after that."""
    now = now or timezone.now()
    state = read_account_state(account.pk, for_update=True)
    if state.next_expiry_at is not None and state.next_expiry_at <= now:
        expire_due_grants(account=account, now=now, at=at)
        state = read_account_state(account.pk)
    account.credits = state.credits
    account.held = state.held
    return state


# --- the public writers ------------------------------------------------------------------------------


def grant_credits(
    *,
    account: "Account",
    amount: int,
    transaction_type: str = TxType.GRANT,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: "User | None" = None,
    at: datetime | None = None,
    source: str | None = None,
    expires_at: datetime | None = None,
    priority: int | None = None,
    cost_basis: Decimal = Decimal("0"),
    period_start: datetime | None = None,
) -> CreditTransaction:
    """Adds credits as a grant. With a reference, a second grant of the same reference raises
    DuplicateLedgerReference. `source` defaults from the ledger type, `priority` from the source."""
    source = source or SOURCE_OF_TYPE.get(transaction_type, Source.PROMOTION)

    def create_grant(row: CreditTransaction) -> None:
        CreditGrant.objects.create(
            account_id=account.pk,
            source=source,
            amount=amount,
            remaining=amount,
            expires_at=expires_at,
            priority=DEFAULT_PRIORITY.get(source, 0) if priority is None else priority,
            cost_basis=cost_basis,
            reference=reference or f"ledger:{row.pk}",
            period_start=period_start,
            transaction=row,
            created_at=row.created_at,
        )
        if expires_at is not None:
            _note_expiry(account_id=account.pk, expires_at=expires_at)

    row = _write(
        account=account,
        delta=_positive(amount),
        transaction_type=transaction_type,
        description=description,
        reference=reference,
        metadata=metadata,
        created_by=created_by,
        at=at,
        then=create_grant,
    )
    if row is None:
        raise ValueError(f"No account {account.pk}.")
    return row


def debit_credits(
    *,
    account: "Account",
    amount: int,
    transaction_type: str = TxType.DEDUCTION,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: "User | None" = None,
    at: datetime | None = None,
    prefer_reference: str = "",
    api_key: "ApiKey | None" = None,
) -> Debit:
    """Takes credits from the spendable balance, all or nothing, drawing from the live grants in draw
    order; InsufficientCredits (and nothing written) when it is short. Returns the row and the money
    value of the credits consumed."""
    _positive(amount)
    now = at or timezone.now()
    drawn: list[Decimal] = []

    def draw(row: CreditTransaction) -> None:
        drawn.append(_draw(row=row, credits=amount, now=now, prefer_reference=prefer_reference))

    def write() -> CreditTransaction | None:
        return _write(
            account=account,
            delta=-amount,
            transaction_type=transaction_type,
            description=description,
            reference=reference,
            metadata=metadata,
            created_by=created_by,
            at=at,
            then=draw,
            api_key=api_key,
        )

    row = write()
    if row is None:
        # Short, or a grant is due to expire: expire it under the lock, then try once more.
        state = read_account_state(account.pk)
        if state.next_expiry_at is not None and state.next_expiry_at <= now:
            with transaction.atomic():
                lock_account(account=account, now=now, at=at)
                row = write()
    # Raised outside the write's block, which wrote nothing: the caller's transaction is intact.
    if row is None:
        raise InsufficientCredits(needed=amount, available=_read_balance(account.pk))
    return Debit(transaction=row, value=drawn[0])


def deduct_credits(
    *,
    account: "Account",
    amount: int,
    transaction_type: str = TxType.DEDUCTION,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: "User | None" = None,
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> CreditTransaction:
    """Takes credits, all or nothing: InsufficientCredits (and nothing written) when the balance is short."""
    return debit_credits(
        account=account,
        amount=amount,
        transaction_type=transaction_type,
        description=description,
        reference=reference,
        metadata=metadata,
        created_by=created_by,
        at=at,
        api_key=api_key,
    ).transaction


def claw_back_credits(
    *,
    account: "Account",
    amount: int,
    transaction_type: str = TxType.REFUND,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: "User | None" = None,
    grant_reference: str = "",
) -> Clawback:
    """Takes back up to `amount` spendable credits, never below zero (credits that holds reserve stay);
    the part already spent is the shortfall. Draws from the grant `grant_reference` first (the purchase
    a refund undoes), then in draw order."""
    _positive(amount)
    with transaction.atomic():
        recovered = min(amount, lock_account(account=account).spendable)
        if recovered == 0:
            return Clawback(transaction=None, requested=amount, recovered=0)
        row = debit_credits(
            account=account,
            amount=recovered,
            transaction_type=transaction_type,
            description=description,
            reference=reference,
            metadata={**(metadata or {}), "requested": amount, "shortfall": amount - recovered},
            created_by=created_by,
            prefer_reference=grant_reference or "",
        ).transaction
    return Clawback(transaction=row, requested=amount, recovered=recovered)


def adjust_credits(*, account: "Account", amount: int, reason: str, created_by: "User") -> CreditTransaction:
    """A staff correction, signed; it may not take the spendable balance below zero. An increase is an
    `adjustment` grant that never expires."""
    if not reason.strip():
        raise ValueError("An adjustment needs a reason.")
    if amount > 0:
        return grant_credits(
            account=account,
            amount=amount,
            transaction_type=TxType.ADJUSTMENT,
            description=reason,
            created_by=created_by,
        )
    return deduct_credits(
        account=account,
        amount=-amount,
        transaction_type=TxType.ADJUSTMENT,
        description=reason,
        created_by=created_by,
    )


# --- holds: credits reserved in Account.held ----------------------------------------------------------


def _reserve(*, account_id: int, credits: int, now: datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET held = held + %s WHERE id = %s AND credits - held >= %s "
            "AND (next_expiry_at IS NULL OR next_expiry_at > %s) RETURNING held",
            [credits, account_id, credits, _db_time(now)],
        )
        return cursor.fetchone() is not None


def reserve_credits(*, account: "Account", credits: int, now: datetime | None = None) -> None:
    """Moves `credits` of the spendable balance into `held`, in one conditional UPDATE; InsufficientCredits
    (nothing changed) when the spendable balance is short. Grants due to expire leave first."""
    _positive(credits)
    now = now or timezone.now()
    if not _reserve(account_id=account.pk, credits=credits, now=now):
        state = read_account_state(account.pk)
        reserved = False
        if state.next_expiry_at is not None and state.next_expiry_at <= now:
            with transaction.atomic():
                lock_account(account=account, now=now)
                reserved = _reserve(account_id=account.pk, credits=credits, now=now)
        if not reserved:
            raise InsufficientCredits(needed=credits, available=_read_balance(account.pk))


def unreserve_credits(*, account: "Account", credits: int) -> None:
    """Frees held credits (a hold released or closed); the CHECK (held >= 0) refuses freeing more."""
    _positive(credits)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET held = held - %s WHERE id = %s RETURNING held", [credits, account.pk]
        )


def debit_reserved(
    *,
    account: "Account",
    amount: int,
    covered: int,
    unreserve: int,
    transaction_type: str = TxType.DEDUCTION,
    description: str,
    metadata: dict | None = None,
    created_by: "User | None" = None,
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> Debit:
    """Charges `amount` credits of which `covered` were held for it, and frees `unreserve` (>= covered)
    held credits, in one conditional UPDATE: the part beyond `covered` must fit in what is spendable
    once `unreserve` is freed, else InsufficientCredits and nothing changes. Call it holding the account's
    lock (lock_account), so that due grants expired first."""
    _positive(amount)
    if not 0 <= covered <= min(amount, unreserve):
        raise ValueError("covered must be within both the amount and the credits freed")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET credits = credits - %s, held = held - %s, ledger_seq = ledger_seq + 1 "
            "WHERE id = %s AND credits - %s >= 0 AND (%s OR credits - %s >= held - %s) "
            "RETURNING credits, ledger_seq",
            [amount, unreserve, account.pk, amount, amount == covered, amount, unreserve],
        )
        row = cursor.fetchone()
    if row is None:
        state = read_account_state(account.pk)
        raise InsufficientCredits(
            needed=amount - covered, available=max(0, state.credits - state.held + unreserve - covered)
        )
    now = at or timezone.now()
    drawn: list[Decimal] = []

    def draw(ledger_row: CreditTransaction) -> None:
        drawn.append(_draw(row=ledger_row, credits=amount, now=now))

    ledger_row = _write(
        account=account,
        delta=-amount,
        transaction_type=transaction_type,
        description=description,
        reference="",
        metadata=metadata,
        created_by=created_by,
        at=at,
        then=draw,
        balance=(int(row[0]), int(row[1])),
        api_key=api_key,
    )
    if ledger_row is None:  # unreachable: the balance changed above and _write only records it
        raise RuntimeError("debit_reserved: the ledger row was not written")
    return Debit(transaction=ledger_row, value=drawn[0])


# --- reversal: credits back to the grants they came from -----------------------------------------------


@dataclass(frozen=True)
class Return:
    transaction: CreditTransaction  # the `reversal` row
    credits: int
    expired: int  # of those, credits that went back to an expired grant and left again at once
    value: Decimal  # their money value (cost basis)


def return_credits(
    *,
    account: "Account",
    to_grants: list[tuple[CreditGrant, int]],
    description: str,
    reference: str,
    metadata: dict | None = None,
    created_by: "User | None" = None,
    now: datetime | None = None,
) -> Return:
    """Gives credits back to the grants they were drawn from, as one `reversal` row with negative draws.
    What goes back to a grant whose expiry was processed leaves again in the same transaction (an
    `expiration` row). Call it holding the account's lock (lock_account), which expired due grants."""
    now = now or timezone.now()
    credits = sum(take for _grant, take in to_grants)
    _positive(credits)
    value = sum((grant.cost_basis * take for grant, take in to_grants), Decimal("0")).quantize(VALUE_PLACES)

    def give_back(row: CreditTransaction) -> None:
        for grant, take in to_grants:
            CreditDraw.objects.create(transaction=row, grant=grant, credits=-take)
            CreditGrant.objects.filter(pk=grant.pk).update(remaining=F("remaining") + take)
            if grant.expired_at is None and grant.expires_at is not None:
                _note_expiry(account_id=account.pk, expires_at=grant.expires_at)

    row = _write(
        account=account,
        delta=credits,
        transaction_type=TxType.REVERSAL,
        description=description,
        reference=reference,
        metadata=metadata,
        created_by=created_by,
        at=None,
        then=give_back,
    )
    if row is None:
        raise ValueError(f"No account {account.pk}.")
    expired = 0
    for grant, take in to_grants:
        if grant.expired_at is not None:
            _expire_credits(
                account=account,
                grant=grant,
                credits=take,
                at=None,
                reference=f"expiration:reversal:{row.pk}:grant:{grant.pk}",
            )
            expired += take
    return Return(transaction=row, credits=credits, expired=expired, value=value)


# --- many debits, on one account or many, under one lock each (batch metering) ------------------------


@dataclass(frozen=True)
class LockedAccount:
    """An account's balance as read under its row lock, with what the alerts and auto top-up compare."""

    id: int
    credits: int
    held: int
    ledger_seq: int
    low_balance_threshold: int
    auto_top_up_below: int

    @property
    def spendable(self) -> int:
        return max(0, self.credits - self.held)


def json_values(values: Any, *, text: bool = False) -> RawSQL:
    """`field__in=json_values(ids)`: the values as a subquery over one JSON parameter. A thousand values in
    an IN list cost a thousand placeholders for Django to build and psycopg to bind, more than the query."""
    if connection.vendor == "postgresql":
        column = "value" if text else "CAST(value AS bigint)"
        sql = f"SELECT {column} FROM json_array_elements_text(%s::json) AS value"
    else:
        sql = "SELECT value FROM json_each(%s)"
    return RawSQL(sql, [json.dumps(list(values))])


def _select_accounts(account_ids: list[int], *, for_update: bool) -> dict[int, tuple[LockedAccount, Any]]:
    lock = " FOR UPDATE" if for_update and connection.vendor == "postgresql" else ""
    ids = json_values(account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, credits, held, ledger_seq, low_balance_threshold, auto_top_up_below, next_expiry_at "
            f"FROM {ACCOUNT_TABLE} WHERE id IN ({ids.sql}) ORDER BY id{lock}",
            ids.params,
        )
        rows = cursor.fetchall()
    return {
        int(row[0]): (LockedAccount(*(int(value or 0) for value in row[:6])), _aware(row[6])) for row in rows
    }


def lock_accounts(
    *, account_ids: list[int], now: datetime, known: dict[int, Any] | None = None
) -> dict[int, LockedAccount]:
    """Takes the row locks of the accounts in ascending id order, in one statement (so two batches that
    share accounts lock them in the same order and never wait on each other in a cycle), and expires the
    grants due at `now` of those that have some, as lock_account does. `known`: account instances the
    caller holds (the expiry needs one; the others are loaded). An id with no account is left out."""
    ids = sorted(set(account_ids))
    if not ids:
        return {}
    found = _select_accounts(ids, for_update=True)
    due = [
        account_id for account_id, (_state, expiry) in found.items() if expiry is not None and expiry <= now
    ]
    for account_id in due:
        expire_due_grants(account=_account_instance(account_id, known), now=now)
    if due:
        found = _select_accounts(ids, for_update=False)
    return {account_id: state for account_id, (state, _expiry) in found.items()}


def _account_instance(account_id: int, known: dict[int, Any] | None) -> Any:
    if known and account_id in known:
        return known[account_id]
    model = CreditTransaction._meta.get_field("account").related_model
    return model._default_manager.get(pk=account_id)  # type: ignore[union-attr]


@dataclass(frozen=True)
class PlannedDebit:
    amount: int
    description: str
    metadata: dict
    created_by: "User | None" = None
    api_key: "ApiKey | None" = None
    account_id: int | None = None  # None: debit_many's account


@dataclass(frozen=True)
class WrittenDebit:
    """A batch deduction's ledger row as written, without building a model instance for it."""

    transaction_id: int
    account_id: int
    credits: int  # taken: the row's amount is -credits
    balance_after: int
    seq: int
    value: Decimal  # the money value (cost basis) of the credits it consumed
    created_at: datetime


SHORT = "insufficient_credits"
OVER_CAP = "cap"


@dataclass
class _Row:
    """A planned ledger row of a batch: where it goes, and the draws it takes."""

    debit: PlannedDebit
    account_id: int
    balance_after: int = 0
    seq: int = 0
    draws: list[tuple[int, int]] | None = None  # (grant id, credits)
    value: Decimal = Decimal("0")


def debit_accounts(
    *,
    debits: list[PlannedDebit],
    locked: dict[int, LockedAccount],
    now: datetime,
    cap_room: int | None = None,
    known: dict[int, Any] | None = None,
) -> list[WrittenDebit | str]:
    """Takes the debits (each naming its account) in order, holding the accounts' locks (lock_accounts),
    in the caller's transaction: each one its account's spendable balance and `cap_room` (the credits a
    spending cap still allows, shared by the whole batch) cover is written, each one they do not is SHORT
    or OVER_CAP, nothing written for it, and the next ones are still tried: the outcome of sending them one
    by one, in order. What is accepted is written set-wise, whatever the number of accounts: on PostgreSQL
    one statement writes the balances, the ledger rows (each with the balance_after and seq it would have
    had alone), the grant draws in draw order and the rollups. Balance alerts and the auto top-up see each
    account's balance before and after its debits. `known`: account instances the caller holds."""
    if not connection.in_atomic_block:
        raise RuntimeError("debit_accounts must run inside the transaction that holds the accounts' locks.")
    spendable = {account_id: state.spendable for account_id, state in locked.items()}
    room = cap_room
    results: list[WrittenDebit | str] = [SHORT] * len(debits)
    accepted: list[tuple[int, _Row]] = []
    for index, debit in enumerate(debits):
        _positive(debit.amount)
        account_id = debit.account_id
        if account_id is None or account_id not in spendable:
            raise ValueError(f"debit {index} names no locked account ({account_id!r})")
        if debit.amount > spendable[account_id]:
            continue
        if room is not None and debit.amount > room:
            results[index] = OVER_CAP
            continue
        spendable[account_id] -= debit.amount
        if room is not None:
            room -= debit.amount
        accepted.append((index, _Row(debit=debit, account_id=account_id)))
    if not accepted:
        return results
    totals: dict[int, int] = {}  # per account: credits taken, and rows written
    counts: dict[int, int] = {}
    for _index, row in accepted:
        state = locked[row.account_id]
        totals[row.account_id] = totals.get(row.account_id, 0) + row.debit.amount
        counts[row.account_id] = counts.get(row.account_id, 0) + 1
        row.balance_after = state.credits - totals[row.account_id]
        row.seq = state.ledger_seq + counts[row.account_id]
    _plan_draws([row for _index, row in accepted], now=now)
    if connection.vendor == "postgresql":
        ids = _write_debits_pg([row for _index, row in accepted], totals=totals, counts=counts, now=now)
    else:
        ids = _write_debits_orm([row for _index, row in accepted], totals=totals, counts=counts, now=now)
    for (index, row), transaction_id in zip(accepted, ids, strict=True):
        results[index] = WrittenDebit(
            transaction_id=transaction_id,
            account_id=row.account_id,
            credits=row.debit.amount,
            balance_after=row.balance_after,
            seq=row.seq,
            value=row.value,
            created_at=now,
        )
    for account_id in sorted(totals):
        state = locked[account_id]
        before, after = state.credits, state.credits - totals[account_id]
        instance = known.get(account_id) if known else None
        if instance is not None:
            instance.credits, instance.ledger_seq = after, state.ledger_seq + counts[account_id]
        if _crosses(state, before=before, after=after):
            instance = instance or _account_instance(account_id, known)
            note_balance_change(account=instance, before=before, after=after)
            _note_top_up_crossing(account=instance, before=before, after=after)
    return results


def _crosses(state: LockedAccount, *, before: int, after: int) -> bool:
    """Whether a balance alert or the auto top-up could fire: integers only, no account instance needed."""
    threshold, below = state.low_balance_threshold, state.auto_top_up_below
    return (
        after == 0
        or bool(threshold and after <= threshold < before)
        or bool(below and after < below <= before)
    )


def _plan_draws(rows: list["_Row"], *, now: datetime) -> None:
    """Each row's draws from its account's live grants in draw order, as if the rows were drawn one by
    one; one read of the grants of every account."""
    account_ids = sorted({row.account_id for row in rows})
    live: dict[int, _GrantQueue] = {account_id: _GrantQueue(account_id) for account_id in account_ids}
    grants = (
        CreditGrant.objects.filter(account_id__in=json_values(account_ids), remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("account_id", *_draw_order())
        .values_list("account_id", "id", "remaining", "cost_basis")
    )
    for account_id, grant_id, remaining, cost_basis in grants:
        live[account_id].add(grant_id, remaining, cost_basis)
    for row in rows:
        row.draws, row.value = live[row.account_id].take(row.debit.amount)


class _GrantQueue:
    """An account's live grants in draw order and what is left of each: the one piece that splits a debit
    across grants, for the single debit's draw (SQLite, or a preferred grant) and the batch's."""

    def __init__(self, account_id: int):
        self.account_id = account_id
        self.grants: list[tuple[int, Decimal]] = []  # (id, cost basis)
        self.left: dict[int, int] = {}
        self.taken: dict[int, int] = {}
        self.position = 0

    def add(self, grant_id: int, remaining: int, cost_basis: Decimal) -> None:
        self.grants.append((grant_id, cost_basis))
        self.left[grant_id] = remaining

    def take(self, credits: int) -> tuple[list[tuple[int, int]], Decimal]:
        """The draws (grant id, credits) of one debit and their money value; GrantDrift when the live
        grants hold less than the balance said."""
        draws, value, need = [], Decimal("0"), credits
        while need:
            if self.position == len(self.grants):
                raise GrantDrift(
                    f"account {self.account_id}: live grants are {need} credits short of the balance"
                )
            grant_id, cost_basis = self.grants[self.position]
            take = min(need, self.left[grant_id])
            draws.append((grant_id, take))
            value += cost_basis * take
            self.left[grant_id] -= take
            self.taken[grant_id] = self.taken.get(grant_id, 0) + take
            need -= take
            if self.left[grant_id] == 0:
                self.position += 1
        return draws, value.quantize(VALUE_PLACES)


# The rows travel as JSON documents (one parameter each): psycopg quotes a thousand-element array for the
# client-side binding Django uses element by element, and that cost more than the statement.
PG_DEBIT_MANY_SQL = f"""
WITH totals AS (
    SELECT * FROM json_to_recordset(%(accounts)s::json) AS d(id bigint, total bigint, n bigint)
), balances AS (
    UPDATE {ACCOUNT_TABLE} a SET credits = a.credits - d.total, ledger_seq = a.ledger_seq + d.n
    FROM totals d
    WHERE a.id = d.id AND a.credits - d.total >= a.held
    RETURNING a.id
), ledger AS (
    INSERT INTO {CreditTransaction._meta.db_table}
        (account_id, transaction_type, amount, balance_after, seq, description, reference, metadata,
         created_by_id, api_key_id, created_at)
    SELECT r.a, %(type)s, -r.c, r.b, r.s, r.d, '', r.m, r.u, r.k, %(now)s
    FROM json_to_recordset(%(rows)s::json)
         AS r(a bigint, c bigint, b bigint, s bigint, d text, m jsonb, u bigint, k bigint)
    RETURNING id, account_id, seq
), drained AS (
    UPDATE {GRANT_TABLE} g SET remaining = g.remaining - t.taken
    FROM json_to_recordset(%(grants)s::json) AS t(id bigint, taken bigint)
    WHERE g.id = t.id
    RETURNING g.id
), drawn AS (
    INSERT INTO {DRAW_TABLE} (transaction_id, grant_id, credits)
    SELECT ledger.id, d.g, d.c
    FROM json_to_recordset(%(draws)s::json) AS d(a bigint, s bigint, g bigint, c bigint)
    JOIN ledger ON ledger.account_id = d.a AND ledger.seq = d.s
    RETURNING 1
), rollup AS (
    INSERT INTO {DailyLedgerRollup._meta.db_table} AS r (account_id, date, transaction_type, total, count)
    SELECT d.id, %(day)s, %(type)s, -d.total, d.n FROM totals d
    ON CONFLICT (account_id, date, transaction_type) DO UPDATE
    SET total = r.total + excluded.total, count = r.count + excluded.count
    RETURNING 1
)
SELECT ledger.id, ledger.account_id, ledger.seq,
       (SELECT COUNT(*) FROM balances), (SELECT COUNT(*) FROM drained), (SELECT COUNT(*) FROM drawn)
FROM ledger
"""


def _user_id(user: "User | None") -> int | None:
    return user.pk if user is not None and user.pk else None


def _write_debits_pg(
    rows: list[_Row], *, totals: dict[int, int], counts: dict[int, int], now: datetime
) -> list[int]:
    """All the rows' writes in one statement; returns the ledger ids in the rows' order."""
    taken: dict[int, int] = {}
    draws = []
    for row in rows:
        for grant_id, credits in row.draws or ():
            taken[grant_id] = taken.get(grant_id, 0) + credits
            draws.append({"a": row.account_id, "s": row.seq, "g": grant_id, "c": credits})
    params: dict[str, Any] = {
        "accounts": json.dumps([{"id": pk, "total": totals[pk], "n": counts[pk]} for pk in sorted(totals)]),
        "type": TxType.DEDUCTION,
        "now": now,
        "day": now.date(),
        "rows": json.dumps(
            [
                {
                    "a": row.account_id,
                    "c": row.debit.amount,
                    "b": row.balance_after,
                    "s": row.seq,
                    "d": row.debit.description[:255],
                    "m": row.debit.metadata,
                    "u": _user_id(row.debit.created_by),
                    "k": row.debit.api_key.pk if row.debit.api_key is not None else None,
                }
                for row in rows
            ]
        ),
        "grants": json.dumps([{"id": pk, "taken": taken[pk]} for pk in sorted(taken)]),
        "draws": json.dumps(draws),
    }
    with connection.cursor() as cursor:
        cursor.execute(PG_DEBIT_MANY_SQL, params)
        written = cursor.fetchall()
    if len(written) != len(rows) or written[0][3:] != (len(totals), len(taken), len(draws)):
        # Impossible while the rows are locked; refuse (the caller's transaction rolls back) rather than
        # leave a ledger that disagrees with the balances or the grants.
        raise GrantDrift(f"batch debit: wrote {len(written)} of {len(rows)} rows, counts {written[:1]}")
    ids = {(int(account_id), int(seq)): int(row_id) for row_id, account_id, seq, *_counts in written}
    return [ids[(row.account_id, row.seq)] for row in rows]


def _write_debits_orm(
    rows: list[_Row], *, totals: dict[int, int], counts: dict[int, int], now: datetime
) -> list[int]:
    """The plain path (SQLite): per account one balance UPDATE and one rollup; one INSERT of the ledger
    rows, one of the draws, one UPDATE per grant touched."""
    with connection.cursor() as cursor:
        for account_id in sorted(totals):
            cursor.execute(
                f"UPDATE {ACCOUNT_TABLE} SET credits = credits - %s, ledger_seq = ledger_seq + %s "
                "WHERE id = %s AND credits - %s >= held RETURNING credits",
                [totals[account_id], counts[account_id], account_id, totals[account_id]],
            )
            if (
                cursor.fetchone() is None
            ):  # impossible under the lock; refuse rather than write a wrong ledger
                raise GrantDrift(f"account {account_id}: the locked balance no longer covers the batch")
    ledger_rows = CreditTransaction.objects.bulk_create(
        [
            _ledger_row(
                account_id=row.account_id,
                transaction_type=TxType.DEDUCTION,
                delta=-row.debit.amount,
                balance_after=row.balance_after,
                seq=row.seq,
                description=row.debit.description,
                reference="",
                metadata=row.debit.metadata,
                created_by=row.debit.created_by,
                api_key=row.debit.api_key,
                created_at=now,
            )
            for row in rows
        ]
    )
    taken: dict[int, int] = {}
    draws = []
    for row, ledger_row in zip(rows, ledger_rows, strict=True):
        for grant_id, credits in row.draws or ():
            taken[grant_id] = taken.get(grant_id, 0) + credits
            draws.append(CreditDraw(transaction_id=ledger_row.pk, grant_id=grant_id, credits=credits))
    for grant_id in sorted(taken):
        CreditGrant.objects.filter(pk=grant_id).update(remaining=F("remaining") - taken[grant_id])
    CreditDraw.objects.bulk_create(draws)
    for account_id in sorted(totals):
        _bump_ledger_rollup(
            account_id=account_id,
            at=now,
            transaction_type=TxType.DEDUCTION,
            amount=-totals[account_id],
            count=counts[account_id],
        )
    return [ledger_row.pk for ledger_row in ledger_rows]


def debit_many(
    *,
    account: "Account",
    debits: list[PlannedDebit],
    now: datetime | None = None,
    cap_room: int | None = None,
) -> list[Debit | str]:
    """debit_accounts for one account, in its own transaction under the account's lock: each debit
    written comes back as a Debit with its ledger row, the others as SHORT or OVER_CAP."""
    now = now or timezone.now()
    planned = [replace(debit, account_id=account.pk) for debit in debits]
    with transaction.atomic():
        locked = lock_accounts(account_ids=[account.pk], now=now, known={account.pk: account})
        written = debit_accounts(
            debits=planned, locked=locked, now=now, cap_room=cap_room, known={account.pk: account}
        )
    results: list[Debit | str] = []
    for debit, outcome in zip(planned, written, strict=True):
        if isinstance(outcome, str):
            results.append(outcome)
            continue
        row = _ledger_row(
            account_id=account.pk,
            transaction_type=TxType.DEDUCTION,
            delta=-outcome.credits,
            balance_after=outcome.balance_after,
            seq=outcome.seq,
            description=debit.description,
            reference="",
            metadata=debit.metadata,
            created_by=debit.created_by,
            api_key=debit.api_key,
            created_at=outcome.created_at,
        )
        row.pk = outcome.transaction_id
        row._state.adding = False
        results.append(Debit(transaction=row, value=outcome.value))
    return results

"""The only code that changes a balance. Each change is one conditional UPDATE of the account's credits
and one ledger row carrying balance_after, in the same transaction, plus the daily rollups analytics reads.

The UPDATE ... RETURNING takes the account's row lock (PostgreSQL) or runs inside SQLite's IMMEDIATE
transaction, so the ledger row is inserted while the balance is held: within an account, ledger ids
follow the order in which balances changed, and balance_after is always the running sum.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from creditdesk.billing.models import (
    CreditTransaction,
    DailyLedgerRollup,
    DailyOperationRollup,
)
from creditdesk.core.errors import ApplicationError, ErrorCode

TxType = CreditTransaction.Type
ACCOUNT_TABLE = CreditTransaction._meta.get_field("account").related_model._meta.db_table


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


@dataclass(frozen=True)
class Clawback:
    transaction: CreditTransaction | None
    requested: int
    recovered: int

    @property
    def shortfall(self) -> int:
        return self.requested - self.recovered


def _positive(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"A credit amount must be a positive integer, not {amount!r}.")
    return amount


def _change_balance(*, account_id: int, delta: int) -> int | None:
    """Applies delta unless it would take the balance below zero; returns the new balance or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ACCOUNT_TABLE} SET credits = credits + %s WHERE id = %s AND credits + %s >= 0 "
            "RETURNING credits",
            [delta, account_id, delta],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _read_balance(account_id: int, *, for_update: bool = False) -> int:
    # SQLite has no FOR UPDATE; its IMMEDIATE transaction already holds the write lock.
    lock = " FOR UPDATE" if for_update and connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credits FROM {ACCOUNT_TABLE} WHERE id = %s{lock}", [account_id])
        row = cursor.fetchone()
    if row is None:
        raise ValueError(f"No account {account_id}.")
    return int(row[0])


def _bump_ledger_rollup(*, account_id: int, at: datetime, transaction_type: str, amount: int) -> None:
    table = DailyLedgerRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, date, transaction_type, total, count) VALUES (%s, %s, %s, %s, 1) "
            f"ON CONFLICT (account_id, date, transaction_type) DO UPDATE "
            f"SET total = {table}.total + excluded.total, count = {table}.count + 1",
            [account_id, at.date(), transaction_type, amount],
        )


def bump_operation_rollup(
    *, account_id: int, at: datetime, operation_type: str, credits: int, cost_usd: Decimal | None
) -> None:
    table = DailyOperationRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (account_id, date, operation_type, credits, count, cost_usd) "
            f"VALUES (%s, %s, %s, %s, 1, %s) "
            f"ON CONFLICT (account_id, date, operation_type) DO UPDATE "
            f"SET credits = {table}.credits + excluded.credits, count = {table}.count + 1, "
            f"cost_usd = {table}.cost_usd + excluded.cost_usd",
            [account_id, at.date(), operation_type, credits, cost_usd or Decimal("0")],
        )


def _write(
    *,
    account: Any,
    delta: int,
    transaction_type: str,
    description: str,
    reference: str,
    metadata: dict | None,
    created_by: Any,
    at: datetime | None,
) -> CreditTransaction | None:
    """Changes the balance by delta and appends its ledger row and rollup; None (and nothing written)
    when the balance would go below zero.

    A savepoint costs two round trips on the metering path, so there is one only where an error is
    expected and handled: a duplicate reference, rolled back to it and reported as
    DuplicateLedgerReference so that the caller's transaction goes on.
    """
    try:
        with transaction.atomic(savepoint=bool(reference)):
            balance = _change_balance(account_id=account.pk, delta=delta)
            if balance is None:
                return None
            # Taken under the balance lock, so created_at follows the ledger's order. `at` backdates
            # imported history (seed_demo), which must be written oldest first.
            now = at or timezone.now()
            row = CreditTransaction.objects.create(
                account_id=account.pk,
                transaction_type=transaction_type,
                amount=delta,
                balance_after=balance,
                description=description[:255],
                reference=reference,
                metadata=metadata or {},
                created_by=created_by if created_by is not None and created_by.pk else None,
                created_at=now,
            )
            _bump_ledger_rollup(
                account_id=account.pk, at=now, transaction_type=transaction_type, amount=delta
            )
    except IntegrityError as exc:
        if (
            reference
            and CreditTransaction.objects.filter(account_id=account.pk, reference=reference).exists()
        ):
            raise DuplicateLedgerReference(reference) from exc
        raise
    account.credits = balance
    return row


def grant_credits(
    *,
    account: Any,
    amount: int,
    transaction_type: str = TxType.GRANT,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: Any = None,
    at: datetime | None = None,
) -> CreditTransaction:
    """Adds credits. With a reference, a second grant of the same reference raises DuplicateLedgerReference."""
    row = _write(
        account=account,
        delta=_positive(amount),
        transaction_type=transaction_type,
        description=description,
        reference=reference,
        metadata=metadata,
        created_by=created_by,
        at=at,
    )
    if row is None:
        raise ValueError(f"No account {account.pk}.")
    return row


def deduct_credits(
    *,
    account: Any,
    amount: int,
    transaction_type: str = TxType.DEDUCTION,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: Any = None,
    at: datetime | None = None,
) -> CreditTransaction:
    """Takes credits, all or nothing: InsufficientCredits (and nothing written) when the balance is short."""
    row = _write(
        account=account,
        delta=-_positive(amount),
        transaction_type=transaction_type,
        description=description,
        reference=reference,
        metadata=metadata,
        created_by=created_by,
        at=at,
    )
    # Raised outside the write's block, which wrote nothing: the caller's transaction is intact.
    if row is None:
        raise InsufficientCredits(needed=amount, available=_read_balance(account.pk))
    return row


def claw_back_credits(
    *,
    account: Any,
    amount: int,
    transaction_type: str = TxType.REFUND,
    description: str,
    reference: str = "",
    metadata: dict | None = None,
    created_by: Any = None,
) -> Clawback:
    """Takes back up to `amount` credits, never below zero; the part already spent is the shortfall."""
    _positive(amount)
    with transaction.atomic():
        recovered = min(amount, _read_balance(account.pk, for_update=True))
        if recovered == 0:
            return Clawback(transaction=None, requested=amount, recovered=0)
        row = _write(
            account=account,
            delta=-recovered,
            transaction_type=transaction_type,
            description=description,
            reference=reference,
            metadata={**(metadata or {}), "requested": amount, "shortfall": amount - recovered},
            created_by=created_by,
            at=None,
        )
    if row is None:  # impossible while the row is locked; refuse rather than report a wrong recovery
        raise InsufficientCredits(needed=recovered, available=_read_balance(account.pk))
    return Clawback(transaction=row, requested=amount, recovered=recovered)


def adjust_credits(*, account: Any, amount: int, reason: str, created_by: Any) -> CreditTransaction:
    """A staff correction, signed; it may not take the balance below zero."""
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

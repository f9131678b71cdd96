"""Metering: other services of the platform spend an account's credits on operations.

A job is charged once: `(account, reference_id)` is unique for usage logs whenever a reference_id is
given, for ever. The same job sent again with the same body gets the first log back (a replay); with
another body, a 409 that names the fields that differ.
"""

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from creditdesk.billing.models import CreditCost, CreditUsageLog
from creditdesk.billing.services.caps import caps_for, charge_caps
from creditdesk.billing.services.ledger import Debit, bump_operation_rollup, debit_credits
from creditdesk.billing.services.metering_pg import REPLAY, UNPRICED, meter_in_one_statement
from creditdesk.core.errors import Conflict, ValidationFailed

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.billing.models import CreditHold
    from creditdesk.tenancy.models import ApiKey

# What makes two requests for one job "the same body": what the caller says about the job.
JOB_FIELDS = ("operation_type", "units", "cost_usd", "model", "tokens_input", "tokens_output", "metadata")


class JobConflict(Conflict):
    """The reference_id names a job already metered (or held) with other values."""

    @classmethod
    def for_fields(cls, *, reference_id: str, fields: list[str], what: str = "metered") -> "JobConflict":
        message = f"Job {reference_id!r} was already {what} with another {', '.join(fields)}."
        errors = {
            field: [f"Differs from the first request for reference_id {reference_id!r}."] for field in fields
        }
        errors["reference_id"] = [message]
        return cls(message, errors=errors, extra={"reference_id": reference_id, "fields": fields})


@dataclass(frozen=True)
class Metered:
    log: CreditUsageLog
    replayed: bool  # True: this job was metered before, and `log` is that first result


def price_of(*, operation_type: str, units: int) -> tuple[CreditCost, int]:
    cost = CreditCost.objects.filter(operation_type=operation_type, is_active=True).first()
    if cost is None:
        raise ValidationFailed.on_field(
            "operation_type", f"Unknown or inactive operation type: {operation_type!r}."
        )
    return cost, cost.credits_per_unit * units


def differing_fields(existing: Model, wanted: dict[str, Any]) -> list[str]:
    return [field for field, value in wanted.items() if getattr(existing, field) != value]


def _replay(*, account: "Account", reference_id: str, wanted: dict[str, Any]) -> Metered | None:
    first = CreditUsageLog.objects.filter(account_id=account.pk, reference_id=reference_id).first()
    if first is None:
        return None
    fields = differing_fields(first, wanted)
    if fields:
        raise JobConflict.for_fields(reference_id=reference_id, fields=fields)
    return Metered(log=first, replayed=True)


def meter_usage(
    *,
    account: "Account",
    user: "User | None",
    operation_type: str,
    units: int = 1,
    cost_usd: Decimal | None = None,
    model: str = "",
    tokens_input: int | None = None,
    tokens_output: int | None = None,
    reference_id: str = "",
    metadata: dict | None = None,
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> Metered:
    """Deducts the price list's credits for the operation and logs it; InsufficientCredits or CapExceeded
    leaves no trace. A reference_id metered before replays its first log, or raises JobConflict (409).
    `api_key` is the service key that acted (then `user` is None)."""
    metadata = metadata or {}
    wanted = {
        "operation_type": operation_type,
        "units": units,
        "cost_usd": cost_usd,
        "model": model,
        "tokens_input": tokens_input,
        "tokens_output": tokens_output,
        "metadata": metadata,
    }
    try:
        metered = _charge_in_one_statement(
            account=account, user=user, wanted=wanted, reference_id=reference_id, at=at, api_key=api_key
        )
        if metered is not None:
            return metered
        if reference_id and (replay := _replay(account=account, reference_id=reference_id, wanted=wanted)):
            return replay
        cost, credits = price_of(operation_type=operation_type, units=units)
        with transaction.atomic():
            log = _charge(
                account=account,
                user=user,
                cost=cost,
                credits=credits,
                wanted=wanted,
                reference_id=reference_id,
                at=at,
                api_key=api_key,
            )
    except IntegrityError:
        # The same job, metered at the same moment by another request: its charge stands, ours is undone.
        if reference_id and (replay := _replay(account=account, reference_id=reference_id, wanted=wanted)):
            return replay
        raise
    return Metered(log=log, replayed=False)


def _charge_in_one_statement(
    *,
    account: "Account",
    user: "User | None",
    wanted: dict[str, Any],
    reference_id: str,
    at: datetime | None,
    api_key: "ApiKey | None" = None,
) -> Metered | None:
    """On PostgreSQL, when no spending cap applies (caps need their counters in the same transaction),
    the price, the replay check and the whole charge in one statement (metering_pg.py): the job metered,
    or replayed (JobConflict when its body differs); None: take the plain path (SQLite, a cap, or the
    function refused)."""
    if connection.vendor != "postgresql" or caps_for(api_key=api_key, member=user, at=at or timezone.now()):
        return None
    # Alone, the statement is its own transaction: the lock lasts one round trip and the commit. Inside the
    # caller's transaction (an Idempotency-Key, a test) a savepoint keeps that transaction usable.
    with transaction.atomic() if connection.in_atomic_block else nullcontext():
        outcome = meter_in_one_statement(
            account=account,
            user=user if user is not None and user.pk else None,
            api_key=api_key,
            reference_id=reference_id,
            wanted=wanted,
            at=at,
        )
    if outcome.log is not None:
        return Metered(log=outcome.log, replayed=False)
    if outcome.status == REPLAY:
        return _replay(account=account, reference_id=reference_id, wanted=wanted)
    if outcome.status == UNPRICED:
        price_of(operation_type=wanted["operation_type"], units=wanted["units"])  # the plain path's 400
    return None


def _charge(
    *,
    account: "Account",
    user: "User | None",
    cost: CreditCost,
    credits: int,
    wanted: dict[str, Any],
    reference_id: str,
    at: datetime | None,
    api_key: "ApiKey | None" = None,
) -> CreditUsageLog:
    """The deduction, its spending caps (after the account's lock: caps.py) and its usage log (and
    rollup), in the caller's transaction."""
    debit = debit_credits(
        account=account,
        amount=credits,
        description=usage_description(cost=cost, units=wanted["units"]),
        metadata={
            "operation_type": cost.operation_type,
            "units": wanted["units"],
            "reference_id": reference_id,
        },
        created_by=user,
        at=at,
        api_key=api_key,
    )
    charge_caps(
        account_id=account.pk, api_key=api_key, member=user, credits=credits, at=debit.transaction.created_at
    )
    return log_usage(
        account=account, user=user, debit=debit, wanted=wanted, reference_id=reference_id, api_key=api_key
    )


def usage_description(*, cost: CreditCost, units: int) -> str:
    return f"{cost.display_name} ({units} × {cost.unit})"


def log_usage(
    *,
    account: "Account",
    user: "User | None",
    debit: Debit,
    wanted: dict[str, Any],
    reference_id: str = "",
    hold: "CreditHold | None" = None,
    api_key: "ApiKey | None" = None,
) -> CreditUsageLog:
    """The usage log of a deduction already written, and its operation rollup."""
    ledger_row = debit.transaction
    log = CreditUsageLog.objects.create(
        account_id=account.pk,
        user=user if user is not None and user.pk else None,
        api_key=api_key,
        credits_used=-ledger_row.amount,
        reference_id=reference_id,
        transaction=ledger_row,
        credits_value=debit.value,
        created_at=ledger_row.created_at,
        hold=hold,
        **wanted,
    )
    bump_operation_rollup(
        account_id=account.pk,
        at=ledger_row.created_at,
        operation_type=wanted["operation_type"],
        credits=-ledger_row.amount,
        cost_usd=wanted["cost_usd"],
    )
    return log


def record_usage(
    *,
    account: "Account",
    user: "User | None",
    operation_type: str,
    units: int = 1,
    cost_usd: Decimal | None = None,
    model: str = "",
    tokens_input: int | None = None,
    tokens_output: int | None = None,
    reference_id: str = "",
    metadata: dict | None = None,
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> CreditUsageLog:
    """meter_usage, returning the log (the first one when the job was metered before)."""
    return meter_usage(
        account=account,
        user=user,
        operation_type=operation_type,
        units=units,
        cost_usd=cost_usd,
        model=model,
        tokens_input=tokens_input,
        tokens_output=tokens_output,
        reference_id=reference_id,
        metadata=metadata,
        at=at,
        api_key=api_key,
    ).log

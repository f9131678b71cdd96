"""Holds: credits reserved for a running job, settled in parts as the job reports its use, released
when it ends or at its deadline.

A hold's `remaining` counts in `Account.held` while it is active, so spendable = credits - held stays
what other deductions may take. Every change takes the account's lock first, then the hold's row (always
in that order), so concurrent settles, releases and the expiry job see one another's effects. A settle
charges through the price list like metering (a `deduction` ledger row with its draws, and a usage log
pointing at the hold); settling more than is held charges the difference when the spendable balance
allows, else 402 and the hold stays as it was.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from creditdesk.billing.models import CreditHold, CreditUsageLog
from creditdesk.billing.services.caps import charge_caps, release_caps
from creditdesk.billing.services.ledger import (
    debit_reserved,
    lock_account,
    reserve_credits,
    unreserve_credits,
)
from creditdesk.billing.services.usage import (
    JobConflict,
    differing_fields,
    log_usage,
    price_of,
    usage_description,
)
from creditdesk.core.errors import Conflict, NotFound, ValidationFailed
from creditdesk.events.services import emit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

Status = CreditHold.Status


class HoldClosed(Conflict):
    """The hold is settled, released or expired: it can take no more settles."""


@dataclass(frozen=True)
class HoldResult:
    hold: CreditHold
    replayed: bool = False  # True: the job's hold existed, and `hold` is it


@dataclass(frozen=True)
class Settlement:
    hold: CreditHold
    usage_log: CreditUsageLog | None  # None when the settle charged nothing (0 credits)


def _one_of(*, units: int | None, credits: int | None) -> None:
    if (units is None) == (credits is None):
        message = "Give either units (priced by the price list) or credits, not both."
        raise ValidationFailed(message, errors={"units": [message], "credits": [message]})


def _replay(*, account: "Account", reference_id: str, wanted: dict[str, Any]) -> HoldResult | None:
    first = CreditHold.objects.filter(account_id=account.pk, reference_id=reference_id).first()
    if first is None:
        return None
    fields = differing_fields(first, wanted)
    if fields:
        raise JobConflict.for_fields(reference_id=reference_id, fields=fields, what="held")
    return HoldResult(hold=first, replayed=True)


def create_hold(
    *,
    account: "Account",
    user: "User | None",
    operation_type: str,
    units: int | None = None,
    credits: int | None = None,
    reference_id: str = "",
    expires_in: int = 3600,
    metadata: dict | None = None,
    now: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> HoldResult:
    """Reserves `credits`, or the price of `units` of the operation, for `expires_in` seconds; 402
    (InsufficientCredits: needed, available) when the spendable balance is short. The same reference_id
    again replays the first hold (same body) or raises JobConflict (another body)."""
    _one_of(units=units, credits=credits)
    if expires_in <= 0:
        raise ValidationFailed.on_field("expires_in", "A hold lasts at least one second.")
    _cost, priced = price_of(operation_type=operation_type, units=units or 0)
    amount = priced if units is not None else int(credits or 0)
    if amount <= 0:
        raise ValidationFailed.on_field(
            "credits" if credits is not None else "units", "A hold reserves credits."
        )
    metadata = metadata or {}
    wanted = {
        "operation_type": operation_type,
        "units": units,
        "credits": amount,
        "expires_in": expires_in,
        "metadata": metadata,
    }
    if reference_id and (replay := _replay(account=account, reference_id=reference_id, wanted=wanted)):
        return replay
    now = now or timezone.now()
    try:
        with transaction.atomic():
            reserve_credits(account=account, credits=amount, now=now)
            # An open hold counts against the key's and the member's caps (given back as it is freed).
            charge_caps(account_id=account.pk, api_key=api_key, member=user, credits=amount, at=now)
            hold = CreditHold.objects.create(
                account_id=account.pk,
                user=user if user is not None and user.pk else None,
                api_key=api_key,
                remaining=amount,
                reference_id=reference_id,
                expires_at=now + timedelta(seconds=expires_in),
                created_at=now,
                **wanted,
            )
    except IntegrityError:
        if reference_id and (replay := _replay(account=account, reference_id=reference_id, wanted=wanted)):
            return replay
        raise
    return HoldResult(hold=hold)


def _locked_hold(*, account: "Account", hold_id: int, now: datetime) -> CreditHold:
    lock_account(account=account, now=now)
    hold = CreditHold.objects.select_for_update().filter(account_id=account.pk, pk=hold_id).first()
    if hold is None:
        raise NotFound("No such hold.")
    return hold


def settle_hold(
    *,
    account: "Account",
    hold_id: int,
    user: "User | None",
    units: int | None = None,
    credits: int | None = None,
    final: bool = True,
    cost_usd: Decimal | None = None,
    model: str = "",
    tokens_input: int | None = None,
    tokens_output: int | None = None,
    metadata: dict | None = None,
    now: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> Settlement:
    """Charges the job's actual use (units through the price list, or credits) against the hold; with
    `final` the hold closes as `settled` and frees what it still holds, otherwise it stays open for
    more. Beyond what is held, the difference is charged if spendable, else InsufficientCredits (402)
    and the hold is unchanged. A closed hold raises HoldClosed (409)."""
    _one_of(units=units, credits=credits)
    backdated, now = now, now or timezone.now()
    with transaction.atomic():
        hold = _locked_hold(account=account, hold_id=hold_id, now=now)
        if hold.status != Status.ACTIVE:
            raise HoldClosed(
                f"The hold is {hold.status}: it takes no more settles.",
                errors={"status": [f"The hold is {hold.status}."]},
                extra={"status": hold.status},
            )
        cost, priced = price_of(operation_type=hold.operation_type, units=units or 0)
        amount = priced if units is not None else int(credits or 0)
        covered = min(amount, hold.remaining)
        unreserve = hold.remaining if final else covered
        log = None
        if amount > 0:
            used_units = units if units is not None else 0  # settled in credits: no unit count
            debit = debit_reserved(
                account=account,
                amount=amount,
                covered=covered,
                unreserve=unreserve,
                description=usage_description(cost=cost, units=used_units) + f" (hold {hold.pk})",
                metadata={"operation_type": hold.operation_type, "units": used_units, "hold_id": hold.pk},
                created_by=user,
                at=backdated,  # None: dated under the lock, like every ledger row
                api_key=api_key,
            )
            if amount > covered:  # the overrun beyond the hold counts against the hold's caps too
                charge_caps(
                    account_id=account.pk,
                    api_key=hold.api_key,
                    member=hold.user,
                    credits=amount - covered,
                    at=now,
                )
            log = log_usage(
                account=account,
                user=user,
                api_key=api_key,
                debit=debit,
                hold=hold,
                wanted={
                    "operation_type": hold.operation_type,
                    "units": used_units,
                    "cost_usd": cost_usd,
                    "model": model,
                    "tokens_input": tokens_input,
                    "tokens_output": tokens_output,
                    "metadata": metadata or {},
                },
            )
        elif unreserve:
            unreserve_credits(account=account, credits=unreserve)
        if unreserve > covered:  # held but not used: back to the caps of the period it was held in
            release_caps(hold=hold, credits=unreserve - covered)
        hold.remaining -= unreserve
        hold.settled += amount
        if final:
            hold.status, hold.closed_at = Status.SETTLED, now
        hold.save(update_fields=["remaining", "settled", "status", "closed_at"])
    return Settlement(hold=hold, usage_log=log)


def _close(*, account: "Account", hold: CreditHold, now: datetime, status: str) -> CreditHold:
    if hold.remaining:
        unreserve_credits(account=account, credits=hold.remaining)
        release_caps(hold=hold, credits=hold.remaining)
    hold.remaining, hold.status, hold.closed_at = 0, status, now
    hold.save(update_fields=["remaining", "status", "closed_at"])
    return hold


def release_hold(*, account: "Account", hold_id: int, now: datetime | None = None) -> CreditHold:
    """Frees what the hold still reserves and closes it as `released`; a closed hold is returned as is."""
    now = now or timezone.now()
    with transaction.atomic():
        hold = _locked_hold(account=account, hold_id=hold_id, now=now)
        if hold.status != Status.ACTIVE:
            return hold
        return _close(account=account, hold=hold, now=now, status=Status.RELEASED)


def release_expired_holds(*, now: datetime | None = None) -> int:
    """The periodic release (run it every minute): active holds past expires_at close as `expired` and
    free their credits. Safe to run twice at once: each hold closes under its account's lock, once."""
    now = now or timezone.now()
    account_model = apps.get_model("accounts", "Account")  # billing never imports accounts
    due = list(
        CreditHold.objects.filter(status=Status.ACTIVE, expires_at__lte=now)
        .order_by("account_id", "id")
        .values_list("account_id", "id")
    )
    released = 0
    for account_id, hold_id in due:
        account = account_model.objects.get(pk=account_id)
        with transaction.atomic():
            hold = _locked_hold(account=account, hold_id=hold_id, now=now)
            if hold.status != Status.ACTIVE or hold.expires_at > now:
                continue
            freed = hold.remaining
            _close(account=account, hold=hold, now=now, status=Status.EXPIRED)
            emit(
                account=account,
                type="hold.expired",
                data={"hold_id": hold.pk, "reference_id": hold.reference_id, "released": freed},
            )
        released += 1
    return released

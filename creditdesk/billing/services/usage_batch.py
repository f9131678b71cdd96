"""Batch metering: up to 1,000 usage events in one request, one transaction and one lock of the account.

Each event gets the answer it would have got sent alone, in the batch's order: `created` (its ledger row
and usage log are written), `replayed` (its reference_id was metered before with the same values: the
first log comes back, nothing is charged), or `refused` with a reason: `unknown_operation`,
`insufficient_credits` (the events before it took the credits; a later, cheaper event may still fit),
`cap` (a spending cap of the key or the member would be passed), or `conflict` (the reference_id was
metered with other values). A short balance therefore refuses the events it cannot pay for, not the whole
batch; whatever is refused leaves no trace, and every accepted event has
its ledger row, grant draws and usage log, written set-wise (bench figure: batch ingestion).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from creditdesk.billing.models import CreditCost, CreditUsageLog
from creditdesk.billing.services.caps import caps_for, charge_caps, spent_on
from creditdesk.billing.services.ledger import (
    OVER_CAP,
    SHORT,
    PlannedDebit,
    bump_operation_rollup,
    debit_many,
    lock_account,
    read_account_state,
)

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

MAX_EVENTS = 1000
# What a repeated reference_id must match to be the same job (and be replayed rather than refused).
JOB_FIELDS = ("operation_type", "units", "cost_usd", "model", "tokens_input", "tokens_output", "metadata")


class Status:
    CREATED = "created"
    REPLAYED = "replayed"
    REFUSED = "refused"


class Reason:
    UNKNOWN_OPERATION = "unknown_operation"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    CAP = "cap"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class EventResult:
    index: int
    reference_id: str
    status: str
    log: CreditUsageLog | None = None
    reason: str = ""
    message: str = ""


def _job(event: dict[str, Any]) -> dict[str, Any]:
    return {field: event.get(field) for field in JOB_FIELDS}


def _same_job(log: CreditUsageLog, event: dict[str, Any]) -> list[str]:
    """The job fields where the logged job and the event differ."""
    return [field for field, value in _job(event).items() if getattr(log, field) != value]


def record_usage_batch(
    *,
    account: "Account",
    user: "User | None",
    events: list[dict[str, Any]],
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> list[EventResult]:
    """Meters the events (validated dicts with RecordUsageSerializer's fields, each with a reference_id)
    in order; see the module's docstring for the answers. `api_key` is the service key that acted (then
    `user` is None); its spending caps and the member's count every accepted event."""
    now = at or timezone.now()
    prices = {
        cost.operation_type: cost
        for cost in CreditCost.objects.filter(
            is_active=True, operation_type__in={event["operation_type"] for event in events}
        )
    }
    results: list[EventResult | None] = [None] * len(events)
    with transaction.atomic():
        # Under the lock, every earlier metering of this account has committed its logs: the lookup of
        # the reference_ids cannot miss one that is being written.
        lock_account(account=account, now=now)
        logged = {
            log.reference_id: log
            for log in CreditUsageLog.objects.filter(
                account_id=account.pk, reference_id__in=[event["reference_id"] for event in events]
            ).order_by("id")
        }
        first_in_batch: dict[str, int] = {}
        planned: list[int] = []
        debits: list[PlannedDebit] = []
        for index, event in enumerate(events):
            reference_id = event["reference_id"]
            earlier = logged.get(reference_id)
            if earlier is not None:
                differing = _same_job(earlier, event)
                results[index] = (
                    EventResult(index, reference_id, Status.REPLAYED, log=earlier)
                    if not differing
                    else _conflict(index, reference_id, differing)
                )
                continue
            if reference_id in first_in_batch:
                continue  # answered after the writes, as its first occurrence was
            first_in_batch[reference_id] = index
            cost = prices.get(event["operation_type"])
            if cost is None:
                results[index] = EventResult(
                    index,
                    reference_id,
                    Status.REFUSED,
                    reason=Reason.UNKNOWN_OPERATION,
                    message=f"Unknown or inactive operation type: {event['operation_type']!r}.",
                )
                continue
            units = event.get("units", 1)
            planned.append(index)
            debits.append(
                PlannedDebit(
                    amount=cost.credits_per_unit * units,
                    description=f"{cost.display_name} ({units} × {cost.unit})",
                    metadata={
                        "operation_type": event["operation_type"],
                        "units": units,
                        "reference_id": reference_id,
                    },
                    created_by=user,
                    api_key=api_key,
                )
            )
        caps = [cap for cap in caps_for(api_key=api_key, member=user, at=now) if cap.limit is not None]
        room = {cap: cap.limit - spent_on(cap) for cap in caps}  # type: ignore[operator]
        tightest = min(room, key=lambda cap: room[cap]) if room else None
        written = debit_many(
            account=account, debits=debits, now=now, cap_room=room[tightest] if tightest else None
        )
        logs = []
        for index, debit, planned_debit in zip(planned, written, debits, strict=True):
            event = events[index]
            if isinstance(debit, str):
                continue
            logs.append(
                CreditUsageLog(
                    account_id=account.pk,
                    user=user if user is not None and user.pk else None,
                    api_key=api_key,
                    operation_type=event["operation_type"],
                    units=event.get("units", 1),
                    credits_used=planned_debit.amount,
                    cost_usd=event.get("cost_usd"),
                    model=event.get("model", ""),
                    tokens_input=event.get("tokens_input"),
                    tokens_output=event.get("tokens_output"),
                    reference_id=event["reference_id"],
                    metadata=event.get("metadata") or {},
                    transaction=debit.transaction,
                    credits_value=debit.value,
                    created_at=now,
                )
            )
        CreditUsageLog.objects.bulk_create(logs)
        _bump_operation_rollups(account_id=account.pk, at=now, logs=logs)
        if logs:  # after the account's lock, as every deduction charges them; they fit: room was checked
            charge_caps(
                account=account,
                api_key=api_key,
                member=user,
                credits=sum(log.credits_used for log in logs),
                at=now,
            )
        available = read_account_state(account.pk).spendable if SHORT in written else 0
    created = iter(logs)
    for index, debit, planned_debit in zip(planned, written, debits, strict=True):
        if debit == SHORT:
            results[index] = EventResult(
                index,
                events[index]["reference_id"],
                Status.REFUSED,
                reason=Reason.INSUFFICIENT_CREDITS,
                message=f"Insufficient credits: this needs {planned_debit.amount} and the account has "
                f"{available} left after the events before it.",
            )
        elif debit == OVER_CAP:
            assert tightest is not None  # OVER_CAP only comes with a cap
            results[index] = EventResult(
                index,
                events[index]["reference_id"],
                Status.REFUSED,
                reason=Reason.CAP,
                message=f"The {tightest.period_name} spending cap of {tightest.label} ({tightest.limit} "
                f"credits) leaves too little for this event's {planned_debit.amount} credits.",
            )
        else:
            results[index] = EventResult(
                index, events[index]["reference_id"], Status.CREATED, log=next(created)
            )
    for index, event in enumerate(events):
        if results[index] is None:  # a reference_id repeated within the batch
            results[index] = _repeat(index, event, events, results)
    return [result for result in results if result is not None]


def _conflict(index: int, reference_id: str, fields: list[str]) -> EventResult:
    return EventResult(
        index,
        reference_id,
        Status.REFUSED,
        reason=Reason.CONFLICT,
        message=f"Job {reference_id!r} was already metered with another {', '.join(fields)}.",
    )


def _repeat(
    index: int, event: dict[str, Any], events: list[dict[str, Any]], results: list[EventResult | None]
) -> EventResult:
    """A later occurrence of a reference_id in the same batch: the first occurrence's answer, as a replay
    when it was written, or a conflict when the job's values differ."""
    reference_id = event["reference_id"]
    first = next(i for i, other in enumerate(events) if other["reference_id"] == reference_id)
    answer = results[first]
    assert answer is not None  # the first occurrence is answered before its repeats
    differing = [field for field in JOB_FIELDS if _job(events[first])[field] != _job(event)[field]]
    if differing:
        return _conflict(index, reference_id, differing)
    if answer.status in (Status.CREATED, Status.REPLAYED):
        return EventResult(index, reference_id, Status.REPLAYED, log=answer.log)
    return EventResult(index, reference_id, answer.status, reason=answer.reason, message=answer.message)


def _bump_operation_rollups(*, account_id: int, at: datetime, logs: list[CreditUsageLog]) -> None:
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal("0")])
    for log in logs:
        total = totals[log.operation_type]
        total[0] += log.credits_used
        total[1] += 1
        total[2] += log.cost_usd or Decimal("0")
    for operation_type, (credits, count, cost_usd) in sorted(totals.items()):
        bump_operation_rollup(
            account_id=account_id,
            at=at,
            operation_type=operation_type,
            credits=credits,
            cost_usd=cost_usd,
            count=count,
        )

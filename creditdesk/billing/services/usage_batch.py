"""Batch metering: up to 1,000 usage events in one request and one transaction, under one lock of each
account the batch touches.

Each event gets the answer it would have got sent alone, in the batch's order: `created` (its ledger row
and usage log are written), `replayed` (its reference_id was metered before in its account with the same
values: the first log comes back, nothing is charged), or `refused` with a reason: `unknown_account` (a
platform key's event naming no active account), `unknown_operation`, `insufficient_credits` (the events
before it took the credits; a later, cheaper event may still fit), `cap` (a spending cap of the key or the
member would be passed), or `conflict` (the reference_id was metered with other values). A short balance
therefore refuses the events it cannot pay for, not the whole batch; whatever is refused leaves no trace,
and every accepted event has its ledger row, grant draws, usage log and rollups, written set-wise: on
PostgreSQL one statement for the ledger's side and one for the usage logs, whatever the number of
accounts (bench figure: batch ingestion).

A platform key's batch may span accounts: each event may name its own `account` (id or slug); the batch's
account (X-Account, or `account` in the body) is the default. The accounts are locked in ascending id
order in one statement, so concurrent batches that share accounts never deadlock; spending caps (the
key's, shared by its accounts) are charged once, after the accounts, as every deduction does (caps.py).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from creditdesk.billing.models import CreditCost, CreditUsageLog, DailyOperationRollup
from creditdesk.billing.services.caps import caps_for, charge_caps, spent_on
from creditdesk.billing.services.ledger import (
    OVER_CAP,
    SHORT,
    PlannedDebit,
    WrittenDebit,
    bump_operation_rollup,
    debit_accounts,
    json_values,
    lock_accounts,
)

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

MAX_EVENTS = 1000
# What a repeated reference_id must match to be the same job (and be replayed rather than refused).
JOB_FIELDS = ("operation_type", "units", "cost_usd", "model", "tokens_input", "tokens_output", "metadata")
ACCOUNT_MODEL: Any = CreditUsageLog._meta.get_field("account").related_model


class Status:
    CREATED = "created"
    REPLAYED = "replayed"
    REFUSED = "refused"


class Reason:
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_OPERATION = "unknown_operation"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    CAP = "cap"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class NewUsage:
    """A usage log this batch wrote, as written (no model instance: a thousand of them cost)."""

    id: int
    account_id: int
    transaction_id: int
    operation_type: str
    units: int
    credits_used: int
    cost_usd: Decimal | None
    model: str
    tokens_input: int | None
    tokens_output: int | None
    reference_id: str
    metadata: dict
    credits_value: Decimal
    created_at: datetime
    units_reversed: int = 0
    credits_reversed: int = 0


@dataclass(frozen=True)
class EventResult:
    index: int
    reference_id: str
    status: str
    account_id: int | None = None  # None: an event naming no active account
    log: CreditUsageLog | NewUsage | None = None
    reason: str = ""
    message: str = ""


def _job(event: dict[str, Any]) -> dict[str, Any]:
    return {field: event.get(field) for field in JOB_FIELDS}


def _same_job(log: CreditUsageLog, event: dict[str, Any]) -> list[str]:
    """The job fields where the logged job and the event differ."""
    return [field for field, value in _job(event).items() if getattr(log, field) != value]


def _resolve_accounts(refs: set[str]) -> dict[str, int]:
    """The active accounts the refs (ids or slugs) name; a ref naming none is left out."""
    ids = {int(ref) for ref in refs if ref.isdigit()}
    slugs = {ref for ref in refs if not ref.isdigit()}
    found: dict[str, int] = {}
    for pk, slug in ACCOUNT_MODEL._default_manager.filter(
        Q(pk__in=json_values(ids)) | Q(slug__in=json_values(slugs, text=True)), is_active=True
    ).values_list("pk", "slug"):
        if str(pk) in refs:
            found[str(pk)] = pk
        if slug in refs:
            found[slug] = pk
    return found


def record_usage_batch(
    *,
    account: "Account",
    user: "User | None",
    events: list[dict[str, Any]],
    at: datetime | None = None,
    api_key: "ApiKey | None" = None,
) -> list[EventResult]:
    """Meters the events (validated dicts with RecordUsageSerializer's fields, each with a reference_id)
    in order; see the module's docstring for the answers. `account` is the batch's account (None when a
    platform key named none: then every event names its own); an event's `account` (id or slug, a platform
    key's only: the view refuses it from anyone else) overrides it. `api_key` is the service key that
    acted (then `user` is None); its spending caps and the member's count every accepted event."""
    now = at or timezone.now()
    prices = {
        cost.operation_type: cost
        for cost in CreditCost.objects.filter(
            is_active=True, operation_type__in={event["operation_type"] for event in events}
        )
    }
    named = {str(event["account"]) for event in events if event.get("account") not in (None, "")}
    resolved = _resolve_accounts(named) if named else {}
    default_id = account.pk if account is not None else None
    owners: list[int | None] = [
        resolved.get(str(event["account"])) if event.get("account") not in (None, "") else default_id
        for event in events
    ]
    known = {account.pk: account} if account is not None else {}
    user = user if user is not None and user.pk else None
    results: list[EventResult | None] = [None] * len(events)
    with transaction.atomic():
        # Under the locks, every earlier metering of these accounts has committed its logs: the lookup of
        # the reference_ids cannot miss one that is being written.
        locked = lock_accounts(account_ids=[pk for pk in owners if pk is not None], now=now, known=known)
        logged: dict[tuple[int, str], CreditUsageLog] = {}
        if locked:
            for log in CreditUsageLog.objects.filter(
                account_id__in=json_values(locked),
                reference_id__in=json_values({event["reference_id"] for event in events}, text=True),
            ).order_by("-id"):
                logged[(log.account_id, log.reference_id)] = log  # the first log wins: ids descending
        first_in_batch: set[tuple[int, str]] = set()
        planned: list[int] = []
        debits: list[PlannedDebit] = []
        for index, event in enumerate(events):
            reference_id, owner = event["reference_id"], owners[index]
            if owner is None or owner not in locked:
                results[index] = EventResult(
                    index,
                    reference_id,
                    Status.REFUSED,
                    reason=Reason.UNKNOWN_ACCOUNT,
                    message=f"No active account {str(event.get('account', ''))!r}.",
                )
                continue
            earlier = logged.get((owner, reference_id))
            if earlier is not None:
                differing = _same_job(earlier, event)
                results[index] = (
                    EventResult(index, reference_id, Status.REPLAYED, owner, log=earlier)
                    if not differing
                    else _conflict(index, reference_id, owner, differing)
                )
                continue
            if (owner, reference_id) in first_in_batch:
                continue  # answered after the writes, as its first occurrence was
            first_in_batch.add((owner, reference_id))
            cost = prices.get(event["operation_type"])
            if cost is None:
                results[index] = EventResult(
                    index,
                    reference_id,
                    Status.REFUSED,
                    owner,
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
                    account_id=owner,
                )
            )
        caps = [cap for cap in caps_for(api_key=api_key, member=user, at=now) if cap.limit is not None]
        room = {cap: cap.limit - spent_on(cap) for cap in caps}  # type: ignore[operator]
        tightest = min(room, key=lambda cap: room[cap]) if room else None
        written = (
            debit_accounts(
                debits=debits,
                locked=locked,
                now=now,
                cap_room=room[tightest] if tightest else None,
                known=known,
            )
            if debits
            else []
        )
        accepted: list[tuple[int, WrittenDebit]] = []
        for index, debit in zip(planned, written, strict=True):
            if isinstance(debit, WrittenDebit):
                accepted.append((index, debit))
        logs = _write_logs(events=events, accepted=accepted, user=user, api_key=api_key, now=now)
        if logs:  # after the accounts' locks, as every deduction charges them; they fit: room was checked
            charge_caps(
                account_id=logs[0].account_id,
                api_key=api_key,
                member=user,
                credits=sum(log.credits_used for log in logs),
                at=now,
            )
    taken: dict[int, int] = {}  # per account, by the events answered so far, in order
    created = iter(logs)
    for index, debit, planned_debit in zip(planned, written, debits, strict=True):
        owner = planned_debit.account_id
        if debit == SHORT:
            assert owner is not None
            available = max(0, locked[owner].spendable - taken.get(owner, 0))
            results[index] = EventResult(
                index,
                events[index]["reference_id"],
                Status.REFUSED,
                owner,
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
                owner,
                reason=Reason.CAP,
                message=f"The {tightest.period_name} spending cap of {tightest.label} ({tightest.limit} "
                f"credits) leaves too little for this event's {planned_debit.amount} credits.",
            )
        else:
            new = next(created)
            taken[new.account_id] = taken.get(new.account_id, 0) + new.credits_used
            results[index] = EventResult(index, events[index]["reference_id"], Status.CREATED, owner, log=new)
    firsts: dict[tuple[int | None, str], int] = {}
    for index, event in enumerate(events):
        key = (owners[index], event["reference_id"])
        if results[index] is None:  # a reference_id repeated within the batch, in the same account
            results[index] = _repeat(index, event, events[firsts[key]], results[firsts[key]])
        else:
            firsts.setdefault(key, index)
    return [result for result in results if result is not None]


def _write_logs(
    *,
    events: list[dict[str, Any]],
    accepted: list[tuple[int, WrittenDebit]],
    user: "User | None",
    api_key: "ApiKey | None",
    now: datetime,
) -> list[NewUsage]:
    """The accepted events' usage logs and their operation rollups, in the batch's transaction."""
    if not accepted:
        return []
    rows = []
    for index, debit in accepted:
        event = events[index]
        rows.append(
            (
                debit,
                event["operation_type"],
                event.get("units", 1),
                event.get("cost_usd"),
                event.get("model", ""),
                event.get("tokens_input"),
                event.get("tokens_output"),
                event["reference_id"],
                event.get("metadata") or {},
            )
        )
    user_id = user.pk if user is not None else None
    api_key_id = api_key.pk if api_key is not None else None
    if connection.vendor == "postgresql":
        ids = _insert_logs_pg(rows, user_id=user_id, api_key_id=api_key_id, now=now)
    else:
        ids = _insert_logs_orm(rows, user_id=user_id, api_key_id=api_key_id, now=now)
    return [
        NewUsage(
            id=log_id,
            account_id=debit.account_id,
            transaction_id=debit.transaction_id,
            operation_type=operation_type,
            units=units,
            credits_used=debit.credits,
            cost_usd=cost_usd,
            model=model,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            reference_id=reference_id,
            metadata=metadata,
            credits_value=debit.value,
            created_at=now,
        )
        for log_id, (
            debit,
            operation_type,
            units,
            cost_usd,
            model,
            tokens_input,
            tokens_output,
            reference_id,
            metadata,
        ) in zip(ids, rows, strict=True)
    ]


def _rollup_totals(rows: list[tuple[Any, ...]]) -> list[tuple[int, str, int, int, Decimal]]:
    """Per (account, operation type), sorted: credits, count and provider cost of the accepted events."""
    totals: dict[tuple[int, str], list[Any]] = {}
    for debit, operation_type, _units, cost_usd, *_rest in rows:
        total = totals.setdefault((debit.account_id, operation_type), [0, 0, Decimal("0")])
        total[0] += debit.credits
        total[1] += 1
        total[2] += cost_usd or Decimal("0")
    return [(account_id, operation, *total) for (account_id, operation), total in sorted(totals.items())]


LOG_TABLE = CreditUsageLog._meta.db_table
ROLLUP_TABLE = DailyOperationRollup._meta.db_table
# The rows travel as JSON documents, one parameter each (see ledger.PG_DEBIT_MANY_SQL).
PG_LOGS_SQL = f"""
WITH logs AS (
    INSERT INTO {LOG_TABLE}
        (account_id, user_id, api_key_id, operation_type, units, credits_used, cost_usd, model, tokens_input,
         tokens_output, reference_id, metadata, transaction_id, credits_value, created_at)
    SELECT l.a, %(user)s, %(api_key)s, l.o, l.u, l.c, l.p, l.m, l.ti, l.tt, l.r, l.md, l.t, l.v, %(now)s
    FROM json_to_recordset(%(rows)s::json) AS l(a bigint, o text, u int, c int, p numeric, m text, ti int,
                                                 tt int, r text, md jsonb, t bigint, v numeric)
    RETURNING id, transaction_id
), rollup AS (
    INSERT INTO {ROLLUP_TABLE} AS r (account_id, date, operation_type, credits, count, cost_usd)
    SELECT t.a, %(day)s, t.o, t.c, t.n, t.p
    FROM json_to_recordset(%(rollups)s::json) AS t(a bigint, o text, c bigint, n bigint, p numeric)
    ON CONFLICT (account_id, date, operation_type) DO UPDATE
    SET credits = r.credits + excluded.credits, count = r.count + excluded.count,
        cost_usd = r.cost_usd + excluded.cost_usd
    RETURNING 1
)
SELECT id, transaction_id, (SELECT COUNT(*) FROM rollup) FROM logs
"""


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)  # JSON numbers would go through a float


def _insert_logs_pg(
    rows: list[tuple[Any, ...]], *, user_id: int | None, api_key_id: int | None, now: datetime
) -> list[int]:
    rollups = _rollup_totals(rows)
    params = {
        "user": user_id,
        "api_key": api_key_id,
        "now": now,
        "day": now.date(),
        "rows": json.dumps(
            [
                {
                    "a": debit.account_id,
                    "o": operation_type,
                    "u": units,
                    "c": debit.credits,
                    "p": _decimal(cost_usd),
                    "m": model,
                    "ti": tokens_input,
                    "tt": tokens_output,
                    "r": reference_id,
                    "md": metadata,
                    "t": debit.transaction_id,
                    "v": _decimal(debit.value),
                }
                for debit, operation_type, units, cost_usd, model, tokens_input, tokens_output, reference_id, metadata in rows
            ]
        ),
        "rollups": json.dumps(
            [
                {"a": account_id, "o": operation, "c": credits, "n": count, "p": _decimal(cost)}
                for account_id, operation, credits, count, cost in rollups
            ]
        ),
    }
    with connection.cursor() as cursor:
        cursor.execute(PG_LOGS_SQL, params)
        written = cursor.fetchall()
    if len(written) != len(rows) or int(written[0][2]) != len(rollups):
        raise RuntimeError(f"batch usage logs: wrote {len(written)} of {len(rows)}")  # rolls the batch back
    ids = {int(transaction_id): int(log_id) for log_id, transaction_id, _count in written}
    return [ids[row[0].transaction_id] for row in rows]


def _insert_logs_orm(
    rows: list[tuple[Any, ...]], *, user_id: int | None, api_key_id: int | None, now: datetime
) -> list[int]:
    logs = CreditUsageLog.objects.bulk_create(
        [
            CreditUsageLog(
                account_id=debit.account_id,
                user_id=user_id,
                api_key_id=api_key_id,
                operation_type=operation_type,
                units=units,
                credits_used=debit.credits,
                cost_usd=cost_usd,
                model=model,
                tokens_input=tokens_input,
                tokens_output=tokens_output,
                reference_id=reference_id,
                metadata=metadata,
                transaction_id=debit.transaction_id,
                credits_value=debit.value,
                created_at=now,
            )
            for debit, operation_type, units, cost_usd, model, tokens_input, tokens_output, reference_id, metadata in rows
        ]
    )
    for account_id, operation_type, credits, count, cost_usd in _rollup_totals(rows):
        bump_operation_rollup(
            account_id=account_id,
            at=now,
            operation_type=operation_type,
            credits=credits,
            cost_usd=cost_usd,
            count=count,
        )
    return [log.pk for log in logs]


def _conflict(index: int, reference_id: str, account_id: int | None, fields: list[str]) -> EventResult:
    return EventResult(
        index,
        reference_id,
        Status.REFUSED,
        account_id,
        reason=Reason.CONFLICT,
        message=f"Job {reference_id!r} was already metered with another {', '.join(fields)}.",
    )


def _repeat(
    index: int, event: dict[str, Any], first: dict[str, Any], answer: EventResult | None
) -> EventResult:
    """A later occurrence of a reference_id in the same account and batch: the first occurrence's answer,
    as a replay when it was written, or a conflict when the job's values differ."""
    reference_id = event["reference_id"]
    assert answer is not None  # the first occurrence is answered before its repeats
    differing = [field for field in JOB_FIELDS if _job(first)[field] != _job(event)[field]]
    if differing:
        return _conflict(index, reference_id, answer.account_id, differing)
    if answer.status in (Status.CREATED, Status.REPLAYED):
        return EventResult(index, reference_id, Status.REPLAYED, answer.account_id, log=answer.log)
    return EventResult(
        index, reference_id, answer.status, answer.account_id, reason=answer.reason, message=answer.message
    )

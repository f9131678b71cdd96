"""Metering on PostgreSQL in one statement: creditdesk_meter() (migrations 0014, 0016, 0017) reads the price
list, writes the balance, the ledger row, the grant draws, both rollups and the usage log. Sent in
autocommit it is its own transaction, so the account's row lock lasts one round trip and the commit instead
of seven round trips, and the request sends no other statement after authentication.

PostgreSQL only (SQLite has no such function). The function answers a status (migration 0017):
`charged` (the usage log is built here from its answer, with no read back), `replay` (the reference_id was
metered before: the caller replays it), `unpriced` (no active price: the caller answers 400) or `refused`
(the balance is short, a grant is due to expire, or the change would raise a balance alert or an auto
top-up: the caller then takes the plain path, which expires grants, answers 402 and records alert events
and top-up attempts in the same transaction as the change, so all of those stay the ledger service's).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

from creditdesk.billing.models import CreditTransaction, CreditUsageLog

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

METER_SQL = "SELECT * FROM creditdesk_meter(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"

CHARGED, REPLAY, UNPRICED, REFUSED = "charged", "replay", "unpriced", "refused"


@dataclass(frozen=True)
class MeterOutcome:
    status: str  # CHARGED, REPLAY, UNPRICED or REFUSED
    log: CreditUsageLog | None = None  # the usage log written, when CHARGED


def meter_in_one_statement(
    *,
    account: "Account",
    user: "User | None",
    api_key: "ApiKey | None",
    reference_id: str,
    wanted: dict[str, Any],
    at: datetime | None,
) -> MeterOutcome:
    """Charges the price list's credits for the job in `wanted` (operation_type, units, cost_usd, model,
    tokens_input, tokens_output, metadata) in one statement; `at` backdates. See the module's docstring."""
    user_id = user.pk if user is not None else None
    api_key_id = api_key.pk if api_key is not None else None
    operation_type, units = wanted["operation_type"], wanted["units"]
    with connection.cursor() as cursor:
        cursor.execute(
            METER_SQL,
            [
                account.pk,
                operation_type,
                units,
                at,
                user_id,
                api_key_id,
                wanted["cost_usd"],
                wanted["model"],
                wanted["tokens_input"],
                wanted["tokens_output"],
                reference_id,
                json.dumps(wanted["metadata"]),
            ],
        )
        row = cursor.fetchone()
    status, balance, seq, transaction_id, log_id, credits, value, now, description = row
    if status != CHARGED:
        return MeterOutcome(status)
    ledger_row = CreditTransaction(
        id=transaction_id,
        account_id=account.pk,
        transaction_type=CreditTransaction.Type.DEDUCTION,
        amount=-credits,
        balance_after=balance,
        seq=seq,
        description=description,
        metadata={"operation_type": operation_type, "units": units, "reference_id": reference_id},
        created_by_id=user_id,
        api_key_id=api_key_id,
        created_at=now,
    )
    ledger_row._state.adding = False
    log = CreditUsageLog(
        id=log_id,
        account_id=account.pk,
        user_id=user_id,
        api_key_id=api_key_id,
        credits_used=credits,
        reference_id=reference_id,
        transaction=ledger_row,
        credits_value=Decimal(value),
        created_at=now,
        **wanted,
    )
    log._state.adding = False
    account.credits = balance
    account.ledger_seq = seq
    return MeterOutcome(CHARGED, log)

"""Metering on PostgreSQL in one statement: creditdesk_meter() (migration 0014) writes the balance, the
ledger row, the grant draws, both rollups and the usage log. Sent in autocommit it is its own transaction,
so the account's row lock lasts one round trip and the commit instead of seven round trips.

PostgreSQL only (SQLite has no such function). None when the conditional UPDATE refused (the balance is
short, a grant is due to expire, or the change would raise a balance alert): the caller then takes the
plain path, which expires grants, answers 402 and records alert events in the same transaction as the
change, so all of those stay the ledger service's.
"""

import json
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection

from creditdesk.billing.models import CreditTransaction, CreditUsageLog

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import ApiKey

METER_SQL = (
    "SELECT * FROM creditdesk_meter(%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s)"
)


def meter_in_one_statement(
    *,
    account: "Account",
    user: "User | None",
    api_key: "ApiKey | None",
    credits: int,
    description: str,
    reference_id: str,
    wanted: dict[str, Any],
    at: datetime | None,
) -> CreditUsageLog | None:
    """The usage log written, or None (see the module's docstring). `wanted` holds the job's fields
    (operation_type, units, cost_usd, model, tokens_input, tokens_output, metadata); `at` backdates."""
    user_id = user.pk if user is not None else None
    api_key_id = api_key.pk if api_key is not None else None
    operation_type, units = wanted["operation_type"], wanted["units"]
    ledger_metadata = {"operation_type": operation_type, "units": units, "reference_id": reference_id}
    with connection.cursor() as cursor:
        cursor.execute(
            METER_SQL,
            [
                account.pk,
                credits,
                at,
                description[:255],
                json.dumps(ledger_metadata),
                user_id,
                operation_type,
                units,
                wanted["cost_usd"],
                wanted["model"],
                wanted["tokens_input"],
                wanted["tokens_output"],
                reference_id,
                json.dumps(wanted["metadata"]),
                api_key_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    balance, seq, transaction_id, log_id, value, now = row
    ledger_row = CreditTransaction(
        id=transaction_id,
        account_id=account.pk,
        transaction_type=CreditTransaction.Type.DEDUCTION,
        amount=-credits,
        balance_after=balance,
        seq=seq,
        description=description[:255],
        metadata=ledger_metadata,
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
    return log

"""Metering: other services of the platform spend an account's credits on operations."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from creditdesk.billing.models import CreditCost, CreditUsageLog
from creditdesk.billing.services.ledger import bump_operation_rollup, debit_credits
from creditdesk.core.errors import ValidationFailed


def price_of(*, operation_type: str, units: int) -> tuple[CreditCost, int]:
    cost = CreditCost.objects.filter(operation_type=operation_type, is_active=True).first()
    if cost is None:
        raise ValidationFailed.on_field(
            "operation_type", f"Unknown or inactive operation type: {operation_type!r}."
        )
    return cost, cost.credits_per_unit * units


def record_usage(
    *,
    account: Any,
    user: Any,
    operation_type: str,
    units: int = 1,
    cost_usd: Decimal | None = None,
    model: str = "",
    tokens_input: int | None = None,
    tokens_output: int | None = None,
    reference_id: str = "",
    metadata: dict | None = None,
    at: datetime | None = None,
) -> CreditUsageLog:
    """Deducts the price list's credits for the operation and logs it; InsufficientCredits leaves no trace."""
    cost, credits = price_of(operation_type=operation_type, units=units)
    with transaction.atomic():
        debit = debit_credits(
            account=account,
            amount=credits,
            description=f"{cost.display_name} ({units} × {cost.unit})",
            metadata={"operation_type": operation_type, "units": units, "reference_id": reference_id},
            created_by=user,
            at=at,
        )
        ledger_row = debit.transaction
        log = CreditUsageLog.objects.create(
            account_id=account.pk,
            user=user,
            operation_type=operation_type,
            units=units,
            credits_used=credits,
            cost_usd=cost_usd,
            model=model,
            tokens_input=tokens_input,
            tokens_output=tokens_output,
            reference_id=reference_id,
            metadata=metadata or {},
            transaction=ledger_row,
            credits_value=debit.value,
            created_at=ledger_row.created_at,
        )
        bump_operation_rollup(
            account_id=account.pk,
            at=ledger_row.created_at,
            operation_type=operation_type,
            credits=credits,
            cost_usd=cost_usd,
        )
    return log

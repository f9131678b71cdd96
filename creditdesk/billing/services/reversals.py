"""Reversal of metered usage: the credits go back to the grants they were drawn from.

Who may meter may reverse, within USAGE_REVERSAL_DAYS of the usage. A reversal is a `reversal` ledger
row whose negative draws return the credits, the last-drawn grant first (paid credits, which are drawn
last, come back first); what returns to a grant that has already expired leaves again at once through
an `expiration` row, and the answer says how much. The usage log's units_reversed / credits_reversed
grow under the account's lock and the log's row lock, and a CHECK keeps them within what was charged,
so no concurrency can return more than was charged.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from creditdesk.billing.models import CreditDraw, CreditGrant, CreditTransaction, CreditUsageLog
from creditdesk.billing.services.ledger import bump_operation_rollup, lock_account, return_credits
from creditdesk.core.errors import Conflict, NotFound, ValidationFailed

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User


class NotReversible(Conflict):
    """Past the reversal window, or nothing (or not that much) left to reverse."""


@dataclass(frozen=True)
class Reversal:
    usage_log: CreditUsageLog
    transaction: CreditTransaction  # the `reversal` ledger row
    units: int
    credits: int
    credits_expired: int  # returned to an expired grant, and so expired again at once
    reason: str


def _returnable(usage: CreditUsageLog) -> list[tuple[CreditGrant, int]]:
    """What each grant gave this usage and has not had back yet, last-drawn first."""
    drawn = {
        draw.grant_id: draw
        for draw in CreditDraw.objects.filter(transaction_id=usage.transaction_id).select_related("grant")
    }
    returned: dict[int, int] = {}
    earlier = CreditDraw.objects.filter(
        transaction__account_id=usage.account_id,
        transaction__reference__startswith=f"reversal:usage:{usage.pk}:",
    ).values_list("grant_id", "credits")
    for grant_id, credits in earlier:
        returned[grant_id] = returned.get(grant_id, 0) - credits
    order = sorted(drawn.values(), key=lambda d: d.pk, reverse=True)
    return [
        (d.grant, d.credits - returned.get(d.grant_id, 0))
        for d in order
        if d.credits > returned.get(d.grant_id, 0)
    ]


def reverse_usage(
    *,
    account: "Account",
    usage_id: int,
    user: "User | None",
    reason: str,
    units: int | None = None,
    now: datetime | None = None,
) -> Reversal:
    """Gives back the credits of `units` of the usage (all that is left when None). NotReversible (409)
    past USAGE_REVERSAL_DAYS or beyond what is left; NotFound for another account's usage."""
    if not (reason or "").strip():
        raise ValidationFailed.on_field("reason", "A reversal needs a reason.")
    now = now or timezone.now()
    with transaction.atomic():
        lock_account(account=account, now=now)
        usage = CreditUsageLog.objects.select_for_update().filter(account_id=account.pk, pk=usage_id).first()
        if usage is None:
            raise NotFound("No such usage.")
        if usage.created_at < now - timedelta(days=settings.USAGE_REVERSAL_DAYS):
            raise NotReversible(
                f"Usage older than {settings.USAGE_REVERSAL_DAYS} days cannot be reversed.",
                errors={"created_at": [f"More than {settings.USAGE_REVERSAL_DAYS} days ago."]},
            )
        credits_left = usage.credits_used - usage.credits_reversed
        units_left = usage.units - usage.units_reversed
        if units is None:
            units, credits = units_left, credits_left
        elif usage.units == 0:
            raise ValidationFailed.on_field("units", "This usage was charged in credits: reverse all of it.")
        elif units > units_left:
            raise NotReversible(
                f"Only {units_left} unit(s) of this usage are left to reverse.",
                errors={"units": [f"At most {units_left}."]},
            )
        else:
            credits = units * (usage.credits_used // usage.units)
        if credits <= 0:
            raise NotReversible("This usage has been reversed already.", errors={"id": ["Reversed already."]})
        take, to_grants = credits, []
        for grant, available in _returnable(usage):
            give = min(take, available)
            to_grants.append((grant, give))
            take -= give
            if take == 0:
                break
        if take:  # usage from before grants (migrated): its draws are unknown, so a never-expiring grant
            raise NotReversible(
                "This usage predates credit grants: its credits cannot be traced back to a grant.",
                errors={"id": ["Charged before grants existed."]},
            )
        sequence = CreditTransaction.objects.filter(
            account_id=account.pk, reference__startswith=f"reversal:usage:{usage.pk}:"
        ).count()
        returned = return_credits(
            account=account,
            to_grants=to_grants,
            description=f"Reversal of usage {usage.pk}: {reason.strip()}"[:255],
            reference=f"reversal:usage:{usage.pk}:{sequence + 1}",
            metadata={"usage_log_id": usage.pk, "units": units, "reason": reason.strip()[:500]},
            created_by=user,
            now=now,
        )
        updated = CreditUsageLog.objects.filter(
            pk=usage.pk, credits_reversed__lte=usage.credits_used - credits
        ).update(
            units_reversed=F("units_reversed") + units,
            credits_reversed=F("credits_reversed") + credits,
            credits_value=F("credits_value") - returned.value,
        )
        if updated != 1:  # unreachable under the row lock; the CHECK constraint is the last word
            raise NotReversible("This usage has been reversed already.", errors={"id": ["Reversed already."]})
        bump_operation_rollup(
            account_id=account.pk,
            at=returned.transaction.created_at,
            operation_type=usage.operation_type,
            credits=-credits,
            cost_usd=None,
            count=0,
        )
        usage.refresh_from_db()
    return Reversal(
        usage_log=usage,
        transaction=returned.transaction,
        units=units,
        credits=credits,
        credits_expired=returned.expired,
        reason=reason.strip(),
    )

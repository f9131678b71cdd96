"""Ledger v2 (issue 11): holds racing deductions, a hold settled many times at once, the expiry job run
twice at once, a reversal raced with its repeat, and verify_ledger catching a grant made to drift.

All in-process against the suite's PostgreSQL database, on real threads and connections (the services
are what the HTTP endpoints call; rows 1-3 and 13 cover the HTTP side)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent, expect_verify_ledger
from tests.reliability.core import Result, check
from tests.reliability.fixtures import credit_cost, make_tenant

OPERATION = "clustering"


def _closing(work: Any) -> Any:
    from django.db import connection

    def run(item: Any) -> Any:
        try:
            return work(item)
        except Exception as exc:  # the row counts outcomes, errors included
            return type(exc).__name__
        finally:
            connection.close()

    return run


def _grants_agree(result: Result, account_id: int) -> None:
    from creditdesk.accounts.models import Account
    from creditdesk.testing import assert_ledger_consistent

    try:
        assert_ledger_consistent(Account.objects.get(pk=account_id))
    except AssertionError as exc:
        result.fail(f"grants and ledger disagree: {exc}")


@check("12b", "holds racing deductions on one account (spendable never negative, nothing lost)")
def holds_race_deductions(context: Any) -> Result:
    from creditdesk.accounts.models import Account
    from creditdesk.billing.models import CreditHold
    from creditdesk.billing.services.holds import create_hold, settle_hold
    from creditdesk.billing.services.ledger import InsufficientCredits
    from creditdesk.billing.services.usage import record_usage

    requests_ = 400 if not context.sizes.bounded else 100
    cost = credit_cost(OPERATION)
    tenant = make_tenant(credits=requests_ * cost // 2, roles=("owner",))
    start = requests_ * cost // 2

    def work(index: int) -> tuple[str, int]:
        kind = index % 4
        if kind == 0:
            record_usage(account=tenant.account, user=None, operation_type=OPERATION)
            return "metered", cost
        hold = create_hold(account=tenant.account, user=None, operation_type=OPERATION, units=1).hold
        if kind == 1:
            settle_hold(account=tenant.account, hold_id=hold.pk, user=None, units=1)
            return "settled", cost
        if kind == 2:
            try:  # an overrun: the difference is charged when spendable, else 402 and the hold stays
                settle_hold(account=tenant.account, hold_id=hold.pk, user=None, units=2)
            except InsufficientCredits:
                return "held", cost
            return "settled", 2 * cost
        return "held", cost

    outcomes = harness.parallel(range(requests_), _closing(work), threads=16)
    result = Result(
        tried=f"{requests_} holds, settles and deductions at once on one account", count=requests_
    )
    spent = sum(o[1] for o in outcomes if isinstance(o, tuple) and o[0] in ("metered", "settled"))
    held = sum(o[1] for o in outcomes if isinstance(o, tuple) and o[0] == "held")
    errors = [o for o in outcomes if not isinstance(o, tuple) and o != "InsufficientCredits"]
    result.expect(not errors, f"unexpected errors: {sorted(set(map(str, errors)))[:5]}")
    account = Account.objects.get(pk=tenant.id)
    result.expect(
        account.credits == start - spent, f"credits {account.credits} != {start} - {spent} answered"
    )
    result.expect(account.held == held, f"held {account.held} != {held} in active holds answered")
    result.expect(account.credits - account.held >= 0, f"spendable {account.credits - account.held} < 0")
    active = sum(h.remaining for h in CreditHold.objects.filter(account_id=tenant.id, status="active"))
    result.expect(active == account.held, f"active holds reserve {active}, Account.held says {account.held}")
    result.expect("InsufficientCredits" in outcomes, "the balance never ran short: the race proved nothing")
    expect_consistent(result, audit(tenant.id))
    _grants_agree(result, tenant.id)
    return result


@check("12c", "one hold settled 20 times at once (charged once)")
def hold_settled_at_once(context: Any) -> Result:
    from creditdesk.billing.models import CreditTransaction
    from creditdesk.billing.services.holds import create_hold, settle_hold

    tenant = make_tenant(credits=1_000, roles=("owner",))
    hold = create_hold(account=tenant.account, user=None, operation_type=OPERATION, credits=100).hold
    outcomes = harness.parallel(
        range(20),
        _closing(
            lambda _i: settle_hold(account=tenant.account, hold_id=hold.pk, user=None, credits=60) and "ok"
        ),
        threads=20,
    )
    result = Result(tried="20 final settles of one hold at once", count=20)
    result.expect(outcomes.count("ok") == 1, f"{outcomes.count('ok')} settles succeeded, expected 1")
    result.expect(sorted(set(outcomes)) == ["HoldClosed", "ok"], f"answers {sorted(set(map(str, outcomes)))}")
    found = audit(tenant.id)
    result.expect(found.credits == 940, f"credits {found.credits}, expected 940 (charged once)")
    rows = CreditTransaction.objects.filter(account_id=tenant.id, transaction_type="deduction").count()
    result.expect(rows == 1, f"{rows} deduction rows, expected 1")
    expect_consistent(result, found)
    _grants_agree(result, tenant.id)
    return result


@check("12d", "the expiry job run twice at once (one expiration row per grant)")
def expiry_twice(context: Any) -> Result:
    from django.utils import timezone

    from creditdesk.billing.models import CreditTransaction
    from creditdesk.billing.services.grants import expire_credits
    from creditdesk.billing.services.ledger import grant_credits

    tenants = [make_tenant(credits=10, roles=("owner",)) for _ in range(5)]
    soon = timezone.now() + timedelta(seconds=1)
    for tenant in tenants:
        for n in range(3):
            grant_credits(account=tenant.account, amount=50 + n, description="expiring", expires_at=soon)
    later = soon + timedelta(seconds=5)
    harness.parallel(range(2), _closing(lambda _i: expire_credits(now=later)), threads=2)
    result = Result(tried="expire_credits twice at once over 5 accounts x 3 expiring grants", count=2)
    for tenant in tenants:
        rows = CreditTransaction.objects.filter(account_id=tenant.id, transaction_type="expiration").count()
        result.expect(rows == 3, f"account {tenant.id}: {rows} expiration rows, expected 3")
        found = audit(tenant.id)
        result.expect(found.credits == 10, f"account {tenant.id}: credits {found.credits}, expected 10")
        expect_consistent(result, found)
        _grants_agree(result, tenant.id)
    return result


@check("12e", "a reversal raced with its own repeat (credits returned once)")
def reversal_race(context: Any) -> Result:
    from creditdesk.billing.models import CreditTransaction
    from creditdesk.billing.services.reversals import reverse_usage
    from creditdesk.billing.services.usage import record_usage

    tenant = make_tenant(credits=1_000, roles=("owner",))
    usage = record_usage(account=tenant.account, user=None, operation_type=OPERATION, units=5)
    outcomes = harness.parallel(
        range(12),
        _closing(
            lambda _i: (
                reverse_usage(account=tenant.account, usage_id=usage.pk, user=None, reason="retry") and "ok"
            )
        ),
        threads=12,
    )
    result = Result(tried="one full reversal sent 12 times at once", count=12)
    result.expect(outcomes.count("ok") == 1, f"{outcomes.count('ok')} reversals succeeded, expected 1")
    result.expect(set(outcomes) <= {"ok", "NotReversible"}, f"answers {sorted(set(map(str, outcomes)))}")
    found = audit(tenant.id)
    result.expect(found.credits == 1_000, f"credits {found.credits}, expected 1000 (returned once)")
    rows = CreditTransaction.objects.filter(account_id=tenant.id, transaction_type="reversal").count()
    result.expect(rows == 1, f"{rows} reversal rows, expected 1")
    expect_consistent(result, found)
    _grants_agree(result, tenant.id)
    return result


@check("12f", "verify_ledger reports a grant made to drift by raw SQL (the check can fail)")
def grant_drift_is_caught(context: Any) -> Result:
    from django.db import connection

    from creditdesk.billing.models import CreditGrant
    from creditdesk.billing.services.usage import record_usage

    tenant = make_tenant(credits=500, roles=("owner",))
    record_usage(account=tenant.account, user=None, operation_type=OPERATION)
    result = Result(tried="a grant's remaining moved by 1 in raw SQL, then verify_ledger", count=1)
    expect_verify_ledger(result)
    grant = CreditGrant.objects.filter(account_id=tenant.id).first()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CreditGrant._meta.db_table} SET remaining = remaining - 1 WHERE id = %s", [grant.pk]
        )
    try:
        clean, output = harness.verify_ledger(harness.DB_MAIN)
        result.expect(not clean, "verify_ledger saw nothing wrong with a drifted grant")
        result.expect(
            str(grant.pk) in output, f"verify_ledger did not name grant {grant.pk}: {output[-300:]}"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {CreditGrant._meta.db_table} SET remaining = remaining + 1 WHERE id = %s", [grant.pk]
            )
    expect_verify_ledger(result)
    return result

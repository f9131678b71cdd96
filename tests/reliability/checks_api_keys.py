"""Row 22: a capped API key under parallel load over HTTP never spends past its cap (issue 12)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import requests

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent
from tests.reliability.core import Result, check
from tests.reliability.fixtures import credit_cost, make_tenant

USAGE = "/api/v1/billing/credits/usage/"
OPERATION = "clustering"


def spent_by_key(key_id: int) -> tuple[int, int]:
    """What the key's usage rows add up to, and how many there are (raw SQL, as an auditor reads it)."""
    with harness.sql(harness.DB_MAIN) as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(credits_used), 0), COUNT(*) FROM billing_creditusagelog WHERE api_key_id = %s",
            [key_id],
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@check("22", "deductions through one capped API key from many threads")
def capped_key_under_load(context: Any) -> Result:
    from creditdesk.tenancy.api_keys import create_account_key

    sizes = context.sizes
    url = context.main_server().url
    cost = credit_cost(OPERATION)
    requests_ = sizes.deductions
    # The cap covers a third of the requests (and not a whole number of them); the balance covers all.
    cap = cost * (requests_ // 3) + cost // 2
    allowed = cap // cost
    tenant = make_tenant(credits=cost * requests_ * 2, roles=("owner",))
    issued = create_account_key(
        account=tenant.account,
        actor=tenant.members["owner"],
        name="reliability capped worker",
        scopes=["usage:write"],
        daily_credit_cap=cap,
    )
    result = Result(
        tried=f"{requests_} deductions through one key capped at {cap} credits/day, "
        f"{sizes.deduction_threads} threads",
        count=requests_,
    )

    def deduct(_index: int) -> int:
        try:
            reply = harness.call("POST", url + USAGE, token=issued.secret, body={"operation_type": OPERATION})
        except requests.RequestException:
            return -1
        refused_for_cap = isinstance(reply.body, dict) and reply.body.get("code") == "spending_cap_exceeded"
        if reply.status == 402 and not refused_for_cap:
            return -402  # a 402 for another reason than the cap would hide an overspend
        return reply.status

    statuses: Counter[int] = Counter(
        harness.parallel(range(requests_), deduct, threads=sizes.deduction_threads)
    )
    ok, capped = statuses[201], statuses[402]
    result.expect(ok + capped == requests_, f"answers other than 201/402 (cap): {dict(statuses)}")
    result.expect(ok == allowed, f"{ok} successes, the cap allows exactly {allowed}")
    spent, rows = spent_by_key(issued.api_key.pk)
    result.expect(spent <= cap, f"the key spent {spent} credits, above its cap of {cap}")
    result.expect(rows == ok, f"{rows} usage rows name the key for {ok} answers 201")
    found = audit(tenant.id)
    result.expect(
        found.credits == cost * requests_ * 2 - ok * cost,
        f"balance {found.credits} does not match {ok} deductions of {cost}",
    )
    expect_consistent(result, found)
    result.tried += f": {ok} passed, {capped} refused at the cap, {spent}/{cap} credits spent"
    return result

"""Row 24: a platform key's batches spanning accounts, sent at once over HTTP in opposite account orders
(issue 15): no deadlock, no credit lost or charged twice, every ledger adds up."""

from __future__ import annotations

from collections import Counter
from typing import Any

import requests

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent, expect_verify_ledger
from tests.reliability.core import Result, check
from tests.reliability.fixtures import credit_cost, make_tenant, unique

BATCH = "/api/v1/billing/credits/usage/batch/"
OPERATION = "clustering"
ACCOUNTS = 6
PER_ACCOUNT = 10  # events per account in each batch
COVERED = 30  # events each account's balance covers


@check("24", "a platform key's batches spanning accounts, at once, in opposite account orders")
def overlapping_multi_account_batches(context: Any) -> Result:
    from creditdesk.tenancy.api_keys import create_platform_key

    url = context.main_server().url
    cost = credit_cost(OPERATION)
    batches = context.sizes.deduction_threads
    tenants = [make_tenant(credits=cost * COVERED, roles=("owner",)) for _ in range(ACCOUNTS)]
    secret = create_platform_key(name=unique("reliability platform "), scopes=["usage:write"]).secret
    run = unique("batch")
    result = Result(
        tried=f"{batches} batches of {ACCOUNTS * PER_ACCOUNT} events over the same {ACCOUNTS} accounts at "
        f"once, half in the reverse order; each balance covers {COVERED} events",
        count=batches * ACCOUNTS * PER_ACCOUNT,
    )

    def send(batch: int) -> Any:
        order = tenants[batch % ACCOUNTS :] + tenants[: batch % ACCOUNTS]  # each batch starts elsewhere
        if batch % 2:
            order.reverse()
        events = [
            {"operation_type": OPERATION, "reference_id": f"{run}-{batch}-{n}", "account": str(tenant.id)}
            for n in range(PER_ACCOUNT)
            for tenant in order
        ]
        try:
            return harness.call("POST", url + BATCH, token=secret, body={"events": events}, timeout=120)
        except requests.RequestException as exc:
            return type(exc).__name__

    replies = harness.parallel(range(batches), send, threads=batches)
    failed = [
        r if isinstance(r, str) else (r.status, str(r.body)[:200])
        for r in replies
        if isinstance(r, str) or r.status != 200
    ]
    result.expect(not failed, f"{len(failed)} batches not answered 200 (a deadlock is a 500): {failed[:3]}")
    answers = [
        event
        for r in replies
        if not isinstance(r, str) and r.status == 200
        for event in r.body["data"]["results"]
    ]
    created: Counter[int] = Counter(a["account"] for a in answers if a["status"] == "created")
    reasons = Counter(a["reason"] for a in answers if a["status"] == "refused")
    result.expect(
        set(reasons) <= {"insufficient_credits"}, f"refusals other than insufficient credits: {dict(reasons)}"
    )
    with harness.sql(harness.DB_MAIN) as conn:
        logs = dict(
            conn.execute(
                "SELECT account_id, COUNT(*) FROM billing_creditusagelog WHERE reference_id LIKE %s "
                "GROUP BY account_id",
                [f"{run}-%"],
            ).fetchall()
        )
    for tenant in tenants:
        found = audit(tenant.id)
        label = f"account {tenant.id}"
        result.expect(
            created[tenant.id] == COVERED, f"{label}: {created[tenant.id]} events created, {COVERED} fit"
        )
        result.expect(
            logs.get(tenant.id, 0) == created[tenant.id],
            f"{label}: {logs.get(tenant.id, 0)} usage logs for {created[tenant.id]} answers created",
        )
        result.expect(found.credits == 0, f"{label}: {found.credits} credits left, expected 0")
        expect_consistent(result, found, label=label)
    expect_verify_ledger(result)
    result.tried += f": {sum(created.values())} created, {sum(reasons.values())} refused"
    return result

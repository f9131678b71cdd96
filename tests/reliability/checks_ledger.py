"""Rows 1, 1b, 2, 3 and 16: the ledger under parallel load over HTTP."""

from __future__ import annotations

import json
import random
import subprocess
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent, expect_verify_ledger
from tests.reliability.core import Result, check
from tests.reliability.fixtures import credit_cost, make_tenant, unique

USAGE = "/api/v1/billing/credits/usage/"
OPERATION = "clustering"


def deduct(url: str, token: str, *, key: str | None = None, reference: str = "") -> int:
    headers = {"Idempotency-Key": key} if key else None
    body: dict[str, Any] = {"operation_type": OPERATION}
    if reference:
        body["reference_id"] = reference
    try:
        return harness.call("POST", url + USAGE, token=token, body=body, headers=headers).status
    except requests.RequestException:
        return -1


def deduction_burst(urls: list[str], token: str, *, requests_: int, threads: int) -> Counter[int]:
    return Counter(
        harness.parallel(range(requests_), lambda i: deduct(urls[i % len(urls)], token), threads=threads)
    )


def expect_conserved(
    result: Result,
    *,
    account_id: int,
    start: int,
    cost: int,
    statuses: Counter[int],
    requested: int,
    db: str = harness.DB_MAIN,
) -> None:
    """Every answer 201 or 402; successes exactly what the balance covered; the ledger adds up."""
    ok, short = statuses[201], statuses[402]
    result.expect(ok + short == requested, f"answers other than 201/402: {dict(statuses)}")
    covered = min(requested, start // cost)
    result.expect(ok == covered, f"{ok} successes but the balance covered {covered} (402s: {short})")
    found = audit(account_id, db)
    result.expect(
        found.credits == start - ok * cost,
        f"final balance {found.credits} != start {start} - {ok} x {cost} = {start - ok * cost}",
    )
    result.expect(found.deductions == ok, f"{found.deductions} deduction rows for {ok} answers 201")
    result.expect(found.usage_logs == ok, f"{found.usage_logs} usage logs for {ok} answers 201")
    expect_consistent(result, found)


def half_covered_start(requests_: int, cost: int) -> int:
    return cost * (requests_ // 2) + cost // 2


@check("1", "parallel deductions over HTTP, balance covers half")
def parallel_deductions(context: Any) -> Result:
    sizes = context.sizes
    url = context.main_server().url
    cost = credit_cost(OPERATION)
    result = Result(
        tried=f"{sizes.deductions} deductions x {sizes.repetitions} runs, {sizes.deduction_threads} threads",
        count=sizes.deductions * sizes.repetitions,
    )
    for run in range(sizes.repetitions):
        start = half_covered_start(sizes.deductions, cost)
        tenant = make_tenant(credits=start, roles=("owner", "member"))
        statuses = deduction_burst(
            [url], tenant.tokens["member"], requests_=sizes.deductions, threads=sizes.deduction_threads
        )
        before = result.lost
        expect_conserved(
            result,
            account_id=tenant.id,
            start=start,
            cost=cost,
            statuses=statuses,
            requested=sizes.deductions,
        )
        if result.lost > before:
            result.notes.append(f"run {run + 1}: {dict(statuses)}")
    expect_verify_ledger(result)
    return result


def seed_elsewhere(db: str, credits: int) -> dict[str, Any]:
    completed = subprocess.run(
        [str(harness.VENV_BIN / "python"), "-m", "tests.reliability.seed", db, str(credits)],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@check("1b", "row 1 can fail: a read-then-write ledger (no lock) is caught")
def broken_ledger_is_caught(context: Any) -> Result:
    sizes = context.sizes
    cost = credit_cost(OPERATION)
    server = harness.Server(
        db=harness.DB_BROKEN,
        workers=max(4, sizes.workers),  # enough parallel transactions for the race to show every time
        app="tests.reliability.broken_wsgi:application",
        extra_env={"RELIABILITY_BROKEN_LEDGER": "1"},
    )
    context.servers.append(server)
    server.start()
    result = Result(tried="row 1 against a server whose ledger reads then writes", count=0)
    caught = 0
    try:
        for _attempt in range(3):
            start = half_covered_start(sizes.deductions, cost)
            seeded = seed_elsewhere(harness.DB_BROKEN, start)
            statuses = deduction_burst(
                [server.url], seeded["token"], requests_=sizes.deductions, threads=sizes.deduction_threads
            )
            result.count += sizes.deductions
            probe = Result(tried="", count=0)
            expect_conserved(
                probe,
                account_id=seeded["account_id"],
                start=start,
                cost=cost,
                statuses=statuses,
                requested=sizes.deductions,
                db=harness.DB_BROKEN,
            )
            caught += probe.lost
            if caught:
                result.notes.append(f"caught: {probe.notes[0]}")
                break
    finally:
        server.stop()
    result.expect(caught > 0, "the broken ledger was NOT caught: row 1 cannot fail")
    result.tried += f" (violations found: {caught})"
    return result


# --- Row 2: mixed traffic -------------------------------------------------------------------------------------


class Tally:
    """The expected balance change, added up by every worker thread as its operations succeed."""

    def __init__(self) -> None:
        self.delta = 0
        self.kinds: Counter[str] = Counter()
        self.paid: list[int] = []  # purchases paid and not yet refunded
        self._lock = threading.Lock()

    def add(self, kind: str, delta: int) -> None:
        with self._lock:
            self.delta += delta
            self.kinds[kind] += 1

    def take_paid(self) -> int | None:
        with self._lock:
            return self.paid.pop() if self.paid else None


def refund_purchase(payment_id: int) -> int:
    """The real refund service on a paid purchase; returns the credits it took back."""
    from creditdesk.billing.models import CreditTransaction, Payment
    from creditdesk.billing.services.payments import refund_payment

    assert refund_payment(payment=Payment.objects.get(pk=payment_id), source="reliability")
    row = CreditTransaction.objects.filter(reference=f"refund:payment:{payment_id}").first()
    return 0 if row is None else -int(row.amount)


def in_process(work: Callable[[], int | None]) -> int | None:
    from django.db import connection

    try:
        return work()
    finally:
        connection.close()


def mixed_operation(kind: str, *, tenant: Any, url: str, tally: Tally, cost: int, package: Any) -> None:
    from creditdesk.billing.services import ledger

    account = tenant.account
    if kind == "deduct":
        if deduct(url, tenant.tokens["member"]) == 201:
            tally.add(kind, -cost)
    elif kind == "purchase":
        reply = purchase(url, tenant.owner_token, package["id"], "sandbox")
        if reply.status == 201:
            tally.add(kind, int(package["credits"]))
            tally.paid.append(int(reply.data["payment"]["id"]))
    elif kind == "grant":
        amount = random.randint(1, 50)
        in_process(lambda: ledger.grant_credits(account=account, amount=amount, description="mixed") and 0)
        tally.add(kind, amount)
    elif kind == "refund":
        payment_id = tally.take_paid()
        if payment_id is not None:
            tally.add("refund_payment", -int(in_process(lambda: refund_purchase(payment_id)) or 0))
        else:
            amount = random.randint(1, 60)
            clawback = in_process(
                lambda: (
                    ledger.claw_back_credits(account=account, amount=amount, description="mixed").recovered
                )
            )
            tally.add(kind, -int(clawback or 0))
    elif kind == "adjust":
        amount = random.choice([-40, -7, 9, 33])
        try:
            in_process(
                lambda: (
                    ledger.adjust_credits(account=account, amount=amount, reason="mixed", created_by=None)
                    and 0
                )
            )
            tally.add(kind, amount)
        except ledger.InsufficientCredits:
            tally.add("adjust_refused", 0)


def purchase(url: str, token: str, package_id: int, method: str, *, key: str | None = None) -> harness.Reply:
    headers = {"Idempotency-Key": key} if key else None
    path = f"{url}/api/v1/billing/credit-packages/{package_id}/purchase/"
    return harness.call("POST", path, token=token, body={"payment_method": method}, headers=headers)


def purchases_available(url: str, token: str) -> dict[str, Any] | None:
    """The cheapest package when the purchase endpoint exists on this server, else None."""
    schema = harness.call("GET", f"{url}/api/schema/?format=json").body
    paths = schema.get("paths", {}) if isinstance(schema, dict) else {}
    if not any(path.endswith("/purchase/") for path in paths):
        return None
    listing = harness.call("GET", f"{url}/api/v1/billing/credit-packages/", token=token).data
    packages = sorted(listing["results"], key=lambda p: int(p["credits"])) if listing else []
    return packages[0] if packages else None


@check("2", "mixed traffic in parallel: grants, purchases, deductions, refunds")
def mixed_traffic(context: Any) -> Result:
    sizes = context.sizes
    url = context.main_server().url
    cost = credit_cost(OPERATION)
    start = 500
    tenant = make_tenant(credits=start, roles=("owner", "member"))
    package = purchases_available(url, tenant.owner_token)
    kinds = ["deduct", "deduct", "deduct", "grant", "refund", "adjust"] + (["purchase"] if package else [])
    plan = [random.choice(kinds) for _ in range(sizes.mixed_ops)]
    tally = Tally()
    harness.parallel(
        plan,
        lambda kind: mixed_operation(kind, tenant=tenant, url=url, tally=tally, cost=cost, package=package),
        threads=min(24, sizes.deduction_threads),
    )
    result = Result(tried=f"mixed operations ({', '.join(sorted(tally.kinds))})", count=len(plan))
    found = audit(tenant.id)
    result.expect(
        found.credits == start + tally.delta,
        f"balance {found.credits} != start {start} + observed effects {tally.delta} ({dict(tally.kinds)})",
    )
    expect_consistent(result, found)
    expect_verify_ledger(result)
    if not package:
        result.tried += " [purchases not landed: left out]"
    return result


# --- Row 3: idempotency ---------------------------------------------------------------------------------------


@check("3", "one Idempotency-Key sent N times at once; same key, other body")
def idempotency_key(context: Any) -> Result:
    sizes = context.sizes
    url = context.main_server().url
    tenant = make_tenant(credits=10_000, roles=("owner", "member"))
    token = tenant.tokens["member"]
    key, reference = unique("idem-"), unique("ref-")
    replies = harness.parallel(
        range(sizes.idempotent_repeats),
        lambda _i: harness.call(
            "POST",
            url + USAGE,
            token=token,
            body={"operation_type": OPERATION, "reference_id": reference},
            headers={"Idempotency-Key": key},
        ),
        threads=sizes.idempotent_repeats,
    )
    result = Result(
        tried=f"usage POST with one key x{sizes.idempotent_repeats}, then another body", count=len(replies)
    )
    statuses = Counter(r.status for r in replies)
    result.expect(set(statuses) == {201}, f"answers {dict(statuses)}, expected only 201 (the replay)")
    bodies = {harness.dump(r.body) for r in replies}
    result.expect(len(bodies) == 1, f"{len(bodies)} different response bodies for one key")
    found = audit(tenant.id)
    result.expect(found.usage_logs == 1 and found.deductions == 1, f"{found.usage_logs} effects, expected 1")
    other = harness.call(
        "POST", url + USAGE, token=token, body={"operation_type": "linking"}, headers={"Idempotency-Key": key}
    )
    result.count += 1
    result.expect(other.status == 422, f"same key, other body answered {other.status}, expected 422")
    result.expect(audit(tenant.id).usage_logs == 1, "the other body had an effect")
    expect_consistent(result, audit(tenant.id))
    key_is_per_account(result, url, key, reference)
    idempotent_purchases(result, url, tenant, sizes.idempotent_repeats)
    return result


def key_is_per_account(result: Result, url: str, key: str, reference: str) -> None:
    """Another tenant sending the same key and body gets its own effect, never the first tenant's reply."""
    other = make_tenant(credits=1_000, roles=("owner", "member"))
    body = {"operation_type": OPERATION, "reference_id": reference}
    reply = harness.call(
        "POST", url + USAGE, token=other.tokens["member"], body=body, headers={"Idempotency-Key": key}
    )
    result.count += 1
    result.expect(reply.status == 201, f"the same key in another account answered {reply.status}")
    result.expect(
        "Idempotent-Replayed" not in reply.headers, "another account's request replayed the first reply"
    )
    result.expect(audit(other.id).usage_logs == 1, "the same key in another account had no effect of its own")


def idempotent_purchases(result: Result, url: str, tenant: Any, repeats: int) -> None:
    package = purchases_available(url, tenant.owner_token)
    if package is None:
        result.tried += " [purchases not landed]"
        return
    from creditdesk.billing.models import Invoice

    key = unique("idem-purchase-")
    invoices_before = Invoice.objects.filter(account_id=tenant.id).count()
    replies = harness.parallel(
        range(repeats),
        lambda _i: purchase(url, tenant.owner_token, package["id"], "sandbox", key=key),
        threads=repeats,
    )
    result.count += len(replies)
    result.tried += f", purchase x{repeats}"
    statuses = Counter(r.status for r in replies)
    result.expect(set(statuses) == {201}, f"purchase answers {dict(statuses)}, expected only 201")
    result.expect(len({harness.dump(r.body) for r in replies}) == 1, "purchase replays differ")
    created = Invoice.objects.filter(account_id=tenant.id).count() - invoices_before
    result.expect(created == 1, f"{created} invoices for one purchase key")
    expect_consistent(result, audit(tenant.id))


# --- Row 16: two servers ----------------------------------------------------------------------------------------


@check("16", "two gunicorn instances on one database share the deductions")
def two_servers(context: Any) -> Result:
    sizes = context.sizes
    first = context.main_server()
    second = context.start(harness.DB_MAIN)
    cost = credit_cost(OPERATION)
    requested = sizes.two_server_deductions
    result = Result(
        tried=f"{requested} deductions split over 2 servers ({sizes.workers} workers each)", count=requested
    )
    try:
        start = half_covered_start(requested, cost)
        tenant = make_tenant(credits=start, roles=("owner", "member"))
        statuses = deduction_burst(
            [first.url, second.url],
            tenant.tokens["member"],
            requests_=requested,
            threads=sizes.deduction_threads,
        )
        expect_conserved(
            result, account_id=tenant.id, start=start, cost=cost, statuses=statuses, requested=requested
        )
    finally:
        second.stop()
    expect_verify_ledger(result)
    return result

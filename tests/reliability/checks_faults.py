"""Row 15: faults mid-load. PostgreSQL connections killed under the server; the server restarted under load.

Clients behave as a careful client does: each logical operation carries its own Idempotency-Key and is
retried with the same key until it gets a definite answer. Then every key answered 201 must have exactly
one effect, no key may have two, and no half-written rows may exist.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent, expect_verify_ledger
from tests.reliability.core import Result, check
from tests.reliability.fixtures import Tenant, make_tenant, unique

DEFINITE = {200, 201, 400, 402, 403, 404, 422}
USAGE = "/api/v1/billing/credits/usage/"


@dataclass
class Load:
    """What the clients saw."""

    final: dict[str, int] = field(default_factory=dict)  # key -> final status
    kinds: dict[str, str] = field(default_factory=dict)  # key -> "deduct" | "purchase"
    retried: int = 0  # attempts that met a fault (5xx, 409, connection error) and were retried
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, key: str, kind: str, status: int, retries: int) -> None:
        with self.lock:
            self.final[key] = status
            self.kinds[key] = kind
            self.retried += retries
            self.done += 1

    def ok(self, kind: str) -> set[str]:
        return {k for k, status in self.final.items() if status == 201 and self.kinds[k] == kind}


def keyed_call(url: str, token: str, body: dict[str, Any], key: str, deadline: float) -> tuple[int, int]:
    """Retries with the same key until a definite answer; returns (status, faults met)."""
    faults = 0
    while True:
        try:
            reply = harness.call(
                "POST", url, token=token, body=body, headers={"Idempotency-Key": key}, timeout=30
            )
            if reply.status in DEFINITE:
                return reply.status, faults
        except requests.RequestException:
            pass
        faults += 1
        if time.monotonic() > deadline:
            return -1, faults
        time.sleep(0.1)


def one_operation(
    i: int, *, base: str, tenant: Tenant, package_id: int | None, load: Load, deadline: float
) -> None:
    key = unique(f"fault-{i}-")
    if package_id is not None and i % 5 == 0:
        url = f"{base}/api/v1/billing/credit-packages/{package_id}/purchase/"
        status, faults = keyed_call(url, tenant.owner_token, {"payment_method": "sandbox"}, key, deadline)
        load.record(key, "purchase", status, faults)
    else:
        body = {"operation_type": "clustering", "reference_id": key}
        status, faults = keyed_call(base + USAGE, tenant.tokens["member"], body, key, deadline)
        load.record(key, "deduct", status, faults)


def run_load(server: harness.Server, tenant: Tenant, requests_: int, threads: int, disturb: Any) -> Load:
    from tests.reliability.checks_payments import billing_landed, cheapest_package

    package_id = cheapest_package().pk if billing_landed() else None
    load = Load()
    deadline = time.monotonic() + 240
    stop = threading.Event()
    disturber = threading.Thread(target=disturb, args=(load, stop), daemon=True)
    disturber.start()
    try:
        harness.parallel(
            range(requests_),
            lambda i: one_operation(
                i, base=server.url, tenant=tenant, package_id=package_id, load=load, deadline=deadline
            ),
            threads=threads,
        )
    finally:
        stop.set()
        disturber.join(60)
    return load


def expect_exactly_once(result: Result, tenant: Tenant, load: Load) -> None:
    from creditdesk.billing.models import CreditTransaction, CreditUsageLog, Invoice, Payment

    unanswered = [k for k, status in load.final.items() if status not in DEFINITE]
    result.expect(not unanswered, f"{len(unanswered)} operations never got a definite answer")
    deducted = Counter(
        CreditUsageLog.objects.filter(account_id=tenant.id).values_list("reference_id", flat=True)
    )
    doubled = [ref for ref, n in deducted.items() if n > 1]
    result.expect(not doubled, f"{len(doubled)} keys deducted twice")
    ok = load.ok("deduct")
    result.expect(set(deducted) == ok, f"{len(ok)} deductions answered 201, {len(deducted)} in the ledger")
    # A purchase killed between its draft and the provider's answer leaves a draft that nobody was sent to
    # pay; the periodic sweep gives it up. Run it as if its timeout had passed: then every draft's payment
    # has failed, and every invoice that is not a draft has its number.
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.payments import abandon_unstarted_purchases

    abandon_unstarted_purchases(now=timezone.now() + timedelta(days=1))
    invoices = Invoice.objects.filter(account_id=tenant.id)
    unnumbered = invoices.exclude(status="draft").exclude(invoice_number__startswith="INV-")
    result.expect(not unnumbered.exists(), "an issued invoice was left without a number")
    open_drafts = Payment.objects.filter(account_id=tenant.id, invoice__status="draft").exclude(
        status="failed"
    )
    result.expect(not open_drafts.exists(), "a draft's payment was left open after the sweep")
    paid = Payment.objects.filter(account_id=tenant.id, status="succeeded").count()
    grants = CreditTransaction.objects.filter(account_id=tenant.id, transaction_type="purchase").count()
    bought = len(load.ok("purchase"))
    result.expect(paid == grants == bought, f"purchases: {bought} answered 201, {paid} paid, {grants} grants")
    expect_consistent(result, audit(tenant.id))


def next_request_succeeds(result: Result, base: str, tenant: Tenant) -> None:
    body = {"operation_type": "clustering"}
    reply = harness.call("POST", base + USAGE, token=tenant.tokens["member"], body=body)
    result.expect(reply.status == 201, f"the first request after the faults answered {reply.status}")


def runner_backend_pid() -> int:
    from django.db import connection

    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def killed_connections(result: Result, context: Any) -> str:
    sizes = context.sizes
    server = context.main_server()
    tenant = make_tenant(credits=10**7, roles=("owner", "member"))
    mine = runner_backend_pid()
    kills: list[int] = []

    def kill(load: Load, stop: threading.Event) -> None:
        interval = 0.4 if sizes.bounded else 0.8
        while not stop.wait(interval) and len(kills) < sizes.fault_kills:
            kills.append(harness.terminate_connections(harness.DB_MAIN, exclude_pid=mine))

    try:
        load = run_load(server, tenant, sizes.fault_requests, 16, kill)
        result.count += sizes.fault_requests
        expect_exactly_once(result, tenant, load)
    finally:
        harness.terminate_connections(harness.DB_MAIN, exclude_pid=mine)
    next_request_succeeds(result, server.url, tenant)
    result.expect(sum(kills) > 0, "no connection was killed: the fault never happened")
    return f"{len(kills)} kills ({sum(kills)} conns, {load.retried} retried)"


def restarted_server(result: Result, context: Any) -> str:
    sizes = context.sizes
    server = context.main_server()
    tenant = make_tenant(credits=10**7, roles=("owner", "member"))
    restarts: list[float] = []

    def restart(load: Load, stop: threading.Event) -> None:
        while not stop.wait(0.1):
            if load.done >= sizes.fault_requests // 3 and not restarts:
                started = time.monotonic()
                server.restart()
                restarts.append(time.monotonic() - started)
                return

    load = run_load(server, tenant, sizes.fault_requests, 16, restart)
    result.count += sizes.fault_requests
    expect_exactly_once(result, tenant, load)
    next_request_succeeds(result, server.url, tenant)
    result.expect(bool(restarts), "the server was never restarted")
    return f"gunicorn restarted ({restarts[0] if restarts else 0:.1f}s down, {load.retried} retried)"


def killed_mid_purchase(result: Result, context: Any) -> str:
    """Every purchase's worker is SIGKILLed after its draft committed and the provider answered, before the
    answer (and the key's response) was stored. The client retries with the same key: it must get that
    purchase (201, one payment per key, paid once), never a key stuck in progress (409 until the deadline)."""
    from creditdesk.billing.models import CreditTransaction, Payment
    from creditdesk.core.models import IdempotencyKey
    from tests.reliability.checks_payments import billing_landed, cheapest_package

    if not billing_landed():
        return "no purchases"
    markers = harness.LOG_DIR / "die-mid-purchase"
    markers.mkdir(parents=True, exist_ok=True)
    for marker in markers.iterdir():
        marker.unlink()
    server = context.start(
        harness.DB_MAIN,
        app="tests.reliability.dying_wsgi:application",
        extra_env={"RELIABILITY_DIE_MID_PURCHASE": str(markers)},
    )
    tenant = make_tenant(credits=0, roles=("owner",))
    package = cheapest_package()
    count = 4 if context.sizes.bounded else 12
    url = f"{server.url}/api/v1/billing/credit-packages/{package.pk}/purchase/"
    deadline = time.monotonic() + 180
    answers: dict[str, tuple[int, int]] = {}

    def buy(i: int) -> None:
        key = unique(f"die-{i}-")
        answers[key] = keyed_call(url, tenant.owner_token, {"payment_method": "sandbox"}, key, deadline)

    try:
        harness.parallel(range(count), buy, threads=2)
    finally:
        server.stop()
    result.count += count
    statuses = Counter(status for status, _ in answers.values())
    result.expect(
        statuses == {201: count}, f"purchases killed mid-way then retried answered {dict(statuses)}"
    )
    died = sum(1 for _, faults in answers.values() if faults)
    result.expect(died == count, f"only {died} of {count} purchases met the kill: the fault never happened")
    payments = Payment.objects.filter(account_id=tenant.id)
    result.expect(
        payments.count() == payments.filter(status="succeeded").count() == count,
        f"{count} keys, {payments.count()} payments, {payments.filter(status='succeeded').count()} paid",
    )
    grants = CreditTransaction.objects.filter(account_id=tenant.id, transaction_type="purchase").count()
    result.expect(grants == count, f"{count} purchases, {grants} purchase grants")
    stuck = IdempotencyKey.objects.filter(account_id=tenant.id, response_status=None).count()
    result.expect(stuck == 0, f"{stuck} keys left in progress")
    expect_consistent(result, audit(tenant.id))
    return f"{count} purchases killed after the provider answered, each retried to its 201"


@check("15", "faults: connections killed and the server restarted mid-load")
def faults(context: Any) -> Result:
    harness.close_django_connections()
    result = Result(tried="", count=0)
    killed = killed_connections(result, context)
    harness.close_django_connections()
    restarted = restarted_server(result, context)
    harness.close_django_connections()
    mid_purchase = killed_mid_purchase(result, context)
    harness.close_django_connections()
    expect_verify_ledger(result)
    result.tried = f"deduct+buy under load: {killed}; {restarted}; {mid_purchase}"
    return result

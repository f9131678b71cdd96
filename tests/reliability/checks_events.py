"""Rows 17-19: outbound events. A receiver on the loopback interface, real workers (`run_worker`, the
database task backend) beside a production server, and the events' causes checked in the database."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.reliability import harness
from tests.reliability.checks_ledger import OPERATION, USAGE, deduct, purchase, purchases_available
from tests.reliability.core import Result, check
from tests.reliability.fixtures import balance, credit_cost, make_tenant

EVENTS_ENV = {
    "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    # The receiver listens on 127.0.0.1: allowed only because this is a test.
    "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
    "WEBHOOK_TIMEOUT_SECONDS": "1",
    "WEBHOOK_FIRST_RETRY_SECONDS": "0.5",
    "WEBHOOK_RETRY_SWEEP_SECONDS": "1",
}


@dataclass
class Workers:
    db: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int = 1) -> None:
        harness.LOG_DIR.mkdir(parents=True, exist_ok=True)
        for _ in range(count):
            log = open(harness.LOG_DIR / "worker.log", "ab")  # noqa: SIM115 (the child owns it)
            self.processes.append(
                subprocess.Popen(
                    [
                        str(harness.VENV_BIN / "python"),
                        "manage.py",
                        "run_worker",
                        "--interval",
                        "0.2",
                        "--tick",
                        "0.5",
                    ],
                    cwd=harness.ROOT,
                    env=harness.server_env(self.db, **EVENTS_ENV),
                    stdout=log,
                    stderr=log,
                )
            )

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, as when a machine dies."""
        for process in self.processes:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self.processes.clear()

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.processes.clear()


@contextmanager
def events_setup(context: Any, *, workers: int = 1) -> Iterator[tuple[str, Workers]]:
    server = context.start(harness.DB_MAIN, extra_env=EVENTS_ENV)
    pool = Workers(db=harness.DB_MAIN)
    pool.start(workers)
    try:
        yield server.url, pool
    finally:
        pool.stop()
        server.stop()


@contextmanager
def receiving(policy: Callable[[int], int | float] | None = None) -> Iterator[Any]:
    from creditdesk.events.tests.receiver import start_receiver

    state, server = start_receiver(port=next(harness.PORTS))
    state.policy = policy
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def subscribe(account: Any, url: str, event_types: list[str] | None = None) -> Any:
    from creditdesk.events.services import create_endpoint

    return create_endpoint(account=account, url=url, event_types=event_types or [])


def wait_until(condition: Callable[[], bool], *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


def pending_deliveries(account_id: int) -> int:
    return int(
        harness.scalar(
            harness.DB_MAIN,
            "SELECT COUNT(*) FROM events_delivery d JOIN events_event e ON e.id = d.event_id "
            "WHERE e.account_id = %s AND d.status = 'pending'",
            [account_id],
        )
    )


def stored_events(account_id: int, since: Any = None) -> dict[str, tuple[str, dict]]:
    """webhook-id -> (type, data) of the account's events (those after `since`: the endpoint's creation)."""
    with harness.sql() as conn:
        rows = conn.execute(
            "SELECT id, type, data FROM events_event WHERE account_id = %s AND created_at >= %s",
            [account_id, since or "-infinity"],
        ).fetchall()
    return {
        f"msg_{row[0].hex}": (row[1], row[2] if isinstance(row[2], dict) else json.loads(row[2]))
        for row in rows
    }


def expect_delivered_and_verified(result: Result, *, receiver: Any, endpoint: Any) -> Counter[str]:
    """Every event since the endpoint's creation arrived at least once, signed; nothing arrived that is
    not a recorded event."""
    from standardwebhooks import Webhook, WebhookVerificationError

    secret = endpoint.secret
    stored = {
        message: event
        for message, event in stored_events(endpoint.account_id, endpoint.created_at).items()
        if endpoint.wants(event[0])
    }
    arrivals: Counter[str] = Counter()
    for message in list(receiver.received):
        message_id = message.headers.get("webhook-id", "")
        arrivals[message_id] += 1
        try:
            payload = Webhook(secret).verify(message.body, message.headers)
        except WebhookVerificationError as exc:
            result.fail(f"{message_id}: signature does not verify ({exc})")
            continue
        if message_id not in stored:
            result.fail(f"{message_id} ({payload.get('type')}) arrived but no such event was recorded")
        elif payload["type"] != stored[message_id][0]:
            result.fail(f"{message_id}: arrived as {payload['type']}, recorded as {stored[message_id][0]}")
    missing = sorted(set(stored) - set(arrivals))
    if missing:
        result.fail(f"{len(missing)} of {len(stored)} events never arrived, e.g. {missing[:3]}", len(missing))
    return arrivals


def balance_low_crossings(account_id: int, threshold: int) -> int:
    """Ledger rows that took the balance from above the threshold to at or below it."""
    return int(
        harness.scalar(
            harness.DB_MAIN,
            "SELECT COUNT(*) FROM billing_credittransaction WHERE account_id = %s "
            "AND balance_after <= %s AND balance_after - amount > %s",
            [account_id, threshold, threshold],
        )
    )


def set_threshold(account: Any, threshold: int) -> None:
    from creditdesk.billing.services.alerts import update_notification_settings

    update_notification_settings(account=account, low_balance_threshold=threshold)


@check(
    "17", "webhooks: a receiver that fails, times out, then recovers gets every event, each with its cause"
)
def flaky_receiver_gets_everything(context: Any) -> Result:
    from django.db import transaction

    from creditdesk.events.services import emit

    sizes = context.sizes
    purchases = 10 if sizes.bounded else 30
    cost = credit_cost(OPERATION)

    def flaky(number: int) -> int | float:
        if number < 15:
            return 500 if number % 2 else 503
        if number < 25:
            return 2.0 if number % 3 else 429  # stalls past WEBHOOK_TIMEOUT_SECONDS=1
        return 200

    result = Result(
        tried=f"{purchases} purchases + crossings; receiver fails 15, stalls or 429s 10, recovers", count=0
    )
    with receiving(flaky) as receiver, events_setup(context, workers=2) as (url, _workers):
        tenant = make_tenant(credits=10 * cost, roles=("owner", "member"))
        endpoint = subscribe(tenant.account, receiver.url)
        threshold = 5 * cost
        set_threshold(tenant.account, threshold)
        package = purchases_available(url, tenant.owner_token)
        if package is None:
            result.skipped = "no purchase endpoint"
            return result
        statuses: Counter[int] = Counter()
        for index in range(purchases):
            # One deduction to just below the threshold (a crossing: balance.low), then a purchase back
            # above it (payment.succeeded, invoice.paid, credits.granted).
            units = (balance(tenant.id) - threshold) // cost + 1
            reply = harness.call(
                "POST",
                url + USAGE,
                token=tenant.tokens["member"],
                body={"operation_type": OPERATION, "units": units},
            )
            statuses[reply.status] += 1
            statuses[
                purchase(url, tenant.owner_token, package["id"], "sandbox", key=f"ev17-{index}").status
            ] += 1
        # A change that rolls back must send nothing.
        try:
            with transaction.atomic():
                emit(account=tenant.account, type="invoice.paid", data={"rolled_back": True})
                raise RuntimeError("roll back")
        except RuntimeError:
            pass

        delivered = wait_until(lambda: pending_deliveries(tenant.id) == 0, seconds=90)
        result.expect(delivered, f"{pending_deliveries(tenant.id)} deliveries still pending after 90 s")
        stored = stored_events(tenant.id, endpoint.created_at)
        result.count = len(stored)
        arrivals = expect_delivered_and_verified(result, receiver=receiver, endpoint=endpoint)
        kinds = Counter(kind for kind, _ in stored.values())
        succeeded = int(
            harness.scalar(
                harness.DB_MAIN,
                "SELECT COUNT(*) FROM billing_payment WHERE account_id = %s AND status = 'succeeded'",
                [tenant.id],
            )
        )
        for kind in ("payment.succeeded", "invoice.paid", "credits.granted"):
            result.expect(
                kinds[kind] == succeeded, f"{kinds[kind]} {kind} for {succeeded} succeeded payments"
            )
        crossings = balance_low_crossings(tenant.id, threshold)
        result.expect(
            kinds["balance.low"] == crossings, f"{kinds['balance.low']} balance.low for {crossings} crossings"
        )
        result.expect(
            not any(data.get("rolled_back") for _, data in stored.values()),
            "the rolled-back event was recorded",
        )
        failed = int(
            harness.scalar(
                harness.DB_MAIN,
                "SELECT COUNT(*) FROM events_deliveryattempt a JOIN events_delivery d ON d.id = a.delivery_id "
                "WHERE d.endpoint_id = %s AND (a.status_code IS NULL OR a.status_code >= 300)",
                [endpoint.pk],
            )
        )
        result.expect(failed > 0, "the receiver never failed: the row proved nothing about retries")
        result.notes.append(
            f"{len(stored)} events ({dict(kinds)}), {sum(arrivals.values())} arrivals, {failed} failed attempts "
            f"retried, {sum(n - 1 for n in arrivals.values())} duplicates; answers {dict(statuses)}"
        )
    return result


def auto_top_ups(account_id: int) -> Counter[str]:
    with harness.sql(harness.DB_MAIN) as conn:
        rows = conn.execute(
            "SELECT status, COUNT(*) FROM billing_autotopupattempt WHERE account_id = %s GROUP BY status",
            [account_id],
        ).fetchall()
    return Counter({str(status): int(count) for status, count in rows})


def enable_sandbox_auto_top_up(url: str, token: str, *, below: int) -> str:
    """Saves the sandbox card and arms the rule through the API, as an owner would; "" or why not."""
    base = f"{url}/api/v1/billing/auto-top-up/"
    card = harness.call("POST", base + "card/", token=token, body={"payment_method": "sandbox"})
    if card.status != 200:
        return f"saving the sandbox card answered {card.status}"
    package = purchases_available(url, token)
    if package is None:
        return "no credit package"
    rule = harness.call(
        "PUT",
        base,
        token=token,
        body={"is_enabled": True, "threshold": below, "package_id": package["id"]},
    )
    return "" if rule.status == 200 else f"enabling the rule answered {rule.status}"


@check("18", "parallel deductions across a threshold: one balance.low, delivered once, one top-up")
def one_alert_per_crossing(context: Any) -> Result:
    sizes = context.sizes
    cost = credit_cost(OPERATION)
    requests_ = sizes.two_server_deductions
    result = Result(
        tried=f"{requests_} deductions from {sizes.deduction_threads} threads across a threshold",
        count=requests_,
    )
    with receiving() as receiver, events_setup(context) as (url, _workers):
        start = cost * requests_  # covers every request: the balance passes the threshold once
        tenant = make_tenant(credits=start, roles=("owner", "member"))
        threshold = start // 2
        set_threshold(tenant.account, threshold)
        endpoint = subscribe(tenant.account, receiver.url, ["balance.low", "balance.depleted"])
        # Auto top-up below one operation's cost: only the deduction that empties the account crosses it,
        # so the top-up's credits land after the run and the alert expectations below still hold.
        refused = enable_sandbox_auto_top_up(url, tenant.owner_token, below=cost)
        result.expect(not refused, f"auto top-up could not be enabled: {refused}")
        statuses = Counter(
            harness.parallel(
                range(requests_),
                lambda _i: deduct(url, tenant.tokens["member"]),
                threads=sizes.deduction_threads,
            )
        )
        result.expect(statuses[201] == requests_, f"answers {dict(statuses)}")
        stored = stored_events(tenant.id, endpoint.created_at)
        kinds = Counter(kind for kind, _ in stored.values())
        result.expect(kinds["balance.low"] == 1, f"{kinds['balance.low']} balance.low events (one crossing)")
        result.expect(kinds["balance.depleted"] == 1, f"{kinds['balance.depleted']} balance.depleted at zero")
        result.expect(
            balance_low_crossings(tenant.id, threshold) == 1, "the ledger shows other than one crossing"
        )
        # The top-up's own events (payment, invoice, credits) follow the alerts: wait for it, then for every
        # delivery, so that each recorded event is checked against what arrived.
        wait_until(lambda: auto_top_ups(tenant.id)["succeeded"] >= 1, seconds=30)
        wait_until(lambda: pending_deliveries(tenant.id) == 0, seconds=30)
        arrivals = expect_delivered_and_verified(result, receiver=receiver, endpoint=endpoint)
        twice = sorted(message for message, count in arrivals.items() if count != 1)
        result.expect(not twice, f"{len(twice)} events delivered more than once in a clean run: {twice[:3]}")
        top_ups = auto_top_ups(tenant.id)
        result.expect(sum(top_ups.values()) <= 1, f"{dict(top_ups)} top-up attempts for one crossing")
        result.expect(
            top_ups["succeeded"] == 1, f"the crossing's sandbox top-up did not succeed: {dict(top_ups)}"
        )
        sandbox_payments = int(
            harness.scalar(
                harness.DB_MAIN,
                "SELECT COUNT(*) FROM billing_payment WHERE account_id = %s AND status = 'succeeded'",
                [tenant.id],
            )
        )
        result.expect(sandbox_payments == 1, f"{sandbox_payments} payments succeeded for one top-up")
        result.notes.append(f"auto top-up attempts: {dict(top_ups)}")
    return result


@check("19", "webhooks: workers killed mid-delivery lose nothing")
def killed_worker_loses_nothing(context: Any) -> Result:
    sizes = context.sizes
    purchases = 6 if sizes.bounded else 20
    result = Result(
        tried=f"{purchases} purchases (3 events each); the worker SIGKILLed mid-delivery, twice", count=0
    )

    def slow(_number: int) -> float:
        return 0.6  # answers 200, slowly: a kill lands inside a delivery

    with receiving(slow) as receiver, events_setup(context, workers=1) as (url, workers):
        tenant = make_tenant(credits=0)
        endpoint = subscribe(tenant.account, receiver.url)
        package = purchases_available(url, tenant.owner_token)
        if package is None:
            result.skipped = "no purchase endpoint"
            return result
        for index in range(purchases):
            reply = purchase(url, tenant.owner_token, package["id"], "sandbox", key=f"ev19-{index}")
            result.expect(reply.status == 201, f"purchase {index}: {reply.status}")
        kills = 0
        for _ in range(2):
            seen = len(receiver.received)
            if wait_until(lambda seen=seen: len(receiver.received) > seen, seconds=20):
                time.sleep(0.3)  # inside the receiver's 0.6 s answer
                workers.kill()
                kills += 1
                workers.start(1)
        delivered = wait_until(lambda: pending_deliveries(tenant.id) == 0, seconds=90)
        result.expect(delivered, f"{pending_deliveries(tenant.id)} deliveries still pending after the kills")
        result.expect(kills == 2, f"only {kills} kills landed")
        stored = stored_events(tenant.id, endpoint.created_at)
        result.count = len(stored)
        result.expect(len(stored) == 3 * purchases, f"{len(stored)} events for {purchases} purchases")
        arrivals = expect_delivered_and_verified(result, receiver=receiver, endpoint=endpoint)
        result.notes.append(
            f"{kills} kills, {sum(arrivals.values())} arrivals for {len(stored)} events "
            f"({sum(n - 1 for n in arrivals.values())} duplicates, allowed: at least once)"
        )
    return result

"""Rows 20 and 21 (issue 10): webhook events that do not match their payment, and bad input over HTTP.

Both run against the production server (gunicorn, DEBUG=0, PostgreSQL), where the NUL-byte 500 was seen.
"""

from __future__ import annotations

import json
from typing import Any

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent
from tests.reliability.checks_payments import (
    billing_landed,
    deliver,
    event,
    payment_state,
    sign,
    start_purchase,
)
from tests.reliability.core import Result, check
from tests.reliability.fixtures import make_tenant

USAGE = "/api/v1/billing/credits/usage/"

# --- Row 20: webhook matching ------------------------------------------------------------------------------


def flagged(payment: Any) -> tuple[bool, int]:
    from creditdesk.billing.models import Invoice
    from creditdesk.tenancy.models import AuditLog

    needs_review = Invoice.objects.values_list("needs_review", flat=True).get(pk=payment.invoice_id)
    rows = AuditLog.objects.filter(action="payment.webhook_mismatch", changes__payment_id=payment.pk).count()
    return bool(needs_review), rows


def send(result: Result, url: str, body: dict[str, Any]) -> harness.Reply:
    payload = json.dumps(body).encode()
    result.count += 1
    return deliver(url, payload, sign(payload))


def expect_flagged_and_untouched(
    result: Result,
    name: str,
    reply: harness.Reply,
    payment: Any,
    before: tuple,
    credits_before: int,
    tenant_id: int,
) -> None:
    outcome = reply.data.get("outcome") if isinstance(reply.data, dict) else None
    result.expect(reply.status == 200 and outcome == "flagged", f"{name}: answered {reply.status} {outcome}")
    after = payment_state(payment)[:3]
    result.expect(after == before, f"{name}: payment changed {before} -> {after}")
    credits = audit(tenant_id).credits
    result.expect(credits == credits_before, f"{name}: balance {credits_before} -> {credits}")
    needs_review, rows = flagged(payment)
    result.expect(needs_review and rows >= 1, f"{name}: not flagged for staff ({needs_review}, {rows} rows)")


def refund_mismatches(result: Result, url: str) -> None:
    victim, other = make_tenant(credits=100), make_tenant(credits=100)
    payment = start_purchase(victim, "stripe")
    send(result, url, event("checkout.session.completed", payment))
    foreign = start_purchase(other, "stripe")
    send(result, url, event("checkout.session.completed", foreign))
    base = event("charge.refunded", payment)["data"]["object"]
    cases = {
        "another payment intent, a real payment's metadata": {
            "payment_intent": "pi_attacker",
            "currency": "eur",
            "amount": 1,
        },
        "our intent, another currency": {"currency": "jpy"},
        "our intent, another amount": {"amount": base["amount"] + 1},
        "our intent, another account's metadata": {
            "metadata": {**base["metadata"], "account_id": str(other.id)}
        },
        "another tenant's intent, this payment's metadata": {
            "payment_intent": event("charge.refunded", foreign)["data"]["object"]["payment_intent"]
        },
    }
    for name, change in cases.items():
        before, credits_before = payment_state(payment)[:3], audit(victim.id).credits
        foreign_before = payment_state(foreign)[:3]
        forged = event("charge.refunded", payment)
        forged["data"]["object"].update(change)
        reply = send(result, url, forged)
        target = foreign if name.startswith("another tenant") else payment
        target_tenant = other if target is foreign else victim
        if target is foreign:
            before, credits_before = foreign_before, audit(other.id).credits
        expect_flagged_and_untouched(result, name, reply, target, before, credits_before, target_tenant.id)
        result.expect(payment_state(payment)[0] == "succeeded", f"{name}: the victim's payment moved")
    # The control: the real refund still works, so the checks refuse mismatches, not refunds.
    reply = send(result, url, event("charge.refunded", payment))
    status = payment_state(payment)[0]
    result.expect(
        reply.status == 200 and status == "refunded", f"the matching refund left the payment {status}"
    )
    expect_consistent(result, audit(victim.id))
    expect_consistent(result, audit(other.id))


def checkout_mismatches(result: Result, url: str) -> None:
    tenant = make_tenant(credits=100)
    cases = {
        "1 JPY paid for the invoice": lambda paid: {"amount_total": 1, "currency": "jpy"},
        "one minor unit short": lambda paid: {"amount_total": paid["amount_total"] - 1},
        "no currency": lambda paid: {"currency": None},
    }
    for name, change in cases.items():
        payment = start_purchase(tenant, "stripe")
        before, credits_before = payment_state(payment)[:3], audit(tenant.id).credits
        body = event("checkout.session.completed", payment)
        body["data"]["object"].update(change(body["data"]["object"]))
        reply = send(result, url, body)
        expect_flagged_and_untouched(result, name, reply, payment, before, credits_before, tenant.id)
        result.expect(before[1] == "pending", f"{name}: the invoice was {before[1]} before")
    expect_consistent(result, audit(tenant.id))


@check("20", "webhook matching: mismatched refunds and checkouts are flagged, never acted on")
def webhook_matching(context: Any) -> Result:
    result = Result(tried="signed refunds/checkouts that do not match their payment, + controls", count=0)
    if not billing_landed():
        result.skipped = "purchases not landed"
        return result
    url = context.main_server().url
    refund_mismatches(result, url)
    checkout_mismatches(result, url)
    return result


# --- Row 21: input bounds ----------------------------------------------------------------------------------


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def usage_body(metadata_json: str) -> bytes:
    return ('{"operation_type": "clustering", "metadata": ' + metadata_json + "}").encode()


def usage_rows(account_id: int) -> int:
    from creditdesk.billing.models import CreditUsageLog

    return CreditUsageLog.objects.filter(account_id=account_id).count()


def expect_envelope(result: Result, name: str, reply: harness.Reply, status: int, field: str | None) -> None:
    body = reply.body if isinstance(reply.body, dict) else {}
    result.expect(reply.status == status, f"{name}: answered {reply.status}, expected {status}")
    result.expect(body.get("success") is False and bool(body.get("request_id")), f"{name}: not the envelope")
    if field is not None:
        errors = body.get("errors") or {}
        result.expect(list(errors) == [field], f"{name}: errors name {list(errors)}, not [{field!r}]")


@check("21", "input bounds: bad metadata, huge or deep bodies, bad Host: 400/413 in the envelope")
def input_bounds(context: Any) -> Result:
    result = Result(tried="", count=0)
    url = context.main_server().url
    tenant = make_tenant(credits=1000)
    cases: dict[str, tuple[bytes, int, str | None]] = {
        "NUL in a metadata value": (usage_body('{"note": "a\\u0000b"}'), 400, "metadata"),
        "NUL in a metadata key": (usage_body('{"a\\u0000": 1}'), 400, "metadata"),
        "lone surrogate in metadata": (usage_body('{"note": "\\ud800"}'), 400, "metadata"),
        "metadata 5,000 deep": (usage_body(nested(5000)), 400, "metadata"),
        "metadata 11 deep": (usage_body(nested(11)), 400, "metadata"),
        "metadata of 2 MB": (usage_body(json.dumps({"blob": "x" * (2 * 1024 * 1024)})), 400, "metadata"),
        "a body nested 5,000 deep": (nested(5000).encode(), 400, None),
        "a body of 3 MB": (usage_body(json.dumps({"blob": "x" * (3 * 1024 * 1024)})), 413, None),
        "NUL in reference_id": (
            b'{"operation_type": "clustering", "reference_id": "a\\u0000"}',
            400,
            "reference_id",
        ),
    }
    before_rows, before_credits = usage_rows(tenant.id), audit(tenant.id).credits
    for name, (body, status, field) in cases.items():
        result.count += 1
        reply = harness.call("POST", url + USAGE, token=tenant.owner_token, raw=body)
        expect_envelope(result, name, reply, status, field)
    result.expect(usage_rows(tenant.id) == before_rows, "a refused request wrote a usage log")
    result.expect(audit(tenant.id).credits == before_credits, "a refused request moved the balance")
    for path in ("/api/v1/health/", USAGE, "/api/nowhere/"):
        result.count += 1
        reply = harness.call("GET", url + path, token=tenant.owner_token, headers={"Host": "evil.example"})
        expect_envelope(result, f"bad Host on {path}", reply, 400, None)
    # The control: metadata at the bounds is stored.
    result.count += 1
    reply = harness.call("POST", url + USAGE, token=tenant.owner_token, raw=usage_body(nested(10)))
    result.expect(reply.status == 201, f"metadata 10 deep answered {reply.status}")
    expect_consistent(result, audit(tenant.id))
    result.tried = f"{len(cases)} bad bodies, 3 bad Hosts, 1 control over HTTP"
    return result

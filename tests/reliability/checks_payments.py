"""Rows 4, 5 and 6: Stripe webhooks, bank-transfer approvals and invoice numbering under concurrency."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from tests.reliability import harness
from tests.reliability.audit import audit, expect_consistent, expect_verify_ledger
from tests.reliability.core import Result, check
from tests.reliability.fixtures import Tenant, make_tenant

WEBHOOK = "/api/v1/billing/webhooks/stripe/"


def billing_landed() -> bool:
    try:
        from creditdesk.billing.services import payments, purchases
    except ImportError:
        return False
    return hasattr(payments, "approve_bank_transfer") and hasattr(purchases, "purchase_package")


def cheapest_package() -> Any:
    from creditdesk.billing.models import CreditPackage

    return CreditPackage.objects.filter(is_active=True).order_by("credits").first()


@contextmanager
def fake_checkout() -> Iterator[None]:
    """Stripe's Checkout Session create, answered locally: no check touches Stripe's network."""

    def create(**params: Any) -> dict[str, str]:
        session_id = f"cs_test_{uuid.uuid4().hex}"
        return {"id": session_id, "url": f"https://checkout.stripe.test/{session_id}"}

    with mock.patch("stripe.checkout.Session.create", side_effect=create):
        yield


def start_purchase(tenant: Tenant, method: str) -> Any:
    """A purchase started in-process through the real service; returns its payment."""
    from creditdesk.billing.services.purchases import purchase_package

    with fake_checkout():
        started = purchase_package(
            account=tenant.account,
            package_id=cheapest_package().pk,
            payment_method=method,
            actor=tenant.members["owner"],
        )
    return started.payment


# --- Row 4: Stripe webhooks ----------------------------------------------------------------------------------


def sign(payload: bytes, *, secret: str = harness.WEBHOOK_SECRET, at: int | None = None) -> str:
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event(kind: str, payment: Any) -> dict[str, Any]:
    from creditdesk.core.money import minor_units

    intent = f"pi_{payment.pk}_reliability"
    amount, currency = minor_units(payment.amount, payment.currency), payment.currency.lower()
    metadata = {"payment_id": str(payment.pk), "account_id": str(payment.account_id)}
    objects = {
        "checkout.session.completed": {
            "object": "checkout.session",
            "id": payment.provider_reference,
            "payment_status": "paid",
            "payment_intent": intent,
            "amount_total": amount,
            "currency": currency,
            "metadata": metadata,
        },
        "checkout.session.expired": {
            "object": "checkout.session",
            "id": payment.provider_reference,
            "payment_status": "unpaid",
            "metadata": metadata,
        },
        "charge.refunded": {
            "object": "charge",
            "id": f"ch_{payment.pk}",
            "payment_intent": intent,
            "refunded": True,
            "amount": amount,
            "amount_refunded": amount,
            "currency": currency,
            "metadata": metadata,
        },
    }
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": objects[kind]},
    }


def deliver(url: str, payload: bytes, signature: str | None) -> harness.Reply:
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return harness.call("POST", url + WEBHOOK, raw=payload, headers=headers)


def payment_state(payment: Any) -> tuple[str, str, int, int]:
    from creditdesk.billing.models import CreditTransaction, Payment, StripeEvent

    payment = Payment.objects.select_related("invoice").get(pk=payment.pk)
    grants = CreditTransaction.objects.filter(
        account_id=payment.account_id, reference=f"payment:{payment.pk}"
    ).count()
    return payment.status, payment.invoice.status, grants, StripeEvent.objects.count()


def webhook_repeats(result: Result, url: str, tenant: Tenant, repeats: int) -> None:
    payment = start_purchase(tenant, "stripe")
    before = audit(tenant.id).credits
    payload = json.dumps(event("checkout.session.completed", payment)).encode()
    replies = harness.parallel(
        range(repeats), lambda _i: deliver(url, payload, sign(payload)), threads=repeats
    )
    result.count += repeats
    statuses = Counter(r.status for r in replies)
    result.expect(set(statuses) == {200}, f"repeated deliveries answered {dict(statuses)}")
    status, invoice_status, grants, _events = payment_state(payment)
    result.expect(grants == 1, f"{grants} grants for one event delivered {repeats} times")
    result.expect(
        (status, invoice_status) == ("succeeded", "paid"), f"payment {status}, invoice {invoice_status}"
    )
    gained = audit(tenant.id).credits - before
    result.expect(
        gained == payment.invoice.credits, f"balance grew by {gained}, not {payment.invoice.credits}"
    )


def forgeries(result: Result, url: str, tenant: Tenant) -> None:
    payment = start_purchase(tenant, "stripe")
    payload = json.dumps(event("checkout.session.completed", payment)).encode()
    tampered = payload.replace(b'"paid"', b'"paid" ')
    cases = {
        "no signature header": (payload, None),
        "wrong secret": (payload, sign(payload, secret="whsec_not_ours")),
        "tampered body": (tampered, sign(payload)),
        "stale timestamp": (payload, sign(payload, at=int(time.time()) - 3600)),
        "garbage signature": (payload, "t=1,v1=00"),
        "signature of another body": (payload, sign(b"{}")),
    }
    before = payment_state(payment), audit(tenant.id).credits
    for name, (body, signature) in cases.items():
        result.count += 1
        reply = deliver(url, body, signature)
        result.expect(reply.status == 400, f"forgery '{name}' answered {reply.status}, expected 400")
        after = payment_state(payment), audit(tenant.id).credits
        result.expect(after == before, f"forgery '{name}' changed state: {before} -> {after}")


ORDERS: list[tuple[str, ...]] = [
    *itertools.permutations(("checkout.session.completed", "checkout.session.expired", "charge.refunded")),
    ("checkout.session.completed", "charge.refunded"),
    ("charge.refunded", "checkout.session.completed"),
    ("checkout.session.completed", "checkout.session.expired"),
    ("checkout.session.expired",),
    ("checkout.session.completed",),
]


def expected_final(order: tuple[str, ...], credits: int) -> tuple[str, str, int]:
    """Payment status, invoice status and credits kept, for events delivered in this order."""
    if "charge.refunded" in order:
        return "refunded", "refunded", 0
    if order[0] == "checkout.session.completed":
        return "succeeded", "paid", credits
    return "failed", "void", 0


def event_orders(result: Result, url: str, tenant: Tenant) -> None:
    for order in ORDERS:
        payment = start_purchase(tenant, "stripe")
        before = audit(tenant.id).credits
        for kind in order:
            payload = json.dumps(event(kind, payment)).encode()
            reply = deliver(url, payload, sign(payload))
            result.count += 1
            result.expect(reply.status == 200, f"{order}: {kind} answered {reply.status}")
        status, invoice_status, _grants, _events = payment_state(payment)
        kept = audit(tenant.id).credits - before
        want = expected_final(order, payment.invoice.credits)
        got = (status, invoice_status, kept)
        result.expect(got == want, f"order {' > '.join(order)}: got {got}, expected {want}")


@check("4", "Stripe webhook: repeats, forgeries, every order of events")
def stripe_webhooks(context: Any) -> Result:
    result = Result(tried="one event delivered at once, forgeries, event orders", count=0)
    if not billing_landed():
        result.skipped = "purchases not landed"
        return result
    url = context.main_server().url
    tenant = make_tenant(credits=100, roles=("owner",))
    webhook_repeats(result, url, tenant, context.sizes.webhook_repeats)
    result.tried = (
        f"1 event x{context.sizes.webhook_repeats} at once, 6 forgeries, {len(ORDERS)} event orders"
    )
    forgeries(result, url, tenant)
    event_orders(result, url, tenant)
    expect_consistent(result, audit(tenant.id))
    return result


# --- Row 5: bank transfer approvals ----------------------------------------------------------------------------


def make_staff(count: int) -> list[Any]:
    from creditdesk.accounts.models import User

    return [
        User.objects.create_user(f"staff-{uuid.uuid4().hex[:10]}@reliability.test", "x", is_staff=True)
        for _ in range(count)
    ]


def approve_at_once(payment_id: int, staff: list[Any]) -> list[bool]:
    from django.db import connection

    from creditdesk.billing.services.payments import approve_bank_transfer

    def approve(actor: Any) -> bool:
        try:
            return bool(approve_bank_transfer(payment_id=payment_id, actor=actor))
        finally:
            connection.close()

    return harness.parallel(staff, approve, threads=len(staff))


@check("5", "staff approving the same bank transfer at once")
def bank_transfer_approvals(context: Any) -> Result:
    transfers = 20 if not context.sizes.bounded else 5
    result = Result(
        tried=f"{transfers} bank transfers, each approved by 2 staff at once", count=transfers * 2
    )
    if not billing_landed():
        result.skipped = "purchases not landed"
        return result
    tenant = make_tenant(credits=0, roles=("owner",))
    staff = make_staff(2)
    expected = 0
    for _ in range(transfers):
        payment = start_purchase(tenant, "bank_transfer")
        result.expect(payment.status == "pending_approval", f"bank transfer started as {payment.status}")
        approvals = approve_at_once(payment.pk, staff)
        result.expect(approvals.count(True) == 1, f"payment {payment.pk}: approvals returned {approvals}")
        _status, invoice_status, grants, _events = payment_state(payment)
        result.expect(grants == 1, f"payment {payment.pk}: {grants} grants")
        result.expect(invoice_status == "paid", f"payment {payment.pk}: invoice {invoice_status}")
        expected += payment.invoice.credits
    found = audit(tenant.id)
    result.expect(found.credits == expected, f"balance {found.credits}, expected {expected}")
    expect_consistent(result, found)
    return result


# --- Row 6: invoice numbers --------------------------------------------------------------------------------------

NUMBER = re.compile(r"^INV-(\d{4})-(\d+)$")


def invoice_numbers() -> tuple[list[str], list[str]]:
    from creditdesk.billing.models import Invoice

    numbers = list(Invoice.objects.values_list("invoice_number", flat=True))
    return [n for n in numbers if NUMBER.match(n)], [n for n in numbers if not NUMBER.match(n)]


def expect_gap_free(result: Result, numbers: list[str]) -> None:
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        match = NUMBER.match(number)
        assert match is not None
        by_year.setdefault(match.group(1), []).append(int(match.group(2)))
    for year, sequence in by_year.items():
        duplicates = len(sequence) - len(set(sequence))
        result.expect(duplicates == 0, f"{year}: {duplicates} duplicate invoice numbers")
        missing = sorted(set(range(1, max(sequence) + 1)) - set(sequence))
        result.expect(not missing, f"{year}: gaps in invoice numbers: {missing[:10]}")


@contextmanager
def provider_down() -> Iterator[None]:
    """Stripe unreachable, in this process only (the servers never talk to Stripe)."""
    import stripe

    error = stripe.APIConnectionError("reliability: Stripe is down")
    with mock.patch("stripe.checkout.Session.create", side_effect=error):
        yield


def failed_purchase(tenant: Tenant) -> int:
    """A card purchase whose provider call fails: its payment fails and its invoice is never numbered."""
    from django.db import connection

    from creditdesk.billing.providers.base import PaymentProviderError
    from creditdesk.billing.services.purchases import purchase_package

    try:
        purchase_package(
            account=tenant.account, package_id=cheapest_package().pk, payment_method="stripe", actor=None
        )
    except PaymentProviderError:
        return 502
    finally:
        connection.close()
    return 201


@check("6", "parallel purchases over HTTP: invoice numbers unique and gap-free")
def invoice_numbering(context: Any) -> Result:
    sizes = context.sizes
    result = Result(
        tried=f"{sizes.purchases} purchases at once (sandbox + bank transfer)", count=sizes.purchases
    )
    if not billing_landed():
        result.skipped = "purchases not landed"
        return result
    url = context.main_server().url
    tenants = [make_tenant(credits=0, roles=("owner",)) for _ in range(5)]
    package = cheapest_package()
    before, drafts_before = invoice_numbers()
    lock = threading.Lock()
    seen: list[str] = []

    def buy(i: int) -> int:
        tenant = tenants[i % len(tenants)]
        method = "sandbox" if i % 3 else "bank_transfer"
        path = f"{url}/api/v1/billing/credit-packages/{package.pk}/purchase/"
        reply = harness.call("POST", path, token=tenant.owner_token, body={"payment_method": method})
        if reply.status == 201:
            with lock:
                seen.append(reply.data["invoice"]["invoice_number"])
        return reply.status

    failing = max(2, sizes.purchases // 5)
    with provider_down():
        statuses = Counter(
            harness.parallel(
                range(sizes.purchases + failing),
                lambda i: buy(i) if i < sizes.purchases else failed_purchase(tenants[i % len(tenants)]),
                threads=sizes.purchases + failing,
            )
        )
    want = Counter({201: sizes.purchases, 502: failing})
    result.expect(statuses == want, f"purchases answered {dict(statuses)}, expected {dict(want)}")
    result.count += failing
    result.tried += f", {failing} failing at the provider"
    after, drafts = invoice_numbers()
    drafts = sorted(set(drafts) - set(drafts_before))
    result.expect(
        len(after) - len(before) == sizes.purchases, f"{len(after) - len(before)} new numbered invoices"
    )
    # A purchase refused by its provider keeps its draft (unnumbered, never shown to the customer) with a
    # failed payment; any other draft would be an invoice that lost its number.
    from creditdesk.billing.models import Invoice

    lost = Invoice.objects.filter(invoice_number__in=drafts).exclude(
        status="draft", payments__status="failed"
    )
    result.expect(not lost.exists(), f"{lost.count()} invoices left without a number")
    result.expect(
        len(drafts) == failing, f"{len(drafts)} drafts for {failing} purchases refused by the provider"
    )
    result.expect(len(set(seen)) == len(seen), "two purchases were answered with the same invoice number")
    expect_gap_free(result, after)
    for tenant in tenants:
        expect_consistent(result, audit(tenant.id))
    expect_verify_ledger(result)
    return result

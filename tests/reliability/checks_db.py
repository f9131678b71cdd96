"""Rows 11, 12 and 14: database constraints alone, a state machine over the ledger, deploy checks."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

from tests.reliability import harness
from tests.reliability.core import Result, check
from tests.reliability.fixtures import make_tenant

# --- Row 11: constraints hold by themselves -----------------------------------------------------------------


class Accepted(Exception):
    """The database took a write it should have refused."""


def copy_row(table: str, source_id: int, overrides: dict[str, Any], *, key: str = "id") -> None:
    """INSERT a copy of one row with some columns replaced: raw SQL, no model or service in the way."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = [name for (name,) in cursor.fetchall() if name != key or key in overrides]
        select = ", ".join("%s" if c in overrides else f'"{c}"' for c in columns)
        params = [overrides[c] for c in columns if c in overrides] + [source_id]
        names = ", ".join(f'"{c}"' for c in columns)
        cursor.execute(
            f'INSERT INTO "{table}" ({names}) SELECT {select} FROM "{table}" WHERE "{key}" = %s', params
        )
        if cursor.rowcount != 1:
            raise RuntimeError(f"no source row {source_id} in {table}")


def run_sql(statement: str, params: list[Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if cursor.rowcount == 0:
            raise RuntimeError(f"statement touched no row: {statement}")


def violations(tenant: Any) -> dict[str, Any]:
    """Each raw write that would break an invariant; each must fail with an IntegrityError."""
    from creditdesk.billing.models import CreditTransaction, CreditUsageLog, Invoice, StripeEvent
    from creditdesk.core.models import IdempotencyKey

    account = tenant.id
    ledger = CreditTransaction.objects.filter(account_id=account).order_by("id").first()
    referenced = CreditTransaction.objects.filter(account_id=account).exclude(reference="").first()
    if referenced is None:
        from creditdesk.accounts.models import Account
        from creditdesk.billing.services.ledger import grant_credits

        referenced = grant_credits(
            account=Account.objects.get(pk=account),
            amount=1,
            description="reliability: a referenced row",
            reference=f"reliability:{uuid.uuid4().hex}",
        )
    usage = CreditUsageLog.objects.filter(account_id=account).first()
    key = IdempotencyKey.objects.create(account_id=account, key=f"k-{uuid.uuid4().hex}", fingerprint="f")
    event = StripeEvent.objects.create(
        event_id=f"evt_{uuid.uuid4().hex}", event_type="checkout.session.completed"
    )
    invoice = Invoice.objects.filter(invoice_number__startswith="INV-").first()
    owner = tenant.members["owner"]
    cases: dict[str, Any] = {
        "credits below zero (UPDATE)": lambda: run_sql(
            "UPDATE accounts_account SET credits = -1 WHERE id = %s", [account]
        ),
        "credits below zero (subtract more than held)": lambda: run_sql(
            "UPDATE accounts_account SET credits = credits - (credits + 1) WHERE id = %s", [account]
        ),
        "ledger row with negative balance_after": lambda: copy_row(
            "billing_credittransaction", ledger.pk, {"balance_after": -5, "reference": ""}
        ),
        "ledger row with amount 0": lambda: copy_row(
            "billing_credittransaction", ledger.pk, {"amount": 0, "reference": ""}
        ),
        "ledger reference used twice": lambda: copy_row(
            "billing_credittransaction", referenced.pk, {"reference": referenced.reference}
        ),
        "idempotency key reused": lambda: copy_row("core_idempotencykey", key.pk, {}),
        "webhook event id reused": lambda: copy_row("billing_stripeevent", event.pk, {}),
        "webhook event id reused (other type)": lambda: copy_row(
            "billing_stripeevent", event.pk, {"event_type": "charge.refunded"}
        ),
        "second usage log on one ledger row": lambda: copy_row("billing_creditusagelog", usage.pk, {}),
        "usage log without ledger row": lambda: copy_row(
            "billing_creditusagelog", usage.pk, {"transaction_id": None}
        ),
        "user email reused in other case": lambda: copy_row(
            "accounts_user", owner.pk, {"email": owner.email.upper()}
        ),
    }
    if invoice is not None:
        cases["invoice number reused"] = lambda: copy_row("billing_invoice", invoice.pk, {})
        cases["invoice sequence year twice"] = lambda: run_sql(
            "INSERT INTO billing_invoicesequence (year, last_value) SELECT year, 0 FROM billing_invoicesequence "
            "LIMIT 1",
            [],
        )
    return cases


@check("11", "database constraints hold by themselves (raw SQL)")
def constraints(context: Any) -> Result:
    from django.db import IntegrityError, transaction

    from creditdesk.billing.services.usage import record_usage
    from tests.reliability.checks_payments import billing_landed, start_purchase

    tenant = make_tenant(credits=100, roles=("owner",))
    record_usage(account=tenant.account, user=tenant.members["owner"], operation_type="clustering")
    if billing_landed():
        start_purchase(tenant, "sandbox")
    cases = violations(tenant)
    result = Result(
        tried="raw SQL breaking credits, ledger, idempotency, webhook, invoice rules", count=len(cases)
    )
    for name, attempt in cases.items():
        try:
            with transaction.atomic():
                attempt()
                raise Accepted(name)  # rolls the accepted write back, so it cannot pollute later rows
        except IntegrityError:
            continue
        except Accepted:
            result.fail(f"{name}: the database accepted it")
        except Exception as exc:
            result.fail(f"{name}: {type(exc).__name__}: {exc}"[:300])
    result.tried = f"raw SQL: {len(cases)} ways to break credits, ledger, keys, events, invoices"
    return result


# --- Row 12: a state machine over the ledger service ---------------------------------------------------------


def ledger_machine(with_purchases: bool) -> type:
    from datetime import timedelta

    from django.utils import timezone
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

    from creditdesk.billing.models import CreditGrant
    from creditdesk.billing.services import holds, ledger
    from creditdesk.billing.services.grants import expire_credits
    from creditdesk.billing.services.reversals import NotReversible, reverse_usage
    from creditdesk.billing.services.usage import record_usage
    from creditdesk.testing import assert_ledger_consistent
    from tests.reliability.fixtures import credit_cost

    cost = credit_cost("clustering")

    class LedgerMachine(RuleBasedStateMachine):
        steps = 0

        def __init__(self) -> None:
            super().__init__()
            self.model = 0
            self.held = 0  # what the model's active holds reserve
            self.holds: dict[int, int] = {}  # active hold id -> credits it still reserves
            self.usage: dict[int, int] = {}  # usage log id -> credits not yet reversed
            self.paid: list[Any] = []  # payments not yet refunded, with their credits

        @property
        def spendable(self) -> int:
            return max(0, self.model - self.held)

        @initialize(start=st.integers(0, 300))
        def open_account(self, start: int) -> None:
            self.tenant = make_tenant(credits=start, roles=("owner",))
            self.account = self.tenant.account
            self.model = start

        def _step(self) -> None:
            type(self).steps += 1

        @rule(amount=st.integers(1, 400))
        def grant(self, amount: int) -> None:
            ledger.grant_credits(account=self.account, amount=amount, description="machine")
            self.model += amount
            self._step()

        @rule(amount=st.integers(1, 400))
        def deduct(self, amount: int) -> None:
            try:
                ledger.deduct_credits(account=self.account, amount=amount, description="machine")
            except ledger.InsufficientCredits:
                assert amount > self.spendable, (
                    f"refused {amount} with {self.spendable} spendable in the model"
                )
            else:
                assert amount <= self.spendable, f"took {amount} with only {self.spendable} spendable"
                self.model -= amount
            self._step()

        @rule(units=st.integers(1, 5))
        def meter(self, units: int) -> None:
            try:
                log = record_usage(
                    account=self.account,
                    user=self.tenant.members["owner"],
                    operation_type="clustering",
                    units=units,
                )
            except ledger.InsufficientCredits:
                assert cost * units > self.spendable
            else:
                self.model -= cost * units
                self.usage[log.pk] = cost * units
            self._step()

        @rule(amount=st.integers(1, 400))
        def claw_back(self, amount: int) -> None:
            clawback = ledger.claw_back_credits(account=self.account, amount=amount, description="machine")
            assert clawback.recovered == min(amount, self.spendable)
            self.model -= clawback.recovered
            self._step()

        @rule(amount=st.integers(-400, 400).filter(bool))
        def adjust(self, amount: int) -> None:
            try:
                ledger.adjust_credits(account=self.account, amount=amount, reason="machine", created_by=None)
            except ledger.InsufficientCredits:
                assert -amount > self.spendable
            else:
                self.model += amount
            self._step()

        @precondition(lambda self: with_purchases)
        @rule()
        def purchase(self) -> None:
            from tests.reliability.checks_payments import start_purchase

            payment = start_purchase(self.tenant, "sandbox")
            self.model += payment.invoice.credits
            self.paid.append(payment)
            self._step()

        @precondition(lambda self: with_purchases and bool(self.paid))
        @rule(data=st.data())
        def refund(self, data: Any) -> None:
            from creditdesk.billing.services.payments import refund_payment

            payment = self.paid.pop(data.draw(st.integers(0, len(self.paid) - 1)))
            assert refund_payment(payment=payment, source="machine")
            self.model -= min(payment.invoice.credits, self.spendable)
            assert not refund_payment(payment=payment, source="machine"), "refunded twice"
            self._step()

        @rule(amount=st.integers(1, 300))
        def grant_expiring(self, amount: int) -> None:
            soon = timezone.now() + timedelta(hours=1)
            ledger.grant_credits(account=self.account, amount=amount, description="machine", expires_at=soon)
            self.model += amount
            self._step()

        @rule()
        def expire(self) -> None:
            later = timezone.now() + timedelta(hours=2)  # past the machine's grants, before month end
            due = CreditGrant.objects.filter(
                account_id=self.account.pk, expired_at__isnull=True, expires_at__lte=later
            )
            leaving = sum(grant.remaining for grant in due)  # what the grants hold when their time comes
            report = expire_credits(now=later)
            assert report.credits >= leaving, f"expired {report.credits} of {leaving} due"
            self.model -= leaving
            self._step()

        @rule(credits=st.integers(1, 300))
        def hold(self, credits: int) -> None:
            try:
                hold = holds.create_hold(
                    account=self.account, user=None, operation_type="clustering", credits=credits
                ).hold
            except ledger.InsufficientCredits:
                assert credits > self.spendable, f"hold of {credits} refused with {self.spendable} spendable"
            else:
                assert credits <= self.spendable, f"held {credits} with only {self.spendable} spendable"
                self.held += credits
                self.holds[hold.pk] = credits
            self._step()

        @precondition(lambda self: bool(self.holds))
        @rule(data=st.data(), final=st.booleans())
        def settle(self, data: Any, final: bool) -> None:
            hold_id = data.draw(st.sampled_from(sorted(self.holds)))
            remaining = self.holds[hold_id]
            credits = data.draw(st.integers(0, remaining + 100))
            covered = min(credits, remaining)
            unreserve = remaining if final else covered
            fits = self.model - credits >= 0 and (
                credits == covered or self.model - credits >= self.held - unreserve
            )
            try:
                holds.settle_hold(
                    account=self.account, hold_id=hold_id, user=None, credits=credits, final=final
                )
            except ledger.InsufficientCredits:
                assert not fits, f"settle of {credits} (hold {remaining}) refused though it fits"
            else:
                assert fits, f"settle of {credits} (hold {remaining}) charged though it does not fit"
                self.model -= credits
                self.held -= unreserve
                self.holds[hold_id] = remaining - unreserve
                if final:
                    del self.holds[hold_id]
            self._step()

        @precondition(lambda self: bool(self.holds))
        @rule(data=st.data())
        def release(self, data: Any) -> None:
            hold_id = data.draw(st.sampled_from(sorted(self.holds)))
            holds.release_hold(account=self.account, hold_id=hold_id)
            self.held -= self.holds.pop(hold_id)
            self._step()

        @precondition(lambda self: bool(self.usage))
        @rule(data=st.data())
        def reverse(self, data: Any) -> None:
            usage_id = data.draw(st.sampled_from(sorted(self.usage)))
            left = self.usage[usage_id]
            try:
                reversal = reverse_usage(account=self.account, usage_id=usage_id, user=None, reason="machine")
            except NotReversible:
                assert left == 0, f"refused to reverse {left} credits left"
            else:
                assert reversal.credits == left, f"returned {reversal.credits}, {left} were left"
                self.model += reversal.credits - reversal.credits_expired
                self.usage[usage_id] = 0
            self._step()

        @invariant()
        def agrees_with_model(self) -> None:
            if hasattr(self, "account"):
                assert_ledger_consistent(self.account)
                assert self.account.credits == self.model, (
                    f"balance {self.account.credits} != model {self.model}"
                )
                assert self.account.held == self.held, f"held {self.account.held} != model {self.held}"

    return LedgerMachine


@check("12", "hypothesis state machine over the ledger service vs a model")
def state_machine(context: Any) -> Result:
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.reliability.checks_payments import billing_landed

    sizes = context.sizes
    machine = ledger_machine(with_purchases=billing_landed())
    rules = (
        "grant, expiring grant, expire, deduct, meter, hold, settle, release, reverse, claw back, adjust"
        + (", purchase, refund" if billing_landed() else "")
    )
    result = Result(
        tried=f"{sizes.hypothesis_examples} programs of <= {sizes.hypothesis_steps} steps: {rules}", count=0
    )
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=sizes.hypothesis_examples,
                stateful_step_count=sizes.hypothesis_steps,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except AssertionError as exc:
        result.fail(f"the ledger and the model disagree: {exc}"[:500])
    result.count = machine.steps
    return result


# --- Row 14: deploy checks -----------------------------------------------------------------------------------


@check("14", "manage.py check --deploy --fail-level WARNING, production settings")
def deploy_check(context: Any) -> Result:
    env = harness.server_env(
        harness.DB_MAIN, SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="creditdesk.example"
    )
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)  # production defaults, as `make serve` gets them
    completed = harness.run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    output = (completed.stdout + completed.stderr).strip()
    found = re.search(r"identified (\d+) issue", output)
    issues = int(found.group(1)) if found else (0 if completed.returncode == 0 else 1)
    result = Result(tried="Django deploy checks with DEBUG=0 and the production defaults", count=1)
    if completed.returncode != 0 or issues:
        result.fail(output[-600:], amount=max(issues, 1))
    return result

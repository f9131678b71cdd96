"""Auto top-up: below N credits, buy package P with the saved card, within monthly limits.

Detection costs nothing on the metering path: the ledger (`_note_top_up_crossing`) sees the balance
before and after each change (taken under the balance's row lock, like the alerts), and compares
integers already on the account (`Account.auto_top_up_below`, the rule's threshold while it is armed).
Only a crossing (from >= N to < N) touches the database: `record_crossing` records one AutoTopUpAttempt in the
deduction's own transaction (a rolled-back deduction records nothing) and enqueues the charge once that
transaction commits. Parallel deductions serialise on the balance row, so exactly one of them crosses;
the partial unique index on open attempts is the backstop.

The charge (`charge_attempt`, a task) numbers an invoice and a payment like a purchase, then asks the
provider with the attempt id as Stripe's idempotency key, so a re-run task never charges twice. The
credits come through the one success path (`mark_payment_succeeded`): at once for the sandbox, from the
`payment_intent.succeeded` webhook for Stripe. A failure fails the payment (`payment.failed`), pauses the
rule and mails the owners; nothing is charged again until an owner re-saves the card or re-enables it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from creditdesk.billing.models import (
    AutoTopUp,
    AutoTopUpAttempt,
    CreditPackage,
    Payment,
    PaymentMethod,
    PaymentMethodConfig,
    StripeEvent,
)
from creditdesk.billing.providers import PROVIDERS, method_is_available
from creditdesk.billing.providers.base import PaymentProviderError
from creditdesk.billing.services.invoices import create_invoice, issue_invoice
from creditdesk.billing.services.payments import (
    create_payment,
    fail_payment,
    flag_for_review,
    flag_payment_after_failure,
    mark_payment_succeeded,
    receipt_recipients,
    record_provider_payment_id,
    record_provider_reference,
)
from creditdesk.core.errors import ValidationFailed
from creditdesk.core.money import minor_units, to_money
from creditdesk.tenancy.audit import AuditAction, record_audit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User

logger = logging.getLogger(__name__)

Status = AutoTopUpAttempt.Status
OPEN = [Status.PENDING, Status.CHARGING]
COUNTED = [Status.PENDING, Status.CHARGING, Status.SUCCEEDED]

SANDBOX_CARD = {"brand": "visa", "last4": "4242"}


def idempotency_key(attempt_id: int) -> str:
    return f"creditdesk-auto-top-up-{attempt_id}"


def expected_total(package: CreditPackage) -> Decimal:
    """What the invoice for `package` will total (create_invoice's arithmetic)."""
    subtotal = to_money(package.price)
    return subtotal + to_money(subtotal * settings.INVOICE_TAX_RATE)


def month_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class MonthUsage:
    count: int
    amount: Decimal


def month_usage(*, account_id: int, now: datetime | None = None) -> MonthUsage:
    """Top-ups started this calendar month that were not failed (failed ones charged nothing)."""
    found = AutoTopUpAttempt.objects.filter(
        account_id=account_id, status__in=COUNTED, created_at__gte=month_start(now)
    ).aggregate(count=Count("id"), amount=Sum("amount"))
    return MonthUsage(count=found["count"] or 0, amount=found["amount"] or Decimal("0.00"))


def rule_of(*, account: "Account") -> AutoTopUp:
    found = AutoTopUp.objects.select_related("package").filter(account_id=account.pk).first()
    return found or AutoTopUp(account_id=account.pk)


def _arm(*, rule: AutoTopUp) -> None:
    """Mirrors the rule's armed threshold onto the account row the ledger reads."""
    from creditdesk.accounts.models import Account

    Account.objects.filter(pk=rule.account_id).update(auto_top_up_below=rule.armed_threshold)


# --- Detection (inside the deduction's transaction) -------------------------------------------------------


def record_crossing(*, account: "Account", before: int, after: int) -> AutoTopUpAttempt | None:
    rule = AutoTopUp.objects.select_related("package").filter(account_id=account.pk).first()
    if rule is None or not rule.armed_threshold or rule.package is None:
        return None  # the in-memory account was older than the rule
    if AutoTopUpAttempt.objects.filter(account_id=account.pk, status__in=OPEN).exists():
        return None  # the previous crossing's charge is still on its way
    amount = expected_total(rule.package)
    usage = month_usage(account_id=account.pk)
    if rule.max_per_month is not None and usage.count >= rule.max_per_month:
        logger.info("account %s: auto top-up skipped, %s this month already", account.pk, usage.count)
        return None
    if rule.max_amount_per_month is not None and usage.amount + amount > rule.max_amount_per_month:
        logger.info("account %s: auto top-up skipped, monthly amount limit reached", account.pk)
        return None
    try:
        # The one savepoint is on the crossing path only; it keeps the deduction alive if a parallel
        # transaction opened an attempt first (the partial unique index).
        with transaction.atomic():
            attempt = AutoTopUpAttempt.objects.create(
                account_id=account.pk,
                package=rule.package,
                card_provider=rule.card_provider,
                balance_before=before,
                balance_after=after,
                threshold=rule.threshold,
                credits=rule.package.credits,
                amount=amount,
                currency=rule.package.currency,
            )
    except IntegrityError:
        return None
    attempt_id = attempt.pk
    transaction.on_commit(lambda: _enqueue_charge(attempt_id=attempt_id), robust=True)
    return attempt


def _enqueue_charge(*, attempt_id: int) -> None:
    from creditdesk.billing.tasks import charge_auto_top_up

    charge_auto_top_up.enqueue(attempt_id=attempt_id)


# --- The charge (a task, outside any transaction while the provider answers) -----------------------------


def _card_error_reason(exc: stripe.StripeError) -> str:
    message = getattr(exc, "user_message", None) or str(exc) or exc.__class__.__name__
    return f"The card was not charged: {message}"[:255]


def charge_attempt(*, attempt_id: int) -> str:
    """Charges one attempt's card; returns the attempt's status afterwards. Safe to run twice: the
    invoice and payment are made once, and Stripe's idempotency key returns the first answer."""
    with transaction.atomic():
        attempt = (
            AutoTopUpAttempt.objects.select_for_update()
            .select_related("account", "package")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None:
            return "missing"
        if attempt.status != Status.PENDING:
            return attempt.status
        rule = AutoTopUp.objects.get(account_id=attempt.account_id)
        if attempt.payment_id is None:
            invoice = create_invoice(account=attempt.account, package=attempt.package)
            invoice = issue_invoice(invoice=invoice)
            method = PaymentMethod.SANDBOX if attempt.card_provider == "sandbox" else PaymentMethod.STRIPE
            attempt.payment = create_payment(invoice=invoice, payment_method=method)
            attempt.save(update_fields=["payment", "updated_at"])
        payment = attempt.payment
        assert payment is not None
    if attempt.card_provider == AutoTopUp.CardProvider.SANDBOX:
        return _charge_sandbox(attempt=attempt, payment=payment)
    return _charge_stripe(attempt=attempt, payment=payment, rule=rule)


def _charge_sandbox(*, attempt: AutoTopUpAttempt, payment: Payment) -> str:
    if not PROVIDERS[PaymentMethod.SANDBOX].environment_allows():
        return fail_attempt(payment=payment, reason="The sandbox payment method is not available here.")
    with transaction.atomic():
        record_provider_reference(payment=payment, provider_reference=f"sandbox_{payment.pk}")
        settle_succeeded(payment=payment, source="sandbox")
    return Status.SUCCEEDED


def _charge_stripe(*, attempt: AutoTopUpAttempt, payment: Payment, rule: AutoTopUp) -> str:
    if not (rule.stripe_customer_id and rule.stripe_payment_method_id):
        return fail_attempt(payment=payment, reason="No card is saved for auto top-up.")
    metadata = {
        "payment_id": str(payment.pk),
        "invoice_id": str(payment.invoice_id),
        "account_id": str(payment.account_id),
        "auto_top_up_attempt_id": str(attempt.pk),
    }
    try:
        intent = stripe.PaymentIntent.create(
            api_key=settings.STRIPE_SECRET_KEY,
            amount=minor_units(payment.amount, payment.currency),
            currency=payment.currency.lower(),
            customer=rule.stripe_customer_id,
            payment_method=rule.stripe_payment_method_id,
            off_session=True,
            confirm=True,
            description=f"Auto top-up: {attempt.credits} credits",
            metadata=metadata,
            idempotency_key=idempotency_key(attempt.pk),
        ).to_dict()
    except stripe.StripeError as exc:
        # A decline (CardError), an authentication the customer must give on-session, or Stripe not
        # answering: all pause the rule. If Stripe did charge after all, the late payment_intent.succeeded
        # finds the payment failed and flags it for staff (flag_payment_after_failure).
        logger.warning("auto top-up attempt %s: stripe refused or failed: %s", attempt.pk, exc)
        return fail_attempt(payment=payment, reason=_card_error_reason(exc))
    if intent.get("status") in ("requires_payment_method", "requires_action", "canceled"):
        return fail_attempt(
            payment=payment, reason=f"The card was not charged (Stripe status {intent.get('status')})."
        )
    with transaction.atomic():
        locked = AutoTopUpAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.status != Status.PENDING:
            return locked.status  # the webhook was faster
        record_provider_payment_id(payment=payment, provider_payment_id=intent["id"])
        locked.status = Status.CHARGING
        locked.save(update_fields=["status", "updated_at"])
    return Status.CHARGING


def charge_stale_attempts(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Charges attempts whose task was lost (a crash between the deduction's commit and the enqueue):
    an open attempt blocks every later top-up, and charging again is safe (the idempotency key)."""
    due = AutoTopUpAttempt.objects.filter(status=Status.PENDING, created_at__lt=timezone.now() - older_than)
    charged = 0
    for attempt_id in due.order_by("pk").values_list("pk", flat=True)[:100]:
        charge_attempt(attempt_id=attempt_id)
        charged += 1
    return charged


def reconcile_charging_attempts(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Asks Stripe about charges whose webhook has not come: a lost webhook would otherwise leave the
    attempt `charging`, and an open attempt blocks every later top-up. Stripe's answer goes through the
    same checks and outcomes as its webhook; a charge still processing is asked again next time."""
    due = (
        AutoTopUpAttempt.objects.filter(
            status=Status.CHARGING, updated_at__lt=timezone.now() - older_than, payment__isnull=False
        )
        .exclude(payment__provider_payment_id="")
        .exclude(payment__invoice__needs_review=True)  # flagged once for staff; not asked again
        .select_related("payment")
    )
    settled = 0
    for attempt in due.order_by("pk")[:100]:
        payment = attempt.payment
        assert payment is not None
        settled += _reconcile_with_stripe(payment=payment)
    return settled


def _reconcile_with_stripe(*, payment: Payment) -> bool:
    try:
        intent = stripe.PaymentIntent.retrieve(
            payment.provider_payment_id, api_key=settings.STRIPE_SECRET_KEY
        ).to_dict()
    except stripe.StripeError as exc:
        logger.warning("payment %s: stripe did not answer the reconciliation: %s", payment.pk, exc)
        return False
    source = f"stripe_reconcile:{intent.get('id') or ''}"
    status = intent.get("status")
    if status not in ("succeeded", "requires_payment_method", "canceled"):
        return False  # processing: Stripe has not decided yet
    reason = intent_mismatch(payment, intent)
    if reason:
        flag_for_review(payment=payment, source=source, reason=reason, details={"intent_status": status})
        return False
    if status == "succeeded":
        return settle_succeeded(payment=payment, source=source, provider_payment_id=str(intent["id"]))
    intent_failed(payment, intent, source)
    return True


# --- Outcomes -------------------------------------------------------------------------------------------


def settle_succeeded(*, payment: Payment, source: str, provider_payment_id: str = "") -> bool:
    """The money is there: the credits come through the one success path, once."""
    with transaction.atomic():
        granted = mark_payment_succeeded(
            payment=payment, source=source, provider_payment_id=provider_payment_id
        )
        if not granted:
            flag_payment_after_failure(payment=payment, source=source)
            return False
        AutoTopUpAttempt.objects.filter(payment_id=payment.pk, status__in=OPEN).update(
            status=Status.SUCCEEDED, updated_at=timezone.now()
        )
    return True


def fail_attempt(*, payment: Payment, reason: str, source: str = "auto_top_up") -> str:
    """The charge failed: the payment fails (`payment.failed`, once), the rule pauses and the owners are
    mailed. A second report of the same failure (the exception, then the webhook) changes nothing."""
    with transaction.atomic():
        attempt = AutoTopUpAttempt.objects.select_for_update().filter(payment_id=payment.pk).first()
        failed = fail_payment(
            payment=payment, reason=reason, source=source, audit_action=AuditAction.AUTO_TOP_UP_FAILED
        )
        if attempt is None or attempt.status not in OPEN:
            return attempt.status if attempt is not None else "missing"
        attempt.status = Status.FAILED
        attempt.failure_reason = reason[:255]
        attempt.save(update_fields=["status", "failure_reason", "updated_at"])
        rule = AutoTopUp.objects.select_for_update().get(account_id=attempt.account_id)
        rule.paused_reason = reason[:255]
        rule.paused_at = timezone.now()
        rule.save(update_fields=["paused_reason", "paused_at", "updated_at"])
        _arm(rule=rule)
        record_audit(
            account=payment.account,
            action=AuditAction.AUTO_TOP_UP_PAUSED,
            target=f"auto-top-up-attempt:{attempt.pk}",
            changes={"payment_id": payment.pk, "reason": rule.paused_reason, "payment_failed": failed},
        )
        account_id, attempt_id = attempt.account_id, attempt.pk
        transaction.on_commit(
            lambda: _enqueue_mail(account_id=account_id, attempt_id=attempt_id), robust=True
        )
    return Status.FAILED


def _enqueue_mail(*, account_id: int, attempt_id: int) -> None:
    from creditdesk.billing.tasks import mail_auto_top_up_failed

    mail_auto_top_up_failed.enqueue(account_id=account_id, attempt_id=attempt_id)


def mail_failure(*, attempt_id: int) -> bool:
    attempt = AutoTopUpAttempt.objects.select_related("account").filter(pk=attempt_id).first()
    if attempt is None:
        return False
    account = attempt.account
    recipients = receipt_recipients(account=account)
    if not recipients:
        return False
    send_mail(
        subject=f"{account.name}: auto top-up failed and is paused",
        message=(
            f"The automatic purchase of {attempt.credits} credits for {account.name} failed:\n"
            f"{attempt.failure_reason}\n\n"
            f"Auto top-up is paused until an owner saves a card again or re-enables it:\n"
            f"{settings.SITE_URL}/account/settings\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return True


# --- Settings (owners) ----------------------------------------------------------------------------------


RULE_FIELDS = ("is_enabled", "threshold", "package_id", "max_per_month", "max_amount_per_month")


def update_rule(
    *, account: "Account", actor: "User", ip_address: str | None = None, **changes: Any
) -> AutoTopUp:
    """Changes the rule. Enabling it (again) is how an owner resumes a paused rule."""
    with transaction.atomic():
        rule, _ = AutoTopUp.objects.select_for_update().get_or_create(account_id=account.pk)
        before = {field: getattr(rule, field) for field in RULE_FIELDS}
        if "package_id" in changes:
            package = CreditPackage.objects.filter(pk=changes["package_id"], is_active=True).first()
            if package is None:
                raise ValidationFailed.on_field("package_id", "This credit package is not on sale.")
            rule.package = package
        for field in ("is_enabled", "threshold", "max_per_month", "max_amount_per_month"):
            if field in changes:
                setattr(rule, field, changes[field])
        if rule.max_amount_per_month is not None:
            rule.max_amount_per_month = to_money(rule.max_amount_per_month)
        if rule.is_enabled:
            if rule.package_id is None:
                raise ValidationFailed.on_field("package_id", "Choose the credit package to buy.")
            if rule.threshold < 1:
                raise ValidationFailed.on_field("threshold", "Set the balance below which to buy credits.")
            if not rule.has_card:
                raise ValidationFailed.on_field("is_enabled", "Save a card first.")
        resumed = bool(rule.paused_reason) and changes.get("is_enabled") is True
        if resumed or not rule.is_enabled:
            rule.paused_reason = ""
            rule.paused_at = None
        rule.save()
        _arm(rule=rule)
        after = {field: getattr(rule, field) for field in RULE_FIELDS}
        record_audit(
            account=account,
            actor=actor,
            action=AuditAction.AUTO_TOP_UP_UPDATED,
            target="auto-top-up",
            changes={
                field: {"from": _plain(before[field]), "to": _plain(after[field])}
                for field in RULE_FIELDS
                if before[field] != after[field]
            }
            | ({"resumed": True} if resumed else {}),
            ip_address=ip_address,
        )
    return rule_of(account=account)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def card_methods_available() -> list[str]:
    configs = {c.payment_method: c for c in PaymentMethodConfig.objects.all()}
    return [
        method
        for method in (PaymentMethod.STRIPE, PaymentMethod.SANDBOX)
        if method in configs and method_is_available(configs[method])
    ]


def start_card_setup(
    *, account: "Account", actor: "User", payment_method: str = "", ip_address: str | None = None
) -> dict[str, Any]:
    """Saves a card for auto top-up. Stripe: a Checkout Session in setup mode for the account's Stripe
    Customer (its webhook stores the card); sandbox: a fake card, saved at once. Returns next_action."""
    available = card_methods_available()
    method = payment_method or (available[0] if available else "")
    if method not in available:
        raise ValidationFailed.on_field("payment_method", "This payment method is not available.")
    if method == PaymentMethod.SANDBOX:
        _save_card(
            account_id=account.pk,
            provider=AutoTopUp.CardProvider.SANDBOX,
            actor=actor,
            ip_address=ip_address,
            **SANDBOX_CARD,
        )
        return {"type": "completed"}
    with transaction.atomic():
        rule, _ = AutoTopUp.objects.get_or_create(account_id=account.pk)
    customer_id = rule.stripe_customer_id or _create_customer(account=account, actor=actor)
    metadata = {"account_id": str(account.pk), "purpose": "auto_top_up"}
    settings_url = f"{settings.SITE_URL}/account/settings"
    try:
        session = stripe.checkout.Session.create(
            api_key=settings.STRIPE_SECRET_KEY,
            mode="setup",
            customer=customer_id,
            # Without payment_method_types Checkout offers the methods enabled in the Dashboard; setup mode
            # then needs a currency.
            currency=settings.BILLING_CURRENCY.lower(),
            client_reference_id=f"auto-top-up:{account.pk}",
            metadata=metadata,
            setup_intent_data={"metadata": metadata},
            success_url=f"{settings_url}?auto_top_up=card_saved",
            cancel_url=f"{settings_url}?auto_top_up=cancelled",
        )
    except stripe.StripeError as exc:
        logger.warning("stripe: creating a setup session failed: %s", exc)
        raise PaymentProviderError(
            "The card payment provider is not answering; no card was saved. Please try again."
        ) from exc
    with transaction.atomic():
        AutoTopUp.objects.filter(account_id=account.pk).update(
            stripe_customer_id=customer_id, setup_session_id=session["id"], updated_at=timezone.now()
        )
        record_audit(
            account=account,
            actor=actor,
            action=AuditAction.AUTO_TOP_UP_CARD_SETUP_STARTED,
            target="auto-top-up",
            changes={"payment_method": method, "setup_session_id": session["id"]},
            ip_address=ip_address,
        )
    return {"type": "redirect", "url": session["url"]}


def _create_customer(*, account: "Account", actor: "User") -> str:
    try:
        customer = stripe.Customer.create(
            api_key=settings.STRIPE_SECRET_KEY,
            email=str(account.billing_email or getattr(actor, "email", "")),
            name=account.name,
            metadata={"account_id": str(account.pk)},
            idempotency_key=f"creditdesk-customer-{account.pk}",
        )
    except stripe.StripeError as exc:
        logger.warning("stripe: creating a customer failed: %s", exc)
        raise PaymentProviderError(
            "The card payment provider is not answering; no card was saved. Please try again."
        ) from exc
    return str(customer["id"])


def _save_card(
    *,
    account_id: int,
    provider: str,
    brand: str,
    last4: str,
    actor: "User | None" = None,
    ip_address: str | None = None,
    customer_id: str = "",
    payment_method_id: str = "",
    source: str = "",
) -> AutoTopUp:
    """Stores the card; saving a card is an owner acting, so a paused rule resumes."""
    with transaction.atomic():
        rule, _ = AutoTopUp.objects.select_for_update().get_or_create(account_id=account_id)
        was_paused = bool(rule.paused_reason)
        rule.card_provider = provider
        rule.card_brand = brand[:32]
        rule.card_last4 = last4[:4]
        rule.card_saved_at = timezone.now()
        if customer_id:
            rule.stripe_customer_id = customer_id
        rule.stripe_payment_method_id = payment_method_id
        rule.setup_session_id = ""
        rule.paused_reason = ""
        rule.paused_at = None
        rule.save()
        _arm(rule=rule)
        record_audit(
            account=rule.account,
            actor=actor,
            action=AuditAction.AUTO_TOP_UP_CARD_SAVED,
            target="auto-top-up",
            changes={
                "card_provider": provider,
                "card_brand": rule.card_brand,
                "card_last4": rule.card_last4,
                "resumed": was_paused,
                **({"source": source} if source else {}),
            },
            ip_address=ip_address,
        )
    return rule


def complete_card_setup(*, event_id: str, session: dict[str, Any]) -> str:
    """`checkout.session.completed` of a setup session: stores the customer and the card, once per
    event, and only for the session we started last for that account."""
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return "duplicate"
    session_id = str(session.get("id") or "")
    rule = AutoTopUp.objects.filter(setup_session_id=session_id).first() if session_id else None
    if rule is None:
        logger.warning("stripe event %s: setup session %s is not ours; ignored", event_id, session_id)
        return "ignored"
    setup_intent = session.get("setup_intent") or ""
    if isinstance(setup_intent, str):
        setup_intent = stripe.SetupIntent.retrieve(
            setup_intent, api_key=settings.STRIPE_SECRET_KEY, expand=["payment_method"]
        ).to_dict()
    method = setup_intent.get("payment_method") or {}
    method_id = method if isinstance(method, str) else str(method.get("id") or "")
    card = {} if isinstance(method, str) else (method.get("card") or {})
    if not method_id:
        return "ignored"
    with transaction.atomic(durable=True):
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event_id, event_type="checkout.session.completed")
        except IntegrityError:
            return "duplicate"
        _save_card(
            account_id=rule.account_id,
            provider=AutoTopUp.CardProvider.STRIPE,
            brand=str(card.get("brand") or ""),
            last4=str(card.get("last4") or ""),
            customer_id=str(session.get("customer") or setup_intent.get("customer") or ""),
            payment_method_id=method_id,
            source=f"stripe:{event_id}",
        )
    return "processed"


# --- Stripe's PaymentIntent events for top-up payments (webhooks.py routes them here) -------------------


def intent_succeeded(payment: Payment, intent: dict[str, Any], source: str) -> None:
    settle_succeeded(payment=payment, source=source, provider_payment_id=str(intent.get("id") or ""))


def intent_failed(payment: Payment, intent: dict[str, Any], source: str) -> None:
    error = intent.get("last_payment_error") or {}
    message = error.get("message") or "The card was declined."
    fail_attempt(payment=payment, reason=f"The card was not charged: {message}", source=source)


def intent_mismatch(payment: Payment, intent: dict[str, Any]) -> str:
    intent_id = str(intent.get("id") or "")
    if payment.provider_payment_id and intent_id != payment.provider_payment_id:
        return f"payment intent {intent_id or '(none)'} is not the payment's {payment.provider_payment_id}"
    metadata = intent.get("metadata") or {}
    if str(metadata.get("account_id") or "") != str(payment.account_id):
        return f"account {metadata.get('account_id') or '(none)'} is not the payment's {payment.account_id}"
    currency = str(intent.get("currency") or "").upper()
    if currency != payment.currency.upper():
        return f"intent currency {currency or '(none)'} is not the payment's {payment.currency}"
    expected = minor_units(payment.amount, payment.currency)
    amount = intent.get("amount")
    if type(amount) is not int or amount != expected:
        return f"intent amount {amount} is not the payment's {expected} (minor units of {payment.currency})"
    return ""


def payment_for_intent(intent: dict[str, Any]) -> Payment | None:
    """Only top-up payments: a Checkout purchase's PaymentIntent is settled by its session's events."""
    top_ups = Payment.objects.filter(payment_method=PaymentMethod.STRIPE, auto_top_up__isnull=False)
    intent_id = str(intent.get("id") or "")
    payment = top_ups.filter(provider_payment_id=intent_id).first() if intent_id else None
    if payment is None:
        # The webhook can overtake the task's recording of the intent id.
        payment_id = str((intent.get("metadata") or {}).get("payment_id") or "")
        if payment_id.isdigit():
            payment = top_ups.filter(pk=int(payment_id), provider_payment_id="").first()
    return payment

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from creditdesk.core.models import TimeStampedModel
from creditdesk.core.money import money_field


class Plan(TimeStampedModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(unique=True)
    price_monthly = money_field()  # what the plan costs per month, in `currency`
    currency = models.CharField(max_length=3, default="USD")
    credits_per_month = models.PositiveIntegerField()  # granted as `subscription` at each month's start
    # Unused plan credits carried into the next month (as a `rollover` grant that lasts that month); 0 = none.
    rollover_limit = models.PositiveIntegerField(default=0)
    max_users = models.PositiveIntegerField()  # seat limit, invited members included
    is_active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)  # the plan new accounts start on
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_plan"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The credit ledger is append-only: ledger rows are never updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The credit ledger is append-only: ledger rows are never deleted.")


class CreditTransaction(models.Model):
    """One row per change of an account's balance. Append-only; written only by services/ledger.py."""

    class Type(models.TextChoices):
        GRANT = "grant", "Grant"
        SUBSCRIPTION = "subscription", "Subscription"
        PURCHASE = "purchase", "Purchase"
        DEDUCTION = "deduction", "Deduction"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"
        EXPIRATION = "expiration", "Expiration"
        ROLLOVER = "rollover", "Rollover"
        REVERSAL = "reversal", "Reversal"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="credit_transactions"
    )
    transaction_type = models.CharField(max_length=16, choices=Type.choices)
    amount = models.BigIntegerField()  # signed change of the balance, in credits
    balance_after = models.BigIntegerField()  # the account's balance right after this row
    # The row's place in its account's ledger: 1, 2, 3... without gaps (Account.ledger_seq hands it out).
    seq = models.BigIntegerField()
    description = models.CharField(max_length=255, blank=True)
    # Makes a system grant happen once: unique per account when set (e.g. "subscription:2026-11").
    reference = models.CharField(max_length=128, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The service key that made this change, when one did (keys are revoked, never deleted).
    api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="ledger_account_recent"),
            models.Index(fields=["account", "transaction_type", "-created_at"], name="ledger_account_type"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reference"],
                condition=~models.Q(reference=""),
                name="ledger_reference_once",
            ),
            models.UniqueConstraint(fields=["account", "seq"], name="ledger_seq_once"),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0), name="ledger_balance_non_negative"
            ),
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.transaction_type} {self.amount:+d} -> {self.balance_after}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("The credit ledger is append-only: ledger rows are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The credit ledger is append-only: ledger rows are never deleted.")


class CreditGrant(models.Model):
    """A batch of credits that entered an account; `Account.credits` is the sum of live grants' remaining.

    Written only by services/ledger.py, under the account's row lock, together with the ledger row that
    granted it (none for the balances migrated from before grants) and the draws that consumed it.
    """

    class Source(models.TextChoices):
        PLAN = "plan", "Plan"
        PURCHASE = "purchase", "Purchase"
        PROMOTION = "promotion", "Promotion"
        ADJUSTMENT = "adjustment", "Adjustment"
        ROLLOVER = "rollover", "Rollover"
        MIGRATED = "migrated", "Balance before grants"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="credit_grants")
    source = models.CharField(max_length=16, choices=Source.choices)
    amount = models.BigIntegerField()  # credits granted
    remaining = models.BigIntegerField()  # credits not yet drawn nor expired
    expires_at = models.DateTimeField(null=True, blank=True)  # None: never
    # Lower is drawn first; within a priority, the soonest expiry, then the oldest.
    priority = models.PositiveSmallIntegerField(default=0)
    cost_basis = models.DecimalField(
        max_digits=18, decimal_places=8, default=Decimal("0")
    )  # money per credit
    reference = models.CharField(max_length=128)  # unique per account, e.g. "subscription:2026-11"
    period_start = models.DateTimeField(null=True, blank=True)  # plan and rollover grants: their month
    transaction = models.OneToOneField(
        CreditTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="grant"
    )
    expired_at = models.DateTimeField(null=True, blank=True)  # when its expiry was processed (once)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "expires_at", "created_at", "id"]
        indexes = [
            models.Index(
                fields=["account", "priority", "expires_at", "created_at", "id"],
                condition=models.Q(remaining__gt=0),
                name="grant_draw_order",
            ),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(expired_at__isnull=True, expires_at__isnull=False),
                name="grant_due_expiry",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "reference"], name="grant_reference_once"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="grant_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0, remaining__lte=models.F("amount")),
                name="grant_remaining_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cost_basis__gte=0), name="grant_cost_basis_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.remaining}/{self.amount}"


class CreditDraw(models.Model):
    """How many credits a ledger row took from (positive) or gave back to (negative) one grant."""

    transaction = models.ForeignKey(CreditTransaction, on_delete=models.PROTECT, related_name="draws")
    grant = models.ForeignKey(CreditGrant, on_delete=models.PROTECT, related_name="draws")
    credits = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["grant"], name="draw_grant")]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "grant"], name="draw_once_per_grant"),
            models.CheckConstraint(condition=~models.Q(credits=0), name="draw_credits_non_zero"),
        ]


class CreditCost(TimeStampedModel):
    """The server-side price list: what one unit of an operation costs in credits."""

    operation_type = models.CharField(max_length=32, unique=True)
    display_name = models.CharField(max_length=80)
    # At least 1: every metered operation is a ledger row (a free operation would be usage the ledger,
    # its seq and the analytics never see); the metering path refuses non-positive amounts.
    credits_per_unit = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit = models.CharField(max_length=40, default="request")  # label of one unit, e.g. "article"
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    # Staff's floor for (revenue - provider cost) / revenue, in percent: the margin report flags types below.
    margin_floor = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["operation_type"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(credits_per_unit__gte=1), name="credit_cost_at_least_one_credit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name}: {self.credits_per_unit}/{self.unit}"


class CreditUsageLog(models.Model):
    """What a metered operation spent: credits from the price list, and the provider's cost to us."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="usage_logs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The service key that metered this, when one did; `user` is then empty (a key is no member).
    api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="usage_logs"
    )
    operation_type = models.CharField(max_length=32)
    units = models.PositiveIntegerField(default=1)
    credits_used = models.PositiveIntegerField()
    cost_usd = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True
    )  # provider cost, USD
    model = models.CharField(max_length=120, blank=True)
    tokens_input = models.PositiveIntegerField(null=True, blank=True)
    tokens_output = models.PositiveIntegerField(null=True, blank=True)
    reference_id = models.CharField(max_length=128, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    transaction = models.OneToOneField(CreditTransaction, on_delete=models.PROTECT, related_name="usage_log")
    hold = models.ForeignKey(
        "CreditHold", null=True, blank=True, on_delete=models.PROTECT, related_name="usage_logs"
    )  # the hold this usage settled
    # Reversed so far (units and credits): a reversal never returns more than was charged.
    units_reversed = models.PositiveIntegerField(default=0, db_default=0)
    credits_reversed = models.PositiveIntegerField(default=0, db_default=0)
    # The money the consumed credits were worth (their grants' cost basis): revenue for the margin report.
    credits_value = models.DecimalField(
        max_digits=18, decimal_places=4, default=Decimal("0"), db_default=Decimal("0")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="usage_account_recent"),
            models.Index(fields=["account", "operation_type", "-created_at"], name="usage_account_operation"),
        ]
        constraints = [
            # A job is charged once: its reference_id, when given, is unique in the account for ever.
            models.UniqueConstraint(
                fields=["account", "reference_id"],
                condition=~models.Q(reference_id=""),
                name="usage_job_once",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    credits_reversed__lte=models.F("credits_used"), units_reversed__lte=models.F("units")
                ),
                name="usage_reversed_at_most_charged",
            ),
        ]


class CreditHold(models.Model):
    """Credits reserved for a running job: they count in `Account.held`, so nothing else can spend them,
    until settles charge the actual use and the rest is released (by the caller, or at expires_at)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="credit_holds")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The service key that made the hold, when one did: its caps count the hold while it is open.
    api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    operation_type = models.CharField(max_length=32)
    units = models.PositiveIntegerField(null=True, blank=True)  # as asked; None when asked in credits
    credits = models.BigIntegerField()  # reserved when created
    settled = models.BigIntegerField(default=0)  # charged so far (may pass `credits`: an overrun)
    remaining = models.BigIntegerField()  # still reserved: counted in Account.held while active
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    reference_id = models.CharField(max_length=128, blank=True)
    expires_in = models.PositiveIntegerField()  # seconds, as asked
    metadata = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="hold_account_recent"),
            models.Index(
                fields=["expires_at"], condition=models.Q(status="active"), name="hold_active_expiry"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reference_id"], condition=~models.Q(reference_id=""), name="hold_job_once"
            ),
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="hold_credits_positive"),
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0, remaining__lte=models.F("credits")),
                name="hold_remaining_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status="active") | models.Q(remaining=0), name="hold_closed_holds_nothing"
            ),
        ]


class MarginReport(CreditUsageLog):
    """The admin's margin report: revenue (credits' cost basis), provider cost and margin of metered usage."""

    class Meta:
        proxy = True
        verbose_name = "margin report"
        verbose_name_plural = "margin report"


class DailyLedgerRollup(models.Model):
    """Per account, day and transaction type: the sum and count of ledger amounts (written with each row)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    transaction_type = models.CharField(max_length=16, choices=CreditTransaction.Type.choices)
    total = models.BigIntegerField(default=0)  # signed credits
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "date", "transaction_type"], name="ledger_rollup_key")
        ]


class DailyOperationRollup(models.Model):
    """Per account, day and operation: credits spent, calls and provider cost (written with each usage)."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    operation_type = models.CharField(max_length=32)
    credits = models.BigIntegerField(default=0)
    count = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=18, decimal_places=4, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "date", "operation_type"], name="operation_rollup_key")
        ]


class CreditPackage(TimeStampedModel):
    name = models.CharField(max_length=80)
    slug = models.SlugField(unique=True)
    credits = models.PositiveIntegerField()  # credits granted when paid
    expires_in_days = models.PositiveIntegerField(null=True, blank=True)  # None: the credits never expire
    price = money_field()  # what the customer pays, in `currency`, before tax
    currency = models.CharField(max_length=3, default="USD")
    description = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)
    is_featured = models.BooleanField(default=False)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class PaymentMethod(models.TextChoices):
    STRIPE = "stripe", "Credit/Debit Card"
    BANK_TRANSFER = "bank_transfer", "Bank Transfer"
    SANDBOX = "sandbox", "Sandbox (demo)"


class PaymentMethodConfig(models.Model):
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices, unique=True)
    display_name = models.CharField(max_length=80)
    is_enabled = models.BooleanField(default=True)  # also requires the method's environment (see providers)
    instructions = models.TextField(blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.display_name


class InvoiceSequence(models.Model):
    """The last invoice number handed out in a year; bumped in the purchase's transaction (no gaps)."""

    year = models.PositiveIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)


class Invoice(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        VOID = "void", "Void"
        REFUNDED = "refunded", "Refunded"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="invoices")
    invoice_number = models.CharField(max_length=32, unique=True)  # INV-<year>-<seq>
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    line_items = models.JSONField(default=list)  # [{description, quantity, unit_price, amount}]
    subtotal = money_field()  # sum of line amounts, before tax
    tax_amount = money_field()
    total_amount = money_field()  # subtotal + tax: what the customer owes
    currency = models.CharField(max_length=3, default="USD")
    billing_details = models.JSONField(default=dict)  # the buyer's billing address when issued
    credit_package = models.ForeignKey(CreditPackage, null=True, blank=True, on_delete=models.PROTECT)
    credits = models.PositiveIntegerField(default=0)  # credits this invoice buys
    due_date = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # Set when a provider's event about this invoice did not match it (amount, currency, account, payment
    # intent): nothing was acted on, and staff settle it by hand (admin filter "needs review").
    needs_review = models.BooleanField(default=False)
    review_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="invoice_account_recent")]

    def __str__(self) -> str:
        return self.invoice_number


class Payment(TimeStampedModel):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = money_field()  # what this payment collects, in `currency`
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    provider_reference = models.CharField(
        max_length=255, blank=True, db_index=True
    )  # e.g. Checkout Session id
    provider_payment_id = models.CharField(max_length=255, blank=True, db_index=True)  # e.g. PaymentIntent id
    reference_code = models.CharField(max_length=32, blank=True)  # what a bank transfer must quote
    transfer_reference = models.CharField(max_length=255, blank=True)  # the customer's own transfer id
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="payment_account_recent")]


class StripeEvent(models.Model):
    """A processed Stripe event: its unique id, written in the same transaction as its effect."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=80)
    processed_at = models.DateTimeField(auto_now_add=True)


class NotificationSettings(models.Model):
    """Which balance alerts an account's owners and billing email receive by mail (webhooks are
    separate: an endpoint gets every event it subscribes to). The threshold itself is
    Account.low_balance_threshold, where the ledger can read it for free."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="notification_settings"
    )
    email_low_balance = models.BooleanField(default=True)
    email_depleted = models.BooleanField(default=True)
    email_expiring = models.BooleanField(default=True)
    expiring_notice_days = models.PositiveSmallIntegerField(default=7)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notifications of {self.account_id}"


class CreditExpiryNotice(models.Model):
    """That `credits.expiring` went out for a grant: its primary key makes it once per grant."""

    grant = models.OneToOneField(CreditGrant, on_delete=models.CASCADE, primary_key=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)


class AutoTopUp(models.Model):
    """An account's auto top-up rule and saved card: below `threshold` credits, buy `package`, at most
    `max_per_month` times and/or `max_amount_per_month` (invoice totals, in the package's currency) per
    calendar month. Account.auto_top_up_below mirrors `threshold` while the rule is armed, so the ledger
    detects a crossing without a query."""

    class CardProvider(models.TextChoices):
        STRIPE = "stripe", "Stripe"
        SANDBOX = "sandbox", "Sandbox (demo)"

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="auto_top_up"
    )
    is_enabled = models.BooleanField(default=False)
    threshold = models.PositiveBigIntegerField(default=0)
    package = models.ForeignKey(
        CreditPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    max_per_month = models.PositiveIntegerField(null=True, blank=True)
    max_amount_per_month = money_field(null=True, blank=True, default=None)
    # Set when a charge failed: no top-up runs until an owner re-saves the card or re-enables the rule.
    paused_reason = models.CharField(max_length=255, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    card_provider = models.CharField(max_length=20, choices=CardProvider.choices, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_payment_method_id = models.CharField(max_length=255, blank=True)
    card_brand = models.CharField(max_length=32, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_saved_at = models.DateTimeField(null=True, blank=True)
    # The Checkout Session (setup mode) started last; its webhook is accepted only for this id.
    setup_session_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"auto top-up of {self.account_id}"

    @property
    def has_card(self) -> bool:
        return bool(self.card_provider)

    @property
    def armed_threshold(self) -> int:
        armed = self.is_enabled and not self.paused_reason and self.has_card and self.package_id is not None
        return self.threshold if armed else 0


class AutoTopUpAttempt(models.Model):
    """One crossing of the armed threshold, and the off-session charge it started. Its id is Stripe's
    idempotency key; at most one attempt per account is open (pending or charging) at a time."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # recorded with the deduction; the charge task has not run yet
        CHARGING = "charging", "Charging"  # the provider was asked; waiting for its answer
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    OPEN = (Status.PENDING, Status.CHARGING)

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    package = models.ForeignKey(CreditPackage, on_delete=models.PROTECT, related_name="+")
    card_provider = models.CharField(max_length=20)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    balance_before = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    threshold = models.PositiveBigIntegerField()
    credits = models.PositiveIntegerField()
    amount = money_field()  # the expected invoice total, counted against max_amount_per_month
    currency = models.CharField(max_length=3)
    payment = models.OneToOneField(
        "billing.Payment", on_delete=models.PROTECT, null=True, blank=True, related_name="auto_top_up"
    )
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status__in=["pending", "charging"]),
                name="auto_top_up_one_open_attempt_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"auto top-up attempt {self.pk} of {self.account_id} ({self.status})"

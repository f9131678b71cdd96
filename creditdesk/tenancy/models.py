from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from creditdesk.tenancy.audit import AuditAction


class AuditLog(models.Model):
    """Who did what to which object of an account, from where. Append-only.

    It lives in tenancy, below accounts and billing, so that both can write it without importing each
    other.
    """

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="audit_logs")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_email = models.EmailField(blank=True)  # kept when the actor is later removed
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    target = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="audit_account_recent")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target} by {self.actor_email or 'system'}"


class ApiKeyScope(models.TextChoices):
    USAGE_WRITE = "usage:write", "Meter usage and hold credits"
    BILLING_READ = "billing:read", "Read the balance, transactions and usage"


class ApiKey(models.Model):
    """A service's credential: not a user and not a seat. Only a keyed hash of the secret is stored.

    An account key belongs to one account; a platform key (account None, made by staff) may act for any
    account and names it in every request.
    """

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account key"
        PLATFORM = "platform", "Platform key"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ACCOUNT)
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    # The first characters of the secret after `cdk_live_`: tells keys apart in lists, logs and audit rows.
    prefix = models.CharField(max_length=16)
    # HMAC-SHA256 of the whole secret under settings.API_KEY_HASH_KEY, hex.
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)  # refreshed at most once a minute
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_email = models.EmailField(blank=True)  # kept when the creator is later removed
    # Credits this key may spend per UTC day / month; None is no cap.
    daily_credit_cap = models.PositiveBigIntegerField(null=True, blank=True)
    monthly_credit_cap = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="apikey_account_recent")]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(kind="account", account__isnull=False))
                | models.Q(kind="platform", account__isnull=True),
                name="apikey_account_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (cdk_live_{self.prefix}…)"

    @property
    def display_prefix(self) -> str:
        return f"cdk_live_{self.prefix}"

    @property
    def is_platform(self) -> bool:
        return self.kind == self.Kind.PLATFORM

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def status(self, now: datetime | None = None) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.is_expired(now) else "active"


class MemberCreditCap(models.Model):
    """Credits one member may spend per UTC day / month (set by owners and admins); None is no cap."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_cap"
    )
    daily_credit_cap = models.PositiveBigIntegerField(null=True, blank=True)
    monthly_credit_cap = models.PositiveBigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class SpendingCounter(models.Model):
    """Credits a capped subject (`key:<id>` or `member:<id>`) spent in one UTC day or month.

    Charged by billing's caps service with one conditional UPDATE in the deduction's transaction, so
    parallel deductions cannot pass a cap together.
    """

    class Period(models.TextChoices):
        DAY = "day", "Day"
        MONTH = "month", "Month"

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=32)
    period = models.CharField(max_length=8, choices=Period.choices)
    starts_on = models.DateField()
    spent = models.BigIntegerField(default=0)  # credits, open holds included

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "period", "starts_on"], name="spending_counter_key"),
            models.CheckConstraint(condition=models.Q(spent__gte=0), name="spending_counter_non_negative"),
        ]

from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from creditdesk.core.models import TimeStampedModel
from creditdesk.tenancy.roles import Role


class Account(TimeStampedModel):
    """A tenant: a customer's team, its billing details and its credit balance."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    plan = models.ForeignKey("billing.Plan", on_delete=models.PROTECT, related_name="accounts")
    # The spendable balance in credits. Only billing's ledger service writes it, always with a ledger row.
    credits = models.BigIntegerField(default=0, editable=False)
    # Credits reserved by active holds: spendable = credits - held, guarded by the same UPDATE as credits.
    held = models.BigIntegerField(default=0, db_default=0, editable=False)
    # The soonest expiry among the account's live grants (or earlier: never later), so that a deduction
    # can tell in its balance UPDATE whether grants must be expired first.
    next_expiry_at = models.DateTimeField(null=True, blank=True, editable=False)
    # How many ledger rows the account has: bumped by the balance UPDATE, so each row's `seq` is taken
    # under the account's lock (the transactions list seeks on it instead of OFFSET).
    ledger_seq = models.BigIntegerField(default=0, editable=False)
    billing_email = models.EmailField(blank=True)
    billing_address_line1 = models.CharField(max_length=255, blank=True)
    billing_address_line2 = models.CharField(max_length=255, blank=True)
    billing_city = models.CharField(max_length=120, blank=True)
    billing_state = models.CharField(max_length=120, blank=True)
    billing_postal_code = models.CharField(max_length=32, blank=True)
    billing_country = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2
    tax_id = models.CharField(max_length=64, blank=True)
    is_active = models.BooleanField(default=True)
    # Read by billing's alerts on every balance change, so it lives on the row the ledger already has;
    # 0 turns it off. A balance falling from above the threshold to at or below it is a crossing.
    low_balance_threshold = models.PositiveBigIntegerField(default=0)
    # Billing's auto top-up rule, armed: its "below N credits" while the rule is enabled, unpaused and has
    # a card, else 0. Kept here for the same reason as the threshold above (see billing/services/topup.py).
    auto_top_up_below = models.PositiveBigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gte=0), name="account_credits_non_negative"),
            models.CheckConstraint(condition=models.Q(held__gte=0), name="account_held_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)  # stored lower-cased
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    # None once the member is removed: the row stays for the audit trail.
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Carried in every token as `tv`; a password change (by the user, a reset or staff) bumps it, which
    # refuses every token issued before on the request's existing user lookup, with no extra query.
    token_version = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def member_account(self) -> Account:
        """The account of a member the API serves (is_active_member): only a removed member or staff has none."""
        if self.account is None:
            raise ValueError(f"{self.email} belongs to no account")
        return self.account

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        if self.pk is not None:
            self.token_version += 1

    def check_password(self, raw_password: str | None) -> bool:
        def rehash(raw: str) -> None:
            # a hasher upgrade stores the same password anew: the sessions stay valid
            AbstractBaseUser.set_password(self, raw)
            self._password = None
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        if self.pk is not None:
            self.token_version += 1


class Invitation(TimeStampedModel):
    """A single-use invitation to join an account; only the token's hash is stored.

    `user` is None for an address that belongs to another account or to staff: the inviter gets the same
    answer as for a fresh address (nothing leaks), and the invitation can never be accepted or mailed.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, null=True, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()  # stored lower-cased
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def is_usable(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()

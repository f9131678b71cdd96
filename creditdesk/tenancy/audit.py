from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.http import HttpRequest

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User
    from creditdesk.tenancy.models import AuditLog


class AuditAction(models.TextChoices):
    """Every action the audit log records (the `?action=` filter accepts exactly these)."""

    ACCOUNT_REGISTERED = "account.registered", "Account registered"
    ADMIN_ACCOUNT_ADDED = "admin.account_added", "Account added by an operator"
    ADMIN_ACCOUNT_CHANGED = "admin.account_changed", "Account changed by an operator"
    ADMIN_USER_ADDED = "admin.user_added", "User added by an operator"
    ADMIN_USER_CHANGED = "admin.user_changed", "User changed by an operator"
    API_KEY_CREATED = "api_key.created", "API key created"
    API_KEY_CHANGED = "api_key.changed", "API key changed"
    API_KEY_REVOKED = "api_key.revoked", "API key revoked"
    API_KEY_CREATOR_REMOVED = "api_key.creator_removed", "API key's creator removed"
    AUTH_LOGIN = "auth.login", "Signed in"
    AUTH_LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
    AUTH_LOGOUT = "auth.logout", "Signed out"
    AUTH_REFRESH = "auth.refresh", "Session refreshed"
    AUTH_REFRESH_REUSED = "auth.refresh_reused", "Rotated refresh token reused"
    AUTH_PASSWORD_CHANGED = "auth.password_changed", "Password changed"
    AUTH_PASSWORD_RESET_REQUESTED = "auth.password_reset_requested", "Password reset requested"
    AUTH_PASSWORD_RESET = "auth.password_reset", "Password reset"
    AUTO_TOP_UP_UPDATED = "auto_top_up.updated", "Auto top-up rule changed"
    AUTO_TOP_UP_CARD_SETUP_STARTED = "auto_top_up.card_setup_started", "Auto top-up card setup started"
    AUTO_TOP_UP_CARD_SAVED = "auto_top_up.card_saved", "Auto top-up card saved"
    AUTO_TOP_UP_FAILED = "auto_top_up.failed", "Auto top-up payment failed"
    AUTO_TOP_UP_PAUSED = "auto_top_up.paused", "Auto top-up paused"
    BANK_TRANSFER_CONFIRMED = "bank_transfer.confirmed", "Bank transfer confirmed by the customer"
    BANK_TRANSFER_APPROVED = "bank_transfer.approved", "Bank transfer approved"
    BANK_TRANSFER_REJECTED = "bank_transfer.rejected", "Bank transfer rejected"
    BANK_TRANSFER_CANCELLED = "bank_transfer.cancelled", "Bank transfer cancelled"
    CREDITS_ADJUSTED = "credits.adjusted", "Credits adjusted by an operator"
    CREDITS_PURCHASE_STARTED = "credits.purchase_started", "Credit purchase started"
    CREDITS_PURCHASE_FAILED = "credits.purchase_failed", "Credit purchase failed"
    MEMBER_CAP_CHANGED = "member_cap.changed", "Member spending cap changed"
    PAYMENT_PROCESSING = "payment.processing", "Payment processing"
    PAYMENT_SUCCEEDED = "payment.succeeded", "Payment succeeded"
    PAYMENT_FAILED = "payment.failed", "Payment failed"
    PAYMENT_EXPIRED = "payment.expired", "Payment expired"
    PAYMENT_REFUNDED = "payment.refunded", "Payment refunded"
    PAYMENT_PARTIALLY_REFUNDED = "payment.partially_refunded", "Payment partially refunded"
    PAYMENT_PAID_AFTER_FAILURE = "payment.paid_after_failure", "Payment paid after it had failed"
    PAYMENT_WEBHOOK_MISMATCH = "payment.webhook_mismatch", "Payment webhook did not match the payment"
    PROFILE_UPDATED = "profile.updated", "Profile updated"
    SETTINGS_UPDATED = "settings.updated", "Account settings updated"
    TEAM_INVITED = "team.invited", "Member invited"
    TEAM_INVITATION_RESENT = "team.invitation_resent", "Invitation resent"
    TEAM_INVITATION_REVOKED = "team.invitation_revoked", "Invitation revoked"
    TEAM_INVITATION_ACCEPTED = "team.invitation_accepted", "Invitation accepted"
    TEAM_ROLE_CHANGED = "team.role_changed", "Member's role changed"
    TEAM_REMOVED = "team.removed", "Member removed"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the throttles see it: X-Forwarded-For counts only behind NUM_PROXIES proxies."""
    if request is None:
        return None
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()
    ]
    if settings.NUM_PROXIES and forwarded:
        return forwarded[-min(settings.NUM_PROXIES, len(forwarded))]
    return request.META.get("REMOTE_ADDR") or None


def record_audit(
    *,
    account: "Account",
    action: AuditAction,
    actor: "User | None" = None,
    target: str = "",
    changes: dict | None = None,
    ip_address: str | None = None,
) -> "AuditLog":
    """`action` must be an AuditAction: a free-text action would be one the log's filter cannot find."""
    from creditdesk.tenancy.models import AuditLog  # models takes its choices from this module

    action = AuditAction(action)  # a str outside the enum is a ValueError
    return AuditLog.objects.create(
        account=account,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target=target,
        changes=changes or {},
        ip_address=ip_address,
    )

"""API keys: how the platform's services authenticate. The secret is shown once; only a keyed hash stays.

The hash is HMAC-SHA256 under settings.API_KEY_HASH_KEY: the secret has 256 random bits, so a slow
password hash buys nothing, and a keyed hash is one microsecond per request. Knowing the database alone is
not enough to test guesses against it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from creditdesk.core.errors import NotFound, ValidationFailed
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.models import ApiKey, ApiKeyScope

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account, User

KEY_PREFIX = "cdk_live_"
PREFIX_LENGTH = 8  # characters of the random part kept in clear
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    secret: str  # shown to the caller once, never stored


def hash_secret(secret: str) -> str:
    return hmac.new(settings.API_KEY_HASH_KEY.encode(), secret.encode(), hashlib.sha256).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)


def _new_secret() -> tuple[str, str]:
    random_part = secrets.token_urlsafe(32)
    return KEY_PREFIX + random_part, random_part[:PREFIX_LENGTH]


def _clean_scopes(scopes: Any) -> list[str]:
    if not isinstance(scopes, list | tuple) or not scopes:
        raise ValidationFailed.on_field("scopes", f"Choose at least one of {', '.join(ApiKeyScope.values)}.")
    unknown = [scope for scope in scopes if scope not in ApiKeyScope.values]
    if unknown:
        raise ValidationFailed.on_field(
            "scopes", f"Unknown scope {unknown[0]!r}; the scopes are {', '.join(ApiKeyScope.values)}."
        )
    return sorted(set(scopes))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.on_field("name", "Give the key a name (what service uses it).")
    return name[:100]


def _check_expiry(expires_at: datetime | None) -> None:
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed.on_field("expires_at", "The expiry must be in the future.")


def _check_caps(daily: int | None, monthly: int | None) -> None:
    for field, cap in (("daily_credit_cap", daily), ("monthly_credit_cap", monthly)):
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
            raise ValidationFailed.on_field(field, "A cap is a whole number of credits, 0 or more.")


def key_audit_target(api_key: ApiKey) -> str:
    """What audit rows name: the key's name and its prefix, never the secret."""
    return f"{api_key.name} ({api_key.display_prefix}…)"


def create_account_key(
    *,
    account: "Account",
    actor: "User",
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    daily_credit_cap: int | None = None,
    monthly_credit_cap: int | None = None,
    ip: str | None = None,
) -> IssuedKey:
    name, scopes = _clean_name(name), _clean_scopes(scopes)
    _check_expiry(expires_at)
    _check_caps(daily_credit_cap, monthly_credit_cap)
    secret, prefix = _new_secret()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            kind=ApiKey.Kind.ACCOUNT,
            account=account,
            name=name,
            prefix=prefix,
            key_hash=hash_secret(secret),
            scopes=scopes,
            expires_at=expires_at,
            created_by=actor,
            created_by_email=getattr(actor, "email", "") or "",
            daily_credit_cap=daily_credit_cap,
            monthly_credit_cap=monthly_credit_cap,
        )
        record_audit(
            account=account,
            actor=actor,
            action=AuditAction.API_KEY_CREATED,
            target=key_audit_target(api_key),
            changes={
                "scopes": scopes,
                "expires_at": expires_at.isoformat() if expires_at else None,
                "daily_credit_cap": daily_credit_cap,
                "monthly_credit_cap": monthly_credit_cap,
            },
            ip_address=ip,
        )
    return IssuedKey(api_key=api_key, secret=secret)


def create_platform_key(
    *, name: str, scopes: list[str], actor: "User | None" = None, expires_at: datetime | None = None
) -> IssuedKey:
    """A staff-made key that meters for any account; it is not tied to one, so no account audit row."""
    name, scopes = _clean_name(name), _clean_scopes(scopes)
    _check_expiry(expires_at)
    secret, prefix = _new_secret()
    api_key = ApiKey.objects.create(
        kind=ApiKey.Kind.PLATFORM,
        account=None,
        name=name,
        prefix=prefix,
        key_hash=hash_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
        created_by=actor if actor is not None and actor.pk else None,
        created_by_email=getattr(actor, "email", "") or "",
    )
    return IssuedKey(api_key=api_key, secret=secret)


def _lock_key(*, account: "Account", key_id: int) -> ApiKey:
    api_key = ApiKey.objects.select_for_update().filter(account=account, pk=key_id).first()
    if api_key is None:
        raise NotFound("No such API key.")
    return api_key


def update_account_key(
    *, account: "Account", actor: "User", key_id: int, changes: dict[str, Any], ip: str | None = None
) -> ApiKey:
    """Renames a key or changes its caps (the caller seeds the cap counters in the same transaction)."""
    with transaction.atomic():
        api_key = _lock_key(account=account, key_id=key_id)
        if "name" in changes:
            changes["name"] = _clean_name(changes["name"])
        _check_caps(
            changes.get("daily_credit_cap", api_key.daily_credit_cap),
            changes.get("monthly_credit_cap", api_key.monthly_credit_cap),
        )
        diff = {
            field: {"from": getattr(api_key, field), "to": value}
            for field, value in changes.items()
            if getattr(api_key, field) != value
        }
        if diff:
            for field, value in changes.items():
                setattr(api_key, field, value)
            api_key.save(update_fields=[*changes, "updated_at"])
            record_audit(
                account=account,
                actor=actor,
                action=AuditAction.API_KEY_CHANGED,
                target=key_audit_target(api_key),
                changes=diff,
                ip_address=ip,
            )
    return api_key


def revoke_account_key(*, account: "Account", actor: "User", key_id: int, ip: str | None = None) -> ApiKey:
    """Refused from the very next request: authentication reads revoked_at on every request."""
    with transaction.atomic():
        api_key = _lock_key(account=account, key_id=key_id)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at", "updated_at"])
            record_audit(
                account=account,
                actor=actor,
                action=AuditAction.API_KEY_REVOKED,
                target=key_audit_target(api_key),
                ip_address=ip,
            )
    return api_key


def note_creator_removed(*, account: "Account", member: "User", actor: "User", ip: str | None = None) -> int:
    """A removed member's keys keep working: they belong to the account, and a service should not stop
    because the person who set it up left. It is not silent: each key gets an audit row, and the key list
    shows `creator_removed` so that owners can rotate it. Returns how many live keys the member made."""
    keys = list(ApiKey.objects.filter(account=account, created_by=member, revoked_at__isnull=True))
    for api_key in keys:
        record_audit(
            account=account,
            actor=actor,
            action=AuditAction.API_KEY_CREATOR_REMOVED,
            target=key_audit_target(api_key),
            changes={"created_by": member.email, "still_active": not api_key.is_expired()},
            ip_address=ip,
        )
    return len(keys)


def touch_last_used(api_key: ApiKey, *, now: datetime | None = None) -> None:
    """At most one write a minute per key, whatever the request rate: the UPDATE is conditional, so
    concurrent requests that all saw a stale value still write once."""
    now = now or timezone.now()
    if api_key.last_used_at is not None and api_key.last_used_at > now - LAST_USED_RESOLUTION:
        return
    stale_before = now - LAST_USED_RESOLUTION
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    if ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now):
        api_key.last_used_at = now

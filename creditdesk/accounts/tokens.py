"""Session tokens: issue, rotate (never fork), and the claims that end sessions.

Every token carries `tv` (the user's token_version: a password change bumps it, refusing every token
issued before on the request's existing user lookup) and `auth_time` (the login, in epoch seconds: no
refresh chain outlives SESSION_MAX_AGE_DAYS from it, however often it rotates).

Reuse of a rotated refresh token is refused and audited (`auth.refresh_reused`). The chain it belongs to
is not revoked: two tabs of one browser refreshing at the same moment race legitimately, and revoking
would sign the user out of both; a stolen chain is bounded by the session age, by logout and by a
password change, which ends every session.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from creditdesk.accounts.models import User
from creditdesk.core.errors import ApplicationError
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.authentication import TOKEN_VERSION_CLAIM, is_active_member

AUTH_TIME_CLAIM = "auth_time"


class TokenRefused(ApplicationError):
    status_code = 401


REFUSED = "The refresh token is invalid, expired or revoked."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _session_end(auth_time: int) -> int:
    return auth_time + int(timedelta(days=settings.SESSION_MAX_AGE_DAYS).total_seconds())


def issue_tokens(user: User, *, auth_time: datetime | int | None = None) -> TokenPair:
    """A new pair; `auth_time` is the login the session started with (now for a sign-in)."""
    if auth_time is None:
        auth_time = timezone.now()
    if isinstance(auth_time, datetime):
        auth_time = int(auth_time.timestamp())
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    refresh[AUTH_TIME_CLAIM] = auth_time
    refresh["exp"] = min(refresh["exp"], _session_end(auth_time))
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    access = refresh.access_token
    access["exp"] = min(access["exp"], refresh["exp"])
    return TokenPair(access=str(access), refresh=str(refresh))


def decode_refresh(raw: str) -> RefreshToken:
    """Signature, expiry and blacklist checked; a TokenRefused (401) otherwise."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # the stubs say Token; a str is decoded
    except TokenError as exc:
        raise TokenRefused(REFUSED) from exc


def _audit_reuse(raw: str, ip: str | None) -> None:
    """A genuine (signed, unexpired) refresh token that was already rotated or logged out: a replay."""
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenBackendError:
        return
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return
    outstanding = (
        OutstandingToken.objects.select_related("user__account")
        .filter(jti=payload.get(api_settings.JTI_CLAIM), blacklistedtoken__isnull=False)
        .first()
    )
    user = outstanding.user if outstanding is not None else None
    if user is not None and user.account is not None:
        record_audit(
            account=user.member_account, actor=user, action=AuditAction.AUTH_REFRESH_REUSED, ip_address=ip
        )


def _claim(token: RefreshToken, name: str, default: Any) -> Any:
    value = token.get(name, default)
    return default if value is None else value


def rotate_refresh_token(*, raw: str, ip: str | None = None) -> tuple[User, TokenPair]:
    """Blacklists the token and issues the next pair, atomically: of N parallel calls one succeeds."""
    try:
        old = decode_refresh(raw)
    except TokenRefused:
        _audit_reuse(raw, ip)
        raise
    reused_by: User | None = None
    with transaction.atomic():
        outstanding = (
            OutstandingToken.objects.select_for_update(of=("self",))
            .select_related("user__account")
            .filter(jti=old[api_settings.JTI_CLAIM])
            .first()
        )
        user = outstanding.user if outstanding is not None else None
        if user is None or str(user.pk) != str(old.get(api_settings.USER_ID_CLAIM)):
            raise TokenRefused(REFUSED)
        _blacklisted, created = BlacklistedToken.objects.get_or_create(token=outstanding)
        if not created:
            reused_by = user
        else:
            auth_time = int(_claim(old, AUTH_TIME_CLAIM, _claim(old, "iat", 0)))
            if (
                not is_active_member(user)
                or _claim(old, TOKEN_VERSION_CLAIM, 0) != user.token_version
                or timezone.now().timestamp() >= _session_end(auth_time)
            ):
                raise TokenRefused(REFUSED)
            pair = issue_tokens(user, auth_time=auth_time)
            record_audit(
                account=user.member_account, actor=user, action=AuditAction.AUTH_REFRESH, ip_address=ip
            )
    if reused_by is not None:
        if reused_by.account is not None:
            record_audit(
                account=reused_by.account,
                actor=reused_by,
                action=AuditAction.AUTH_REFRESH_REUSED,
                ip_address=ip,
            )
        raise TokenRefused(REFUSED)
    return user, pair


def blacklist_refresh_token(*, raw: str, ip: str | None = None) -> None:
    """Logout: this session's refresh token can no longer be used."""
    token = decode_refresh(raw)
    token.blacklist()
    user = User.objects.select_related("account").filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if user is not None and user.account is not None:
        record_audit(account=user.account, actor=user, action=AuditAction.AUTH_LOGOUT, ip_address=ip)


def revoke_refresh_tokens(user: User) -> None:
    """Blacklists every outstanding refresh token of the user (removal, deactivation)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )

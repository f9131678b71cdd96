"""Sign-up, sign-in, sessions (token issue, refresh, sign-out) and passwords."""

import hashlib
import logging
import secrets
import string
from datetime import datetime

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.text import slugify
from rest_framework.exceptions import Throttled

from creditdesk.accounts import limits, tokens
from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.accounts.services.mail import send_password_reset_mail
from creditdesk.accounts.text import has_control_characters
from creditdesk.billing.models import Plan
from creditdesk.billing.services.grants import grant_signup_credits
from creditdesk.core.errors import ApplicationError, ValidationFailed
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.authentication import is_active_member
from creditdesk.tenancy.roles import Role

logger = logging.getLogger(__name__)


class InvalidCredentials(ApplicationError):
    status_code = 401


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed.on_field("email", "Enter a valid email address.") from exc
    return email


def validate_new_password(password: str, *, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], errors={field: list(exc.messages)}) from exc


def _unique_slug(name: str) -> str:
    """A random suffix on every slug: a sign-up's slug never says that another tenant took the name."""
    base = slugify(name)[:120] or "account"
    alphabet = string.ascii_lowercase + string.digits
    while True:
        candidate = f"{base}-{''.join(secrets.choice(alphabet) for _ in range(6))}"
        if not Account.objects.filter(slug=candidate).exists():
            return candidate


def default_plan() -> Plan:
    plan = Plan.objects.filter(is_default=True, is_active=True).first()
    if plan is None:
        raise ApplicationError("No default plan is configured; run `python manage.py seed_catalog`.")
    return plan


def register_account(
    *,
    email: str,
    password: str,
    account_name: str,
    first_name: str = "",
    last_name: str = "",
    ip: str | None = None,
    at: datetime | None = None,
) -> tuple[User, Account]:
    """Creates the account, its owner and the first credits; `at` backdates them for imported history."""
    email = normalize_email(email)
    account_name = (account_name or "").strip()
    if not account_name:
        raise ValidationFailed.on_field("account_name", "This field may not be blank.")
    if has_control_characters(account_name + first_name + last_name):
        raise ValidationFailed("Control characters such as line breaks are not allowed in names.")
    _ensure_claimable(email)
    validate_new_password(password, user=User(email=email, first_name=first_name, last_name=last_name))
    plan = default_plan()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    name=account_name, slug=_unique_slug(account_name), plan=plan
                )
                user = _claim_or_create_user(
                    email=email,
                    password=password,
                    account=account,
                    first_name=first_name,
                    last_name=last_name,
                )
                grant_signup_credits(account=account, created_by=user, at=at)
                record_audit(
                    account=account,
                    actor=user,
                    action=AuditAction.ACCOUNT_REGISTERED,
                    target=account.slug,
                    ip_address=ip,
                )
                return user, account
        except IntegrityError:
            _ensure_claimable(email)  # a concurrent sign-up took the email (a 400) or the slug (try again)
    raise ApplicationError("Could not allocate a unique account slug; try another account name.")


def _is_claimable(user: User) -> bool:
    """A row nobody can sign in to: no usable password, no active membership, not an operator.

    Invited-then-removed addresses and pending invitees are such rows; registration claims them, so no
    tenant can block an address from the product by inviting it.
    """
    return (
        not user.has_usable_password()
        and not (user.is_active and user.account_id is not None)
        and not (user.is_staff or user.is_superuser)
    )


def _ensure_claimable(email: str) -> None:
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and not _is_claimable(existing):
        raise ValidationFailed.on_field("email", "A user with this email already exists.")


def _claim_or_create_user(
    *, email: str, password: str, account: Account, first_name: str, last_name: str
) -> User:
    existing = User.objects.select_for_update().filter(email__iexact=email).first()
    if existing is None:
        return User.objects.create_user(
            email, password, account=account, role=Role.OWNER, first_name=first_name, last_name=last_name
        )
    if not _is_claimable(existing):
        raise IntegrityError("the address was taken meanwhile")
    Invitation.objects.filter(user=existing, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    existing.account, existing.role, existing.is_active = account, Role.OWNER, True
    existing.first_name, existing.last_name = first_name, last_name
    existing.date_joined = timezone.now()
    existing.set_password(password)
    existing.save()
    return existing


def _login_failures_ident(ip: str | None, email: str) -> str:
    return hash_token(f"{ip or '-'}|{email}")


def login(*, email: str, password: str, ip: str | None = None) -> User:
    """Failures are counted per IP and email: guesses from many addresses never lock the owner out, and a
    correct password from a new IP works unless that IP is itself throttled (LoginIPThrottle)."""
    email = (email or "").strip().lower()
    failures = {
        "scope": "login_failures",
        "ident": _login_failures_ident(ip, email),
        "rate": settings.LOGIN_RATE_LIMIT,
    }
    wait = limits.is_exhausted(**failures)
    if wait is not None:
        raise Throttled(wait=wait)
    user = authenticate(username=email, password=password or "")
    if user is None or not is_active_member(user):
        limits.count_only(**failures)
        _record_failed_login(email=email, ip=ip)
        raise InvalidCredentials("Invalid email or password.")
    limits.reset(**failures)
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    record_audit(
        account=user.member_account,
        actor=user,
        action=AuditAction.AUTH_LOGIN,
        target=user.email,
        ip_address=ip,
    )
    return user


def _record_failed_login(*, email: str, ip: str | None) -> None:
    """On the account the address belongs to; an unknown address only in the log."""
    account_id = User.objects.filter(email__iexact=email).values_list("account_id", flat=True).first()
    if account_id is None:
        logger.info("failed sign-in for an address with no account from %s", ip)
        return
    record_audit(
        account=Account(pk=account_id), action=AuditAction.AUTH_LOGIN_FAILED, target=email, ip_address=ip
    )


# --- Sessions ---------------------------------------------------------------------------------------------


def start_session(*, user: User) -> tokens.TokenPair:
    """A new access/refresh pair for a user who just signed up, signed in or accepted an invitation."""
    return tokens.issue_tokens(user)


def refresh_session(*, raw_refresh: str, ip: str | None = None) -> tokens.TokenPair:
    """Rotates a refresh token (the one sent is blacklisted); a reused, expired or revoked one is a 401."""
    _user, pair = tokens.rotate_refresh_token(raw=raw_refresh, ip=ip)
    return pair


def end_session(*, raw_refresh: str, ip: str | None = None) -> None:
    tokens.blacklist_refresh_token(raw=raw_refresh, ip=ip)


# --- Passwords --------------------------------------------------------------------------------------------
# Every path sets the password through User.set_password, which bumps token_version: each token issued
# before (every session, this one included) is refused on its next request.

_reset_tokens = PasswordResetTokenGenerator()


def change_password(*, user: User, current_password: str, new_password: str, ip: str | None = None) -> User:
    if not user.check_password(current_password or ""):
        raise ValidationFailed.on_field("current_password", "The current password is not correct.")
    validate_new_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "token_version"])
        record_audit(
            account=user.member_account, actor=user, action=AuditAction.AUTH_PASSWORD_CHANGED, ip_address=ip
        )
    return user


def _resettable_user(email: str) -> User | None:
    user = User.objects.select_related("account").filter(email__iexact=email).first()
    if user is None or not user.has_usable_password() or not is_active_member(user):
        return None
    return user


def request_password_reset(*, email: str, ip: str | None = None) -> None:
    """Mails a single-use link valid for PASSWORD_RESET_TIMEOUT seconds; the same answer for any address."""
    try:
        email = normalize_email(email)
    except ValidationFailed:
        return
    try:  # bounds the mail one address receives; the answer stays the same
        limits.count(
            scope="reset_recipient", ident=hash_token(email), rate=settings.PASSWORD_RESET_RATE_LIMIT
        )
    except Throttled:
        return
    user = _resettable_user(email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = _reset_tokens.make_token(user)
    record_audit(
        account=user.member_account,
        actor=user,
        action=AuditAction.AUTH_PASSWORD_RESET_REQUESTED,
        ip_address=ip,
    )
    send_password_reset_mail(user=user, uid=uid, token=token)


def confirm_password_reset(*, uid: str, token: str, password: str, ip: str | None = None) -> User:
    refused = ValidationFailed.on_field("token", "This reset link is invalid, used or expired.")
    try:
        user_id = int(urlsafe_base64_decode(uid or "").decode())
    except (TypeError, ValueError, UnicodeDecodeError) as exc:
        raise refused from exc
    with transaction.atomic():
        user = (
            User.objects.select_for_update(of=("self",)).select_related("account").filter(pk=user_id).first()
        )
        if user is None or not is_active_member(user) or not _reset_tokens.check_token(user, token or ""):
            raise refused
        validate_new_password(password, user=user)
        user.set_password(password)  # changes the hash the reset token was made from: the link dies
        user.save(update_fields=["password", "token_version"])
        record_audit(
            account=user.member_account, actor=user, action=AuditAction.AUTH_PASSWORD_RESET, ip_address=ip
        )
    return user

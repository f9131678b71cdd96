"""Every write of the accounts domain: sign-up, sign-in, settings and the team."""

import hashlib
import logging
import secrets
import string
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.text import slugify
from rest_framework.exceptions import Throttled

from creditdesk.accounts import limits, selectors
from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.accounts.text import has_control_characters, one_line
from creditdesk.accounts.tokens import revoke_refresh_tokens
from creditdesk.billing.models import Plan
from creditdesk.billing.services.grants import grant_signup_credits
from creditdesk.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from creditdesk.events.services import emit
from creditdesk.tenancy.api_keys import note_creator_removed
from creditdesk.tenancy.audit import record_audit
from creditdesk.tenancy.authentication import is_active_member
from creditdesk.tenancy.roles import MANAGERS, Role

logger = logging.getLogger(__name__)

EDITABLE_SETTINGS = (
    "name",
    "billing_email",
    "billing_address_line1",
    "billing_address_line2",
    "billing_city",
    "billing_state",
    "billing_postal_code",
    "billing_country",
    "tax_id",
)


class InvalidCredentials(ApplicationError):
    status_code = 401


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError as exc:
        raise ValidationFailed.on_field("email", "Enter a valid email address.") from exc
    return email


def _check_password(password: str, *, user: User, field: str = "password") -> None:
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
    _check_password(password, user=User(email=email, first_name=first_name, last_name=last_name))
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
                    action="account.registered",
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
    return _hash_token(f"{ip or '-'}|{email}")


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
    record_audit(account=user.account, actor=user, action="auth.login", target=user.email, ip_address=ip)
    return user


def _record_failed_login(*, email: str, ip: str | None) -> None:
    """On the account the address belongs to; an unknown address only in the log."""
    account_id = User.objects.filter(email__iexact=email).values_list("account_id", flat=True).first()
    if account_id is None:
        logger.info("failed sign-in for an address with no account from %s", ip)
        return
    record_audit(account=Account(pk=account_id), action="auth.login_failed", target=email, ip_address=ip)


def update_profile(*, user: User, data: dict[str, Any], ip: str | None = None) -> User:
    """The user's own first and last name (validated by ProfileUpdateSerializer)."""
    if not set(data) <= {"first_name", "last_name"}:
        raise ValueError(f"Not profile fields: {sorted(set(data) - {'first_name', 'last_name'})}")
    changes = {f: {"from": getattr(user, f), "to": v} for f, v in data.items() if getattr(user, f) != v}
    if changes:
        with transaction.atomic():
            for field, value in data.items():
                setattr(user, field, value.strip())
            user.save(update_fields=list(data))
            record_audit(
                account=user.account, actor=user, action="profile.updated", changes=changes, ip_address=ip
            )
    return user


# --- Passwords --------------------------------------------------------------------------------------------
# Every path sets the password through User.set_password, which bumps token_version: each token issued
# before (every session, this one included) is refused on its next request.

_reset_tokens = PasswordResetTokenGenerator()


def change_password(*, user: User, current_password: str, new_password: str, ip: str | None = None) -> User:
    if not user.check_password(current_password or ""):
        raise ValidationFailed.on_field("current_password", "The current password is not correct.")
    _check_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "token_version"])
        record_audit(account=user.account, actor=user, action="auth.password_changed", ip_address=ip)
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
            scope="reset_recipient", ident=_hash_token(email), rate=settings.PASSWORD_RESET_RATE_LIMIT
        )
    except Throttled:
        return
    user = _resettable_user(email)
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = _reset_tokens.make_token(user)
    record_audit(account=user.account, actor=user, action="auth.password_reset_requested", ip_address=ip)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_mail(
        subject="Reset your creditdesk password",
        message=(
            "Someone (hopefully you) asked to reset the password of this address on creditdesk.\n\n"
            f"Choose a new password here (the link works once, for {minutes} minutes):\n"
            f"{settings.SITE_URL}/reset-password?uid={uid}&token={token}\n\n"
            "If it was not you, ignore this mail: nothing changes.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


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
        _check_password(password, user=user)
        user.set_password(password)  # changes the hash the reset token was made from: the link dies
        user.save(update_fields=["password", "token_version"])
        record_audit(account=user.account, actor=user, action="auth.password_reset", ip_address=ip)
    return user


def _lock_account(account: Account) -> Account:
    return Account.objects.select_for_update().select_related("plan").get(pk=account.pk)


def update_account_settings(
    *, account: Account, actor: User, data: dict[str, Any], ip: str | None = None
) -> Account:
    """Applies validated settings; the views' StrictInputSerializer has refused every other field."""
    if not set(data) <= set(EDITABLE_SETTINGS):
        raise ValueError(f"Not editable settings: {sorted(set(data) - set(EDITABLE_SETTINGS))}")
    with transaction.atomic():
        account = _lock_account(account)
        changes = {
            field: {"from": getattr(account, field), "to": value}
            for field, value in data.items()
            if getattr(account, field) != value
        }
        for field, value in data.items():
            setattr(account, field, value)
        account.save()
        if changes:
            record_audit(
                account=account,
                actor=actor,
                action="settings.updated",
                target=account.slug,
                changes=changes,
                ip_address=ip,
            )
    return account


# --- Team -------------------------------------------------------------------------------------------------


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ensure_may_grant(actor: User, role: str) -> None:
    if role in MANAGERS and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner may grant the owner or admin role.")


def _lock_member(account: Account, member_id: Any) -> User:
    try:
        return User.objects.select_for_update().filter(account=account).get(pk=int(member_id))
    except (User.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound("No such team member.") from exc


def _is_invitee(user: User) -> bool:
    """Invited to an account and not joined yet."""
    return not user.is_active and not user.has_usable_password()


def _seats_taken(account: Account) -> int:
    """Members who joined, plus unexpired pending invitations (neutral ones too: they look the same)."""
    return (
        selectors.team_member_list(account=account).count()
        + selectors.pending_invitation_list(account=account).filter(expires_at__gt=timezone.now()).count()
    )


def _ensure_a_seat_is_free(account: Account) -> None:
    if _seats_taken(account) >= account.plan.max_users:
        raise ValidationFailed.on_field(
            "email",
            f"The {account.plan.name} plan allows {account.plan.max_users} members; all seats are taken.",
        )


def _may_take_over_for_invitation(user: User, account: Account) -> bool:
    """This account's own invitee, or a removed member; never another account's user or an operator."""
    if user.is_staff or user.is_superuser:
        return False
    return user.account_id is None or (user.account_id == account.pk and _is_invitee(user))


def _count_invitation(account: Account, email: str) -> None:
    """Ten invite/remove rounds must not mail one address ten times (with a name the inviter chose)."""
    limits.count(scope="invite_account", ident=str(account.pk), rate=settings.INVITATION_ACCOUNT_RATE_LIMIT)
    limits.count(
        scope="invite_recipient",
        ident=_hash_token(email),
        rate=settings.INVITATION_RECIPIENT_RATE_LIMIT,
    )


def _new_invitation_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash_token(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    return token


def invite_member(
    *,
    account: Account,
    inviter: User,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = Role.MEMBER,
    ip: str | None = None,
    send_email: bool = True,
) -> tuple[Invitation, str]:
    """Invites an address and mails it a single-use link; returns the pending invitation and the token.

    An address that belongs to another account's member or to staff gets the same answer, and the same
    seat, as a fresh one, but no user row is touched and nothing is mailed: whether an address is a
    customer or an operator never leaks to a tenant.
    """
    email = normalize_email(email)
    if role not in Role.values:
        raise ValidationFailed.on_field("role", f"Role must be one of {', '.join(Role.values)}.")
    _ensure_may_grant(inviter, role)
    with transaction.atomic():
        account = _lock_account(account)  # serializes invitations: the seat count cannot be overrun
        existing = User.objects.select_for_update().filter(email__iexact=email).first()
        if existing is not None and existing.account_id == account.pk and not _is_invitee(existing):
            raise ValidationFailed.on_field(
                "email", "This email already belongs to a member of this account."
            )
        pending = selectors.pending_invitation_list(account=account).filter(email=email)
        if pending.filter(expires_at__gt=timezone.now()).exists():
            raise ValidationFailed.on_field(
                "email", "This email already has a pending invitation: resend or revoke it."
            )
        _ensure_a_seat_is_free(account)
        _count_invitation(account, email)
        pending.update(revoked_at=timezone.now())  # an expired one is replaced, not left beside
        member = None
        if existing is None or _may_take_over_for_invitation(existing, account):
            member = existing or User(email=email)
            member.account, member.role, member.is_active = account, role, False
            member.first_name = first_name or member.first_name
            member.last_name = last_name or member.last_name
            member.set_unusable_password()
            member.save()
        invitation = Invitation(account=account, user=member, email=email, role=role, invited_by=inviter)
        token = _new_invitation_token(invitation)
        invitation.save()
        record_audit(
            account=account,
            actor=inviter,
            action="team.invited",
            target=email,
            changes={"role": role},
            ip_address=ip,
        )
        # send_email=False is for the demo seeder, which accepts the invitation at once itself.
        if member is not None and send_email:
            invited = member
            transaction.on_commit(
                lambda: _send_invitation(member=invited, account=account, inviter=inviter, token=token)
            )
    return invitation, token


def _lock_pending_invitation(account: Account, invitation_id: Any) -> Invitation:
    try:
        return (
            selectors.pending_invitation_list(account=account)
            .select_for_update(of=("self",))
            .get(pk=int(invitation_id))
        )
    except (Invitation.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound("No such pending invitation.") from exc


def resend_invitation(
    *, account: Account, actor: User, invitation_id: Any, ip: str | None = None
) -> Invitation:
    """Mails a new link (the old one dies) valid for INVITATION_TTL_DAYS from now."""
    with transaction.atomic():
        account = _lock_account(account)
        invitation = _lock_pending_invitation(account, invitation_id)
        _ensure_may_grant(actor, invitation.role)
        if not invitation.is_usable():
            _ensure_a_seat_is_free(account)  # an expired invitation held no seat
        _count_invitation(account, invitation.email)
        token = _new_invitation_token(invitation)
        invitation.save(update_fields=["token_hash", "expires_at", "updated_at"])
        record_audit(
            account=account,
            actor=actor,
            action="team.invitation_resent",
            target=invitation.email,
            ip_address=ip,
        )
        member = invitation.user
        if member is not None and member.account_id == account.pk:
            transaction.on_commit(
                lambda: _send_invitation(member=member, account=account, inviter=actor, token=token)
            )
    return invitation


def revoke_invitation(*, account: Account, actor: User, invitation_id: Any, ip: str | None = None) -> None:
    """Kills the link and frees the seat; an invitee who never joined is detached from the account."""
    with transaction.atomic():
        account = _lock_account(account)
        invitation = _lock_pending_invitation(account, invitation_id)
        _ensure_may_grant(actor, invitation.role)
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
        member = invitation.user
        if member is not None and member.account_id == account.pk and _is_invitee(member):
            member.account, member.role = None, Role.MEMBER
            member.save(update_fields=["account", "role"])
        record_audit(
            account=account,
            actor=actor,
            action="team.invitation_revoked",
            target=invitation.email,
            ip_address=ip,
        )


def _send_invitation(*, member: User, account: Account, inviter: User, token: str) -> None:
    link = f"{settings.SITE_URL}/accept-invitation?token={token}"
    send_mail(
        subject=f"You are invited to {one_line(account.name)} on creditdesk",
        message=(
            f"{inviter.email} invited you to join {one_line(account.name)} on creditdesk.\n\n"
            f"Accept the invitation and choose your password here (valid for {settings.INVITATION_TTL_DAYS} days):\n"
            f"{link}\n"
        ),
        from_email=None,
        recipient_list=[member.email],
    )


def lookup_invitation(*, token: str) -> dict[str, Any]:
    """What the invitation page shows before the invitee chooses a password. Only the token's holder
    learns anything: a wrong, used, revoked or expired token is the same 404."""
    invitation = selectors.invitation_by_token(token_hash=_hash_token(token or ""))
    if invitation is None:
        raise NotFound("This invitation is invalid, used or expired.")
    inviter = invitation.invited_by
    inviter_name = " ".join(p for p in [inviter.first_name, inviter.last_name] if p) if inviter else ""
    return {
        "account_name": invitation.account.name,
        "invited_by": inviter_name or (inviter.email if inviter else ""),
        "email": invitation.email,
        "role": invitation.role,
        "expires_at": invitation.expires_at,
    }


def accept_invitation(
    *, token: str, password: str, first_name: str = "", last_name: str = "", ip: str | None = None
) -> User:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("user", "account")
            .filter(token_hash=_hash_token(token or ""))
            .first()
        )
        if (
            invitation is None
            or invitation.user is None
            or not invitation.is_usable()
            or invitation.user.account_id != invitation.account_id
        ):
            raise ValidationFailed.on_field("token", "This invitation is invalid, used or expired.")
        member = invitation.user
        if first_name:
            member.first_name = first_name
        if last_name:
            member.last_name = last_name
        _check_password(password, user=member)
        member.set_password(password)
        member.is_active = True
        member.save()
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        record_audit(
            account=invitation.account,
            actor=member,
            action="team.invitation_accepted",
            target=member.email,
            ip_address=ip,
        )
    return member


def _ensure_another_owner_remains(account: Account, leaving: User) -> None:
    others = User.objects.filter(account=account, role=Role.OWNER, is_active=True).exclude(pk=leaving.pk)
    if leaving.role == Role.OWNER and not others.exists():
        raise ValidationFailed("The account's last owner cannot be removed or demoted.")


def change_member_role(
    *, account: Account, actor: User, member_id: Any, role: str, ip: str | None = None
) -> User:
    if role not in Role.values:
        raise ValidationFailed.on_field("role", f"Role must be one of {', '.join(Role.values)}.")
    with transaction.atomic():
        _lock_account(account)
        member = _lock_member(account, member_id)
        _ensure_may_grant(actor, role)
        if member.role in MANAGERS and actor.role != Role.OWNER:
            raise PermissionDenied("Only an owner may change the role of an owner or admin.")
        if role != Role.OWNER:
            _ensure_another_owner_remains(account, member)
        if member.role != role:
            record_audit(
                account=account,
                actor=actor,
                action="team.role_changed",
                target=member.email,
                changes={"role": {"from": member.role, "to": role}},
                ip_address=ip,
            )
            member.role = role
            member.save(update_fields=["role"])
    return member


def remove_member(*, account: Account, actor: User, member_id: Any, ip: str | None = None) -> None:
    with transaction.atomic():
        _lock_account(account)
        member = _lock_member(account, member_id)
        if member.pk == actor.pk:
            raise ValidationFailed("You cannot remove yourself from the account.")
        if member.role in MANAGERS and actor.role != Role.OWNER:
            # the demotion rule: only an owner changes (or ends) another manager's membership
            raise PermissionDenied("Only an owner may remove an owner or admin.")
        _ensure_another_owner_remains(account, member)
        member.account, member.is_active, member.role = None, False, Role.MEMBER
        member.save(update_fields=["account", "is_active", "role"])
        Invitation.objects.filter(user=member, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        revoke_refresh_tokens(member)
        record_audit(account=account, actor=actor, action="team.removed", target=member.email, ip_address=ip)
        emit(
            account=account,
            type="member.removed",
            data={"user_id": member.pk, "email": member.email, "removed_by": actor.email},
        )
        note_creator_removed(account=account, member=member, actor=actor, ip=ip)

"""The team: invitations (invite, resend, revoke, accept), roles and removal."""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from creditdesk.accounts import limits, selectors
from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.accounts.services.auth import hash_token, normalize_email, validate_new_password
from creditdesk.accounts.services.mail import send_invitation_mail
from creditdesk.accounts.services.settings import lock_account
from creditdesk.accounts.tokens import revoke_refresh_tokens
from creditdesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from creditdesk.events.services import emit
from creditdesk.tenancy.api_keys import note_creator_removed
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.roles import MANAGERS, Role


def _ensure_may_grant(actor: User, role: str) -> None:
    if role in MANAGERS and actor.role != Role.OWNER:
        raise PermissionDenied("Only an owner may grant the owner or admin role.")


def _lock_member(account: Account, member_id: int) -> User:
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
        ident=hash_token(email),
        rate=settings.INVITATION_RECIPIENT_RATE_LIMIT,
    )


def _new_invitation_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
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
        account = lock_account(account)  # serializes invitations: the seat count cannot be overrun
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
            action=AuditAction.TEAM_INVITED,
            target=email,
            changes={"role": role},
            ip_address=ip,
        )
        # send_email=False is for the demo seeder, which accepts the invitation at once itself.
        if member is not None and send_email:
            invited = member
            transaction.on_commit(
                lambda: send_invitation_mail(member=invited, account=account, inviter=inviter, token=token)
            )
    return invitation, token


def _lock_pending_invitation(account: Account, invitation_id: int) -> Invitation:
    try:
        return (
            selectors.pending_invitation_list(account=account)
            .select_for_update(of=("self",))
            .get(pk=int(invitation_id))
        )
    except (Invitation.DoesNotExist, TypeError, ValueError) as exc:
        raise NotFound("No such pending invitation.") from exc


def resend_invitation(
    *, account: Account, actor: User, invitation_id: int, ip: str | None = None
) -> Invitation:
    """Mails a new link (the old one dies) valid for INVITATION_TTL_DAYS from now."""
    with transaction.atomic():
        account = lock_account(account)
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
            action=AuditAction.TEAM_INVITATION_RESENT,
            target=invitation.email,
            ip_address=ip,
        )
        member = invitation.user
        if member is not None and member.account_id == account.pk:
            transaction.on_commit(
                lambda: send_invitation_mail(member=member, account=account, inviter=actor, token=token)
            )
    return invitation


def revoke_invitation(*, account: Account, actor: User, invitation_id: int, ip: str | None = None) -> None:
    """Kills the link and frees the seat; an invitee who never joined is detached from the account."""
    with transaction.atomic():
        account = lock_account(account)
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
            action=AuditAction.TEAM_INVITATION_REVOKED,
            target=invitation.email,
            ip_address=ip,
        )


def lookup_invitation(*, token: str) -> dict[str, Any]:
    """What the invitation page shows before the invitee chooses a password. Only the token's holder
    learns anything: a wrong, used, revoked or expired token is the same 404."""
    invitation = selectors.invitation_by_token(token_hash=hash_token(token or ""))
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
            .filter(token_hash=hash_token(token or ""))
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
        validate_new_password(password, user=member)
        member.set_password(password)
        member.is_active = True
        member.save()
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        record_audit(
            account=invitation.account,
            actor=member,
            action=AuditAction.TEAM_INVITATION_ACCEPTED,
            target=member.email,
            ip_address=ip,
        )
    return member


def _ensure_another_owner_remains(account: Account, leaving: User) -> None:
    others = User.objects.filter(account=account, role=Role.OWNER, is_active=True).exclude(pk=leaving.pk)
    if leaving.role == Role.OWNER and not others.exists():
        raise ValidationFailed("The account's last owner cannot be removed or demoted.")


def change_member_role(
    *, account: Account, actor: User, member_id: int, role: str, ip: str | None = None
) -> User:
    if role not in Role.values:
        raise ValidationFailed.on_field("role", f"Role must be one of {', '.join(Role.values)}.")
    with transaction.atomic():
        lock_account(account)
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
                action=AuditAction.TEAM_ROLE_CHANGED,
                target=member.email,
                changes={"role": {"from": member.role, "to": role}},
                ip_address=ip,
            )
            member.role = role
            member.save(update_fields=["role"])
    return member


def remove_member(*, account: Account, actor: User, member_id: int, ip: str | None = None) -> None:
    with transaction.atomic():
        lock_account(account)
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
        record_audit(
            account=account, actor=actor, action=AuditAction.TEAM_REMOVED, target=member.email, ip_address=ip
        )
        emit(
            account=account,
            type="member.removed",
            data={"user_id": member.pk, "email": member.email, "removed_by": actor.email},
        )
        note_creator_removed(account=account, member=member, actor=actor, ip=ip)

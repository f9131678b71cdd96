from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import QuerySet
from django.utils import timezone

from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.tenancy.models import AuditLog


def team_member_list(*, account: Account) -> QuerySet[User]:
    """Members who joined; pending invitees are listed by pending_invitation_list."""
    return (
        User.objects.filter(account=account)
        .exclude(is_active=False, password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .order_by("date_joined", "id")
    )


def audit_log_list(*, account: Account) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(account=account).order_by("-created_at", "-id")


def pending_invitation_list(*, account: Account) -> QuerySet[Invitation]:
    """Neither accepted nor revoked, expired ones included (the list shows them as expired)."""
    return (
        Invitation.objects.filter(account=account, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by", "user")
        .order_by("-created_at", "-id")
    )


def invitation_by_token(*, token_hash: str) -> Invitation | None:
    """A usable invitation (not accepted, revoked or expired) that can still be accepted: it has a member
    row, and that member still belongs to the inviting account."""
    invitation = (
        Invitation.objects.select_related("account", "user", "invited_by")
        .filter(
            token_hash=token_hash,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if invitation is None or invitation.user is None or invitation.user.account_id != invitation.account_id:
        return None
    return invitation

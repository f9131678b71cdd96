"""The accounts domain's mail: invitations and password resets (bodies in templates/accounts/mail/)."""

from django.conf import settings

from creditdesk.accounts.models import Account, User
from creditdesk.accounts.text import one_line
from creditdesk.core.mail import send_templated_mail

PASSWORD_RESET_SUBJECT = "Reset your creditdesk password"


def send_invitation_mail(*, member: User, account: Account, inviter: User, token: str) -> None:
    account_name = one_line(account.name)
    send_templated_mail(
        subject=f"You are invited to {account_name} on creditdesk",
        template="accounts/mail/invitation.txt",
        context={
            "inviter_email": inviter.email,
            "account_name": account_name,
            "ttl_days": settings.INVITATION_TTL_DAYS,
            "link": f"{settings.SITE_URL}/accept-invitation?token={token}",
        },
        recipients=[member.email],
    )


def send_password_reset_mail(*, user: User, uid: str, token: str) -> None:
    send_templated_mail(
        subject=PASSWORD_RESET_SUBJECT,
        template="accounts/mail/password_reset.txt",
        context={
            "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "link": f"{settings.SITE_URL}/reset-password?uid={uid}&token={token}",
        },
        recipients=[user.email],
    )

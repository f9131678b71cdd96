"""Account settings and the user's own profile."""

from typing import Any

from django.db import transaction

from creditdesk.accounts.models import Account, User
from creditdesk.tenancy.audit import AuditAction, record_audit

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
                account=user.member_account,
                actor=user,
                action=AuditAction.PROFILE_UPDATED,
                changes=changes,
                ip_address=ip,
            )
    return user


def lock_account(account: Account) -> Account:
    return Account.objects.select_for_update().select_related("plan").get(pk=account.pk)


def update_account_settings(
    *, account: Account, actor: User, data: dict[str, Any], ip: str | None = None
) -> Account:
    """Applies validated settings; the views' StrictInputSerializer has refused every other field."""
    if not set(data) <= set(EDITABLE_SETTINGS):
        raise ValueError(f"Not editable settings: {sorted(set(data) - set(EDITABLE_SETTINGS))}")
    with transaction.atomic():
        account = lock_account(account)
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
                action=AuditAction.SETTINGS_UPDATED,
                target=account.slug,
                changes=changes,
                ip_address=ip,
            )
    return account

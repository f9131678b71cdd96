"""Balance alerts: `balance.low` when a change takes the balance from above the account's threshold to at
or below it, `balance.depleted` when it reaches zero. Each is emitted once per crossing: the ledger calls
`note_balance_change` with the exact balance before and after each change (taken under the balance's row
lock), so of many parallel deductions exactly one crosses, and a balance that stays low does not alert
again until it has been above the threshold.

It runs on every balance change, so it compares integers already on the account and touches the database
only when something crossed.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from creditdesk.billing.models import CreditExpiryNotice, CreditGrant, NotificationSettings
from creditdesk.events.services import emit

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

EMAIL_SWITCHES = {
    "balance.low": "email_low_balance",
    "balance.depleted": "email_depleted",
    "credits.expiring": "email_expiring",
}


def note_balance_change(*, account: "Account", before: int, after: int) -> None:
    if after >= before:
        return
    threshold = account.low_balance_threshold
    if threshold and after <= threshold < before:
        _alert(account=account, type="balance.low", data={"balance": after, "threshold": threshold})
    if after == 0:
        _alert(account=account, type="balance.depleted", data={"balance": 0})


def _alert(*, account: "Account", type: str, data: dict[str, Any]) -> None:
    emit(account=account, type=type, data=data)
    account_id = account.pk
    transaction.on_commit(lambda: _enqueue_mail(account_id=account_id, type=type, data=data), robust=True)


def _enqueue_mail(*, account_id: int, type: str, data: dict[str, Any]) -> None:
    from creditdesk.billing.tasks import mail_balance_alert

    mail_balance_alert.enqueue(account_id=account_id, event_type=type, data=data)


def settings_of(*, account: "Account") -> NotificationSettings:
    found = NotificationSettings.objects.filter(account_id=account.pk).first()
    return found or NotificationSettings(account_id=account.pk)


def update_notification_settings(*, account: "Account", **changes: Any) -> NotificationSettings:
    with transaction.atomic():
        if "low_balance_threshold" in changes:
            account.low_balance_threshold = changes.pop("low_balance_threshold")
            type(account).objects.filter(pk=account.pk).update(
                low_balance_threshold=account.low_balance_threshold
            )
        current, _ = NotificationSettings.objects.select_for_update().get_or_create(account_id=account.pk)
        for field, value in changes.items():
            setattr(current, field, value)
        current.save()
    return current


def _subject_and_body(*, account: "Account", type: str, data: dict[str, Any]) -> tuple[str, str]:
    buy = f"{settings.SITE_URL}/billing/purchase"
    if type == "balance.low":
        return (
            f"{account.name}: low credit balance ({data['balance']} credits)",
            f"The credit balance of {account.name} fell to {data['balance']} credits, at or below your "
            f"alert threshold of {data['threshold']}.\n\nBuy credits: {buy}\n",
        )
    if type == "balance.depleted":
        return (
            f"{account.name}: no credits left",
            f"The credit balance of {account.name} reached zero: operations are refused until credits "
            f"are added.\n\nBuy credits: {buy}\n",
        )
    return (
        f"{account.name}: {data.get('amount')} credits expire soon",
        f"{data.get('amount')} credits of {account.name} expire on {data.get('expires_at')}.\n",
    )


def mail_alert(*, account: "Account", type: str, data: dict[str, Any]) -> bool:
    """Mails the owners and the billing email, unless the account turned this alert off."""
    from creditdesk.billing.services.payments import receipt_recipients

    if not getattr(settings_of(account=account), EMAIL_SWITCHES[type]):
        return False
    recipients = receipt_recipients(account=account)
    if not recipients:
        return False
    subject, body = _subject_and_body(account=account, type=type, data=data)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
    return True


MAX_NOTICE_DAYS = 90


def notify_expiring_credits(*, now: datetime | None = None) -> int:
    """Emits `credits.expiring` (and mails it, unless turned off) once for each grant with credits left
    that expires within its account's notice period; returns how many went out."""
    now = now or timezone.now()
    candidates = (
        CreditGrant.objects.filter(
            expired_at__isnull=True,
            remaining__gt=0,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=MAX_NOTICE_DAYS),
        )
        .exclude(pk__in=CreditExpiryNotice.objects.values("grant_id"))
        .select_related("account")
        .order_by("expires_at")
    )
    notice_days: dict[int, int] = {}
    sent = 0
    for grant in candidates:
        account = grant.account
        if account.pk not in notice_days:
            notice_days[account.pk] = settings_of(account=account).expiring_notice_days
        if grant.expires_at is None or grant.expires_at > now + timedelta(days=notice_days[account.pk]):
            continue
        with transaction.atomic():
            _, created = CreditExpiryNotice.objects.get_or_create(grant=grant)
            if not created:
                continue
            _alert(
                account=account,
                type="credits.expiring",
                data={
                    "grant_id": grant.pk,
                    "amount": grant.remaining,
                    "source": grant.source,
                    "expires_at": grant.expires_at.isoformat(),
                },
            )
        sent += 1
    return sent

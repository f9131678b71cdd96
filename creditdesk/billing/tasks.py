"""Billing's background and periodic work (scheduled by events.scheduling; see README "Background work")."""

from datetime import timedelta

from django.apps import apps
from django_tasks import task

from creditdesk.billing.services.alerts import mail_alert, notify_expiring_credits
from creditdesk.billing.services.grants import expire_credits
from creditdesk.billing.services.holds import release_expired_holds
from creditdesk.billing.services.payments import abandon_unstarted_purchases, expire_bank_transfers
from creditdesk.billing.services.subscriptions import grant_monthly_credits
from creditdesk.events.scheduling import register_periodic


@task()
def grant_monthly_credits_task() -> int:
    return grant_monthly_credits().granted


@task()
def expire_bank_transfers_task() -> int:
    return expire_bank_transfers()


register_periodic(
    name="billing.grant_monthly_credits", every=timedelta(hours=1), task=grant_monthly_credits_task
)
register_periodic(
    name="billing.expire_bank_transfers", every=timedelta(hours=1), task=expire_bank_transfers_task
)


@task()
def abandon_unstarted_purchases_task() -> int:
    return abandon_unstarted_purchases()


register_periodic(
    name="billing.abandon_unstarted_purchases",
    every=timedelta(minutes=5),
    task=abandon_unstarted_purchases_task,
)


@task()
def expire_credits_task() -> int:
    return expire_credits().credits


@task()
def notify_expiring_credits_task() -> int:
    return notify_expiring_credits()


@task()
def release_expired_holds_task() -> int:
    return release_expired_holds()


register_periodic(name="billing.expire_credits", every=timedelta(minutes=1), task=expire_credits_task)
register_periodic(
    name="billing.release_expired_holds", every=timedelta(minutes=1), task=release_expired_holds_task
)
register_periodic(
    name="billing.notify_expiring_credits", every=timedelta(hours=1), task=notify_expiring_credits_task
)


@task()
def mail_balance_alert(*, account_id: int, event_type: str, data: dict) -> bool:
    account = apps.get_model("accounts", "Account").objects.filter(pk=account_id).first()
    return account is not None and mail_alert(account=account, type=event_type, data=data)


@task()
def charge_auto_top_up(*, attempt_id: int) -> str:
    from creditdesk.billing.services.topup import charge_attempt

    return charge_attempt(attempt_id=attempt_id)


@task()
def mail_auto_top_up_failed(*, account_id: int, attempt_id: int) -> bool:
    from creditdesk.billing.services.topup import mail_failure

    return mail_failure(attempt_id=attempt_id)


@task()
def charge_stale_auto_top_ups_task() -> int:
    from creditdesk.billing.services.topup import charge_stale_attempts

    return charge_stale_attempts()


register_periodic(
    name="billing.charge_stale_auto_top_ups", every=timedelta(minutes=5), task=charge_stale_auto_top_ups_task
)


@task()
def reconcile_auto_top_ups_task() -> int:
    from creditdesk.billing.services.topup import reconcile_charging_attempts

    return reconcile_charging_attempts()


register_periodic(
    name="billing.reconcile_auto_top_ups", every=timedelta(minutes=5), task=reconcile_auto_top_ups_task
)

"""Background tasks of the events app (django-tasks; the database backend in production and `make run`)."""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from creditdesk.core.idempotency import purge_expired_keys
from creditdesk.events import services
from creditdesk.events.scheduling import register_periodic


@task()
def deliver_event(*, event_id: str) -> int:
    """Enqueued when an event's transaction commits: the first attempt at each of its deliveries."""
    return services.deliver_event_now(event_id=event_id)


@task()
def deliver_due_webhooks() -> int:
    """Retries that came due, and deliveries whose first task was lost or whose worker died."""
    return services.deliver_due()


@task()
def purge_idempotency_keys() -> int:
    return purge_expired_keys()


register_periodic(
    name="events.deliver_due_webhooks",
    every=timedelta(seconds=settings.WEBHOOK_RETRY_SWEEP_SECONDS),
    task=deliver_due_webhooks,
)
register_periodic(name="core.purge_idempotency_keys", every=timedelta(hours=24), task=purge_idempotency_keys)

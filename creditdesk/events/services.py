"""Writes of the events app: emitting events, managing endpoints, and delivering.

`emit` is called by billing and accounts inside the transaction that makes the change: the event and
one Delivery per interested endpoint are written with it (so a rolled-back change leaves no event), and
the delivery task is enqueued only once that transaction commits.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from requests.adapters import HTTPAdapter

from creditdesk.core.errors import ValidationFailed
from creditdesk.events import catalogue, signing
from creditdesk.events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from creditdesk.events.urls_policy import Destination, UnsafeURL, check_delivery_url, check_endpoint_url
from creditdesk.tenancy.roles import Role

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account

logger = logging.getLogger(__name__)

# Retries after the first attempt: 30 s, 2 min, 8 min, 32 min, ~2 h, ~8.5 h, then daily (with the default
# WEBHOOK_FIRST_RETRY_SECONDS); ten attempts span about three and a half days before a delivery gives up.
MAX_ATTEMPTS = 10
BACKOFF_FACTOR = 4
MAX_RETRY_DELAY = timedelta(hours=24)
ERROR_TEXT_LIMIT = 255


def retry_delay(*, attempt: int) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based) before the next one."""
    delay = timedelta(seconds=settings.WEBHOOK_FIRST_RETRY_SECONDS * BACKOFF_FACTOR ** (attempt - 1))
    return min(delay, MAX_RETRY_DELAY)


def retry_schedule() -> list[timedelta]:
    return [retry_delay(attempt=n) for n in range(1, MAX_ATTEMPTS)]


# --- Emitting --------------------------------------------------------------------------------------------


def _enqueue_delivery(event_id: str) -> None:
    from creditdesk.events.tasks import deliver_event

    try:
        deliver_event.enqueue(event_id=event_id)
    except Exception:  # the sweeper delivers it anyway; a queue hiccup must not fail the committed change
        logger.exception("could not enqueue delivery of event %s", event_id)


def _fan_out(*, event: Event, endpoints: list[WebhookEndpoint]) -> list[Delivery]:
    now = timezone.now()
    return Delivery.objects.bulk_create(
        [Delivery(event=event, endpoint=endpoint, next_attempt_at=now) for endpoint in endpoints]
    )


def emit(*, account: "Account", type: str, data: dict[str, Any] | None = None) -> Event:
    """Records an event in the caller's transaction and delivers it to every interested endpoint after
    the transaction commits (nothing is sent for a change that rolls back)."""
    if not catalogue.is_known(type):
        raise ValueError(f"Unknown event type {type!r}; add it to events.catalogue first.")
    event = Event.objects.create(account_id=account.pk, type=type, data=data or {})
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            Q(account_id=account.pk) | Q(account__isnull=True), is_enabled=True
        )
        if endpoint.wants(type)
    ]
    if endpoints:
        _fan_out(event=event, endpoints=endpoints)
        transaction.on_commit(lambda: _enqueue_delivery(str(event.pk)))
    return event


# --- Endpoints ------------------------------------------------------------------------------------------


def _clean_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - set(catalogue.EVENT_TYPES))
    if unknown:
        raise ValidationFailed.on_field("event_types", f"Unknown event types: {', '.join(unknown)}.")
    return sorted(set(event_types))


def _clean_url(url: str) -> str:
    try:
        check_endpoint_url(url)
    except UnsafeURL as exc:
        raise ValidationFailed.on_field("url", str(exc)) from exc
    return url


def create_endpoint(
    *, account: "Account", url: str, description: str = "", event_types: list[str] | None = None
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        account=account,
        url=_clean_url(url),
        description=description,
        event_types=_clean_event_types(event_types or []),
        secret=signing.new_secret(),
    )


def update_endpoint(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    if "url" in changes:
        endpoint.url = _clean_url(changes["url"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "event_types" in changes:
        endpoint.event_types = _clean_event_types(changes["event_types"])
    if "is_enabled" in changes:
        endpoint.is_enabled = bool(changes["is_enabled"])
        if endpoint.is_enabled:
            # Turned back on by a person: the failure streak that disabled it starts over.
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = signing.new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint


def send_test_event(*, endpoint: WebhookEndpoint) -> Delivery:
    """A `webhook.test` event delivered to this endpoint only (even when it does not subscribe to it)."""
    if endpoint.account_id is None:
        raise ValueError("Test events go to an account's endpoint; a platform endpoint has no account.")
    with transaction.atomic():
        event = Event.objects.create(
            account_id=endpoint.account_id,
            type="webhook.test",
            data={"message": "This is a test event from creditdesk.", "endpoint_id": endpoint.pk},
        )
        (delivery,) = _fan_out(event=event, endpoints=[endpoint])
        transaction.on_commit(lambda: _enqueue_delivery(str(event.pk)))
    return delivery


def resend_delivery(*, delivery: Delivery) -> Delivery:
    """Sends the delivery's event to its endpoint again, as a new delivery with a fresh retry budget
    (the same webhook-id, so a receiver that keeps ids sees a duplicate, not a new event)."""
    with transaction.atomic():
        (again,) = _fan_out(event=delivery.event, endpoints=[delivery.endpoint])
        transaction.on_commit(lambda: _enqueue_delivery(str(delivery.event_id)))
    return again


# --- Delivering -----------------------------------------------------------------------------------------


def payload_of(event: Event) -> str:
    return json.dumps(
        {
            "id": str(event.pk),
            "type": event.type,
            "timestamp": event.created_at.isoformat(),
            "account_id": event.account_id,
            "data": event.data,
        },
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    duration_ms: int
    error: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _claim(*, delivery_id: int, now: datetime) -> bool:
    """Takes the delivery for one attempt unless it is done, not due, or held by another worker."""
    # Longer than one attempt can take (connect and read each get the timeout), so a live worker keeps it.
    lease = timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT_SECONDS + 5)
    return bool(
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + lease, attempts=F("attempts") + 1)
    )


class _PinnedTLSAdapter(HTTPAdapter):
    """Connects to the checked address while TLS still names, and verifies, the endpoint's host."""

    def __init__(self, host: str) -> None:
        self._host = host
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, server_hostname=self._host, assert_hostname=self._host, **kwargs)


def _session_for(destination: Destination) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would resolve the name itself
    if destination.pinned:
        session.mount("https://", _PinnedTLSAdapter(destination.host))
    return session


def _post(*, delivery: Delivery) -> AttemptResult:
    body = payload_of(delivery.event)
    headers = {
        "content-type": "application/json",
        "user-agent": "creditdesk-webhooks/1",
        **signing.signed_headers(
            secret=delivery.endpoint.secret,
            message_id=f"msg_{delivery.event_id.hex}",
            timestamp=timezone.now(),
            body=body,
        ),
    }
    started = time.monotonic()
    try:
        destination = check_delivery_url(delivery.endpoint.url)
        with _session_for(destination) as session:
            response = session.post(
                destination.url,
                data=body.encode(),
                headers=headers
                | ({"host": urlsplit(delivery.endpoint.url).netloc} if destination.pinned else {}),
                timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            status_code, error = response.status_code, ""
            response.close()
    except UnsafeURL as exc:
        status_code, error = None, str(exc)
    except requests.Timeout:
        status_code, error = None, "timed out"
    except requests.RequestException as exc:
        status_code, error = None, f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    return AttemptResult(status_code=status_code, duration_ms=duration_ms, error=error[:ERROR_TEXT_LIMIT])


def _note_endpoint_failure(*, endpoint_id: int, gave_up: bool) -> None:
    failures = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    # Disabled after `failures` failed attempts in a row, or when a delivery gives up after days in which
    # no attempt to this endpoint succeeded (a quiet endpoint never reaches `failures`).
    disabled = WebhookEndpoint.objects.filter(pk=endpoint_id, is_enabled=True).filter(
        consecutive_failures__gte=min(failures, MAX_ATTEMPTS) if gave_up else failures
    )
    reason = (
        "Disabled after a delivery failed for days."
        if gave_up
        else f"Disabled after {failures} failed attempts."
    )
    if disabled.update(is_enabled=False, disabled_reason=reason):
        transaction.on_commit(lambda: _mail_endpoint_disabled(endpoint_id=endpoint_id))


def _record(*, delivery: Delivery, result: AttemptResult, now: datetime) -> None:
    gave_up = False
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error,
        )
        fields: dict[str, Any] = {
            "locked_until": None,
            "last_status_code": result.status_code,
            "last_error": result.error,
        }
        if result.succeeded:
            fields.update(status=Delivery.Status.SUCCEEDED, delivered_at=now, next_attempt_at=None)
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(consecutive_failures=0)
        elif gave_up := delivery.attempts >= MAX_ATTEMPTS:
            fields.update(status=Delivery.Status.FAILED, next_attempt_at=None)
        else:
            fields.update(next_attempt_at=now + retry_delay(attempt=delivery.attempts))
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
        if not result.succeeded:
            _note_endpoint_failure(endpoint_id=delivery.endpoint_id, gave_up=gave_up)


def attempt_delivery(*, delivery_id: int, now: datetime | None = None) -> AttemptResult | None:
    """One attempt at one delivery, if it is due and nobody else holds it; None when skipped."""
    now = now or timezone.now()
    if not _claim(delivery_id=delivery_id, now=now):
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_enabled and delivery.event.type != "webhook.test":
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED,
            locked_until=None,
            next_attempt_at=None,
            last_error="endpoint disabled",
        )
        return None
    result = _post(delivery=delivery)
    _record(delivery=delivery, result=result, now=now + timedelta(milliseconds=result.duration_ms))
    return result


def deliver_event_now(*, event_id: str) -> int:
    """Attempts every due delivery of one event (the task run right after the event commits)."""
    ids = list(
        Delivery.objects.filter(event_id=event_id, status=Delivery.Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    return sum(1 for pk in ids if attempt_delivery(delivery_id=pk) is not None)


def deliver_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Attempts deliveries that are due and not held: retries, and any whose task was lost (a worker
    killed mid-delivery leaves a lease that runs out, and the delivery is tried again)."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if attempt_delivery(delivery_id=pk, now=now) is not None)


def _mail_endpoint_disabled(*, endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
    if endpoint.account_id is None:
        recipients = list(
            get_user_model().objects.filter(is_staff=True, is_active=True).values_list("email", flat=True)
        )
    else:
        recipients = list(
            get_user_model()
            .objects.filter(account_id=endpoint.account_id, role=Role.OWNER, is_active=True)
            .values_list("email", flat=True)
        )
    if not recipients:
        return
    send_mail(
        subject="A webhook endpoint was disabled",
        message=(
            f"creditdesk stopped sending events to {endpoint.url}: {endpoint.disabled_reason}\n\n"
            f"Fix the receiver, then turn the endpoint back on in the account settings "
            f"({settings.SITE_URL}/settings). Events from now on will be delivered; use Resend in the "
            f"delivery log for the ones it missed."
        ),
        from_email=None,
        recipient_list=recipients,
        fail_silently=True,
    )

from typing import Any

from django.db.models import QuerySet

from creditdesk.events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


def endpoint_list(*, account: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(account=account).order_by("id")


def delivery_list(*, account: Any) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(endpoint__account=account)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


def attempt_list(*, account: Any) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery__endpoint__account=account).order_by("-id")


def event_list(*, account: Any) -> QuerySet[Event]:
    return Event.objects.filter(account=account).order_by("-created_at")

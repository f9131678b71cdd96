from typing import TYPE_CHECKING

from django.db.models import QuerySet

from creditdesk.events.models import Delivery, Event, WebhookEndpoint

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


def endpoint_list(*, account: "Account") -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(account=account).order_by("id")


def delivery_list(*, account: "Account") -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(endpoint__account=account)
        .select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")
    )


def event_list(*, account: "Account") -> QuerySet[Event]:
    return Event.objects.filter(account=account).order_by("-created_at")

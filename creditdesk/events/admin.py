from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from creditdesk.events import signing
from creditdesk.events.models import Delivery, DeliveryAttempt, Event, PeriodicJobState, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Operators register platform-wide endpoints here (leave the account empty): they receive every
    account's events."""

    list_display = ["url", "account", "is_enabled", "consecutive_failures", "created_at"]
    list_filter = ["is_enabled"]
    search_fields = ["url", "account__name"]
    raw_id_fields = ["account"]
    readonly_fields = ["secret", "consecutive_failures", "disabled_reason"]

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool) -> None:
        if not obj.secret:
            obj.secret = signing.new_secret()
        super().save_model(request, obj, form, change)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "status_code", "duration_ms", "error", "created_at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status"]
    raw_id_fields = ["event", "endpoint"]
    inlines = [DeliveryAttemptInline]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "account", "created_at"]
    list_filter = ["type"]
    raw_id_fields = ["account"]
    readonly_fields = ["id", "account", "type", "data", "created_at"]


@admin.register(PeriodicJobState)
class PeriodicJobStateAdmin(admin.ModelAdmin):
    list_display = ["name", "last_slot", "last_enqueued_at"]

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "creditdesk.events"
    label = "events"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        # Registers the events app's own periodic jobs (delivery retries, the idempotency-key purge).
        from creditdesk.events import tasks  # noqa: F401

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "creditdesk.billing"
    label = "billing"

    def ready(self) -> None:
        from creditdesk.billing import tasks  # noqa: F401  (registers billing's periodic jobs)

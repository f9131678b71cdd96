from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "creditdesk.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from creditdesk.tenancy import schema  # noqa: F401  registers the OpenAPI authentication extensions

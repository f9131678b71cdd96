from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "creditdesk.tenancy"
    label = "tenancy"

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "creditdesk.billing"
    label = "billing"

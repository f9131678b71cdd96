from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "creditdesk.analytics"
    label = "analytics"

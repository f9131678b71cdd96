from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "creditdesk.core"
    label = "core"

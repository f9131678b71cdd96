from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "creditdesk.accounts"
    label = "accounts"

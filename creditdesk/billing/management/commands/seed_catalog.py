from django.apps import apps
from django.core.management.base import BaseCommand

from creditdesk.billing.catalog import seed_catalog


class Command(BaseCommand):
    help = "Creates the missing plans, price list, credit packages and payment methods (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        created = seed_catalog(apps)
        self.stdout.write("catalog: " + ", ".join(f"{name} +{count}" for name, count in created.items()))

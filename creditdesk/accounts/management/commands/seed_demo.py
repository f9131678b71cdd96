from django.apps import apps
from django.core.management.base import BaseCommand

from creditdesk.accounts.demo import DEMO_EMAIL, demo_password, seed_demo
from creditdesk.billing.catalog import seed_catalog


class Command(BaseCommand):
    help = "Creates the catalogue and the demo account (once; running it again changes nothing)."

    def handle(self, *args: object, **options: object) -> None:
        seed_catalog(apps)
        account, created = seed_demo()
        account.refresh_from_db()
        state = "created" if created else "already present"
        self.stdout.write(
            self.style.SUCCESS(f"Demo account {account.name!r} {state}: {account.credits} credits.")
        )
        self.stdout.write(f"Sign in at /login as {DEMO_EMAIL} with password: {demo_password()}")
        self.stdout.write("Team: admin@, writer@, viewer@creditdesk.local (same password).")

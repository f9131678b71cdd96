from django.core.management.base import BaseCommand

from creditdesk.billing.services.grants import expire_credits


class Command(BaseCommand):
    help = (
        "Expires the unused credits of every grant past its expires_at (one `expiration` ledger row per "
        "grant, plus plan rollovers). Safe to run every minute, and twice at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        report = expire_credits()
        self.stdout.write(f"expired {report.credits} credit(s) in {report.accounts} account(s)")

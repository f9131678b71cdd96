from django.conf import settings
from django.core.management.base import BaseCommand

from creditdesk.billing.services.payments import expire_bank_transfers


class Command(BaseCommand):
    help = (
        "Expires bank transfers still awaiting approval after BANK_TRANSFER_EXPIRY_DAYS: the payment fails "
        "and its invoice is void. Safe to run often (e.g. hourly from cron)."
    )

    def handle(self, *args: object, **options: object) -> None:
        expired = expire_bank_transfers()
        self.stdout.write(
            f"expired {expired} bank transfer(s) older than {settings.BANK_TRANSFER_EXPIRY_DAYS} days"
        )

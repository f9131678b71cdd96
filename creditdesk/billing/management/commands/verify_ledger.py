from django.core.management.base import BaseCommand, CommandError

from creditdesk.billing.services.verification import find_drift


class Command(BaseCommand):
    help = "Checks credits == sum(ledger) == latest balance_after, and every running sum; non-zero on drift."

    def handle(self, *args: object, **options: object) -> None:
        drifts = list(find_drift())
        for drift in drifts:
            self.stderr.write(drift.describe())
        if drifts:
            raise CommandError(f"ledger drift in {len(drifts)} account(s)")
        self.stdout.write("ledger OK: every account's credits match its ledger")

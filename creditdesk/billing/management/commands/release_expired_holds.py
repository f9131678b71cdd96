from django.core.management.base import BaseCommand

from creditdesk.billing.services.holds import release_expired_holds


class Command(BaseCommand):
    help = (
        "Releases every active credit hold past its expires_at (status `expired`, its credits spendable "
        "again). Safe to run every minute, and twice at once."
    )

    def handle(self, *args: object, **options: object) -> None:
        released = release_expired_holds()
        self.stdout.write(f"released {released} expired hold(s)")

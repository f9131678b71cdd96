from django.core.management.base import BaseCommand

from creditdesk.core.idempotency import purge_expired_keys


class Command(BaseCommand):
    help = "Deletes Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS (run daily from cron)."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"purged {purge_expired_keys()} expired idempotency keys")

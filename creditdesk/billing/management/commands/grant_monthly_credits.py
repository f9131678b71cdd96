from django.core.management.base import BaseCommand

from creditdesk.billing.services.subscriptions import grant_monthly_credits


class Command(BaseCommand):
    help = "Grants every active account its plan's credits for the current UTC month, once (safe hourly)."

    def handle(self, *args: object, **options: object) -> None:
        report = grant_monthly_credits()
        self.stdout.write(
            f"monthly credits: {report.granted} granted, {report.already_granted} already granted, "
            f"{report.skipped} skipped (no allowance)"
        )

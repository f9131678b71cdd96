from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from creditdesk.core.errors import ValidationFailed
from creditdesk.tenancy.api_keys import create_platform_key
from creditdesk.tenancy.models import ApiKeyScope


class Command(BaseCommand):
    help = (
        "Creates a platform API key, which may meter for any account (each request names it with X-Account). "
        "Prints the secret once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="what service uses the key, e.g. 'content-writer workers'")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiKeyScope.values,
            help="repeat for several; default: usage:write and billing:read",
        )
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["expires_in_days"]
        try:
            issued = create_platform_key(
                name=options["name"],
                scopes=options["scope"] or list(ApiKeyScope.values),
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Platform key {issued.api_key.name!r} ({issued.api_key.display_prefix}…) created with scopes "
            f"{', '.join(issued.api_key.scopes)}. The secret below is shown once:"
        )
        self.stdout.write(issued.secret)

"""The demo tenant `make run` shows: a team, 90 days of usage history and a few purchases, all written
through the same services real traffic uses."""

import os
import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from creditdesk.accounts.models import Account, User
from creditdesk.accounts.services import auth, team
from creditdesk.billing.demo import create_demo_purchases
from creditdesk.billing.models import CreditUsageLog, Plan
from creditdesk.billing.services.holds import create_hold
from creditdesk.billing.services.ledger import InsufficientCredits, grant_credits
from creditdesk.billing.services.reversals import reverse_usage
from creditdesk.billing.services.subscriptions import grant_monthly_allowance
from creditdesk.billing.services.usage import record_usage
from creditdesk.tenancy.roles import Role

DEMO_EMAIL = "demo@creditdesk.local"
DEMO_ACCOUNT = "Demo Content Studio"
HISTORY_DAYS = 90
TEAM = [
    ("admin@creditdesk.local", "Grace", "Hopper", Role.ADMIN),
    ("writer@creditdesk.local", "Alan", "Turing", Role.MEMBER),
    ("viewer@creditdesk.local", "Edsger", "Dijkstra", Role.VIEWER),
]
# operation -> (relative frequency, provider cost per call in USD, model)
OPERATIONS = {
    "content_generation": (5, Decimal("0.0420"), "gpt-4o"),
    "clustering": (3, Decimal("0.0060"), "text-embedding-3-small"),
    "idea_generation": (4, Decimal("0.0050"), "gpt-4o-mini"),
    "image_generation": (2, Decimal("0.0400"), "dall-e-3"),
    "image_prompt_extraction": (2, Decimal("0.0010"), "gpt-4o-mini"),
    "linking": (2, Decimal("0.0020"), "gpt-4o-mini"),
    "optimization": (2, Decimal("0.0150"), "gpt-4o"),
}


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD", "creditdesk-demo-2026")


def seed_demo() -> tuple[Account, bool]:
    """Creates the demo tenant once; returns it and whether it was created now."""
    existing = User.objects.filter(email=DEMO_EMAIL).select_related("account").first()
    if existing is not None and existing.account is not None:
        return existing.account, False
    with transaction.atomic():
        owner, account = auth.register_account(
            email=DEMO_EMAIL,
            password=demo_password(),
            account_name=DEMO_ACCOUNT,
            first_name="Dana",
            last_name="Demo",
            at=_history_start(),
        )
        account.plan = Plan.objects.get(slug="growth")
        account.billing_email = "billing@demo-studio.example"
        account.billing_address_line1 = "42 Market Street"
        account.billing_city = "San Francisco"
        account.billing_state = "CA"
        account.billing_postal_code = "94103"
        account.billing_country = "US"
        account.save()
        team = [
            _add_member(account=account, owner=owner, email=e, first=f, last=la, role=r)
            for e, f, la, r in TEAM
        ]
        _write_history(account=account, users=[owner, *team])
        create_demo_purchases(account=account, actor=owner)
        _jobs_in_flight(account=account, owner=owner)
    return account, True


def _add_member(*, account: Account, owner: User, email: str, first: str, last: str, role: str) -> User:
    _invitation, token = team.invite_member(
        account=account,
        inviter=owner,
        email=email,
        first_name=first,
        last_name=last,
        role=role,
        send_email=False,  # accepted on the next line: an invitation email would only be noise
    )
    return team.accept_invitation(token=token, password=demo_password())


def _history_start() -> datetime:
    first_day = timezone.now().date() - timedelta(days=HISTORY_DAYS - 1)
    return datetime.combine(first_day, time(7, 0), tzinfo=UTC)


def _write_history(*, account: Account, users: list[User]) -> None:
    rng = random.Random(2026)  # the same demo every time
    spenders = [user for user in users if user.role != Role.VIEWER]
    names, weights = list(OPERATIONS), [freq for freq, _cost, _model in OPERATIONS.values()]
    start = _history_start().date()
    months_granted: set[tuple[int, int]] = set()
    for offset in range(HISTORY_DAYS):
        day = start + timedelta(days=offset)
        morning = datetime.combine(day, time(8, 0), tzinfo=UTC)
        if (day.year, day.month) not in months_granted:
            grant_monthly_allowance(account=account, now=morning)
            months_granted.add((day.year, day.month))
        if offset == 0:
            # The free plan's first month would not carry the team's first weeks of work.
            grant_credits(account=account, amount=5000, description="Launch bonus (promotion)", at=morning)
        if offset in (20, 55):
            grant_credits(
                account=account, amount=1500, description="Goodwill top-up from support", at=morning
            )
        calls = rng.randint(2, 9) if day.weekday() < 5 else rng.randint(0, 3)
        moments = sorted(rng.randint(0, 9 * 3600) for _ in range(calls))
        for index, second in enumerate(moments):
            at = morning + timedelta(seconds=second + 60)
            if at > timezone.now():
                break
            operation = rng.choices(names, weights)[0]
            _freq, unit_cost, model = OPERATIONS[operation]
            units = rng.randint(1, 4)
            tokens_in = rng.randint(400, 4000) * units
            try:
                record_usage(
                    account=account,
                    user=rng.choice(spenders),
                    operation_type=operation,
                    units=units,
                    cost_usd=unit_cost * units,
                    model=model,
                    tokens_input=tokens_in,
                    tokens_output=tokens_in // 3,
                    reference_id=f"job-{day:%Y%m%d}-{index}",
                    at=at,
                )
            except InsufficientCredits:
                continue  # the API would have answered 402: the history has no such call


def _jobs_in_flight(*, account: Account, owner: User) -> None:
    """A batch of articles holding credits while it runs, and a failed job given back: the billing page's
    credits in flight and the ledger's reversal have something to show."""
    create_hold(
        account=account,
        user=owner,
        operation_type="content_generation",
        units=4,
        reference_id="demo-article-batch",
        expires_in=7 * 24 * 3600,
    )
    failed = (
        CreditUsageLog.objects.filter(account=account, operation_type="image_generation")
        .order_by("-created_at")
        .first()
    )
    if failed is not None:
        reverse_usage(
            account=account,
            usage_id=failed.pk,
            user=owner,
            reason="Image generation failed: provider timeout",
        )

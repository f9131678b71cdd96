import pytest
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command

from creditdesk.accounts.demo import DEMO_EMAIL, HISTORY_DAYS, seed_demo
from creditdesk.accounts.models import User
from creditdesk.billing.models import CreditTransaction, CreditUsageLog, Invoice, Payment
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_team_history_and_purchases_written_through_the_services() -> None:
    account, created = seed_demo()
    assert created
    assert_ledger_consistent(account)
    roles = sorted(User.objects.filter(account=account, is_active=True).values_list("role", flat=True))
    assert roles == ["admin", "member", "owner", "viewer"]
    assert User.objects.get(email=DEMO_EMAIL).check_password("creditdesk-demo-2026")
    days = {log.created_at.date() for log in CreditUsageLog.objects.filter(account=account)}
    assert len(days) > HISTORY_DAYS // 2
    assert len({log.operation_type for log in CreditUsageLog.objects.filter(account=account)}) >= 5
    assert Invoice.objects.filter(account=account, status="paid").count() == 2
    assert Payment.objects.filter(account=account, status="pending_approval").count() == 1


def test_the_demo_ledger_reads_in_time_order() -> None:
    account, _created = seed_demo()
    by_id = list(
        CreditTransaction.objects.filter(account=account).order_by("id").values_list("id", flat=True)
    )
    by_time = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    assert by_time == by_id  # the newest-first pages show each balance_after after the row before it
    first = CreditTransaction.objects.filter(account=account).order_by("id").first()
    assert first.description.startswith("Initial credits")


def test_the_demo_sends_no_invitation_email_for_members_it_activates_itself(
    django_capture_on_commit_callbacks,
) -> None:
    cache.clear()  # the invitation rate limits count in the cache across tests
    with django_capture_on_commit_callbacks(execute=True):
        seed_demo()
    cache.clear()
    assert [m.subject for m in mail.outbox if "invited" in m.subject] == []


def test_seeding_twice_changes_nothing(capsys: pytest.CaptureFixture) -> None:
    call_command("seed_demo")
    rows = CreditTransaction.objects.count()
    call_command("seed_demo")
    assert CreditTransaction.objects.count() == rows
    assert "already present" in capsys.readouterr().out

"""Balance alerts: balance.low once per crossing of the account's threshold, balance.depleted at zero,
mailed to the owners and the billing email unless turned off."""

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from creditdesk.billing.models import NotificationSettings
from creditdesk.billing.services.ledger import claw_back_credits, deduct_credits, grant_credits
from creditdesk.conftest import bearer_client
from creditdesk.events.models import Event
from creditdesk.tenancy.roles import Role

NOTIFICATIONS = "/api/v1/billing/notifications/"


def alerts(account) -> list[tuple[str, dict]]:
    return [
        (e.type, e.data)
        for e in Event.objects.filter(account=account, type__startswith="balance.").order_by("created_at")
    ]


def spend(account, amount: int) -> None:
    deduct_credits(account=account, amount=amount, description="test spend")


@pytest.fixture
def watched(account):
    account.low_balance_threshold = 100
    account.save(update_fields=["low_balance_threshold"])
    return account


def test_balance_low_fires_once_when_the_balance_crosses_the_threshold_not_per_deduction(watched):
    spend(watched, 850)  # 1000 -> 150
    assert alerts(watched) == []
    spend(watched, 60)  # 150 -> 90: the crossing
    spend(watched, 10)  # 90 -> 80: still low, no new alert
    spend(watched, 5)
    assert alerts(watched) == [("balance.low", {"balance": 90, "threshold": 100})]


def test_landing_exactly_on_the_threshold_is_a_crossing(watched):
    spend(watched, 900)
    assert alerts(watched) == [("balance.low", {"balance": 100, "threshold": 100})]


def test_after_credits_lift_the_balance_above_the_threshold_the_next_crossing_alerts_again(watched):
    spend(watched, 950)  # 50
    grant_credits(account=watched, amount=500, description="top-up")  # 550
    spend(watched, 500)  # 50 again
    assert [data["balance"] for _, data in alerts(watched)] == [50, 50]


def test_reaching_zero_emits_balance_depleted_once(watched):
    spend(watched, 1000)
    assert alerts(watched) == [
        ("balance.low", {"balance": 0, "threshold": 100}),
        ("balance.depleted", {"balance": 0}),
    ]


def test_a_clawback_to_zero_is_a_depletion_too(account):
    claw_back_credits(account=account, amount=5000, description="refund")
    assert alerts(account) == [("balance.depleted", {"balance": 0})]


def test_no_threshold_means_no_low_balance_alert(account):
    spend(account, 999)
    assert alerts(account) == []


def test_a_rolled_back_deduction_alerts_nobody(watched, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        spend(watched, 1000)
        raise RuntimeError("the operation failed after metering")
    assert alerts(watched) == []
    assert mail.outbox == []


def test_a_deduction_that_crosses_nothing_costs_no_extra_query(account, watched):
    spend(account, 1)  # warm up
    with CaptureQueriesContext(connection) as quiet:
        spend(account, 1)
    account.low_balance_threshold = 0
    with CaptureQueriesContext(connection) as unwatched:
        spend(account, 1)
    assert len(quiet) == len(unwatched)


def test_alerts_are_mailed_to_owners_and_the_billing_email(
    watched, make_member, django_capture_on_commit_callbacks
):
    owner = make_member(watched, Role.OWNER, email="boss@acme.test")
    make_member(watched, Role.ADMIN, email="admin@acme.test")
    watched.billing_email = "ap@acme.test"
    watched.save(update_fields=["billing_email"])

    with django_capture_on_commit_callbacks(execute=True):
        spend(watched, 1000)

    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([owner.email, "ap@acme.test"], "Acme: low credit balance (0 credits)"),
        ([owner.email, "ap@acme.test"], "Acme: no credits left"),
    ]
    assert "threshold of 100" in mail.outbox[0].body


def test_an_alert_turned_off_is_not_mailed_but_still_emitted(
    watched, owner, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(account=watched, email_low_balance=False)
    with django_capture_on_commit_callbacks(execute=True):
        spend(watched, 950)
    assert mail.outbox == []
    assert [t for t, _ in alerts(watched)] == ["balance.low"]


def test_owners_set_the_threshold_and_switches_and_everyone_reads_them(owner_client, account, make_member):
    response = owner_client.patch(
        NOTIFICATIONS, {"low_balance_threshold": 250, "email_depleted": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {
        "low_balance_threshold": 250,
        "email_low_balance": True,
        "email_depleted": False,
        "email_expiring": True,
        "expiring_notice_days": 7,
    }
    account.refresh_from_db()
    assert account.low_balance_threshold == 250
    assert NotificationSettings.objects.get(account=account).email_depleted is False

    member = bearer_client(make_member(account, Role.MEMBER))
    assert member.get(NOTIFICATIONS).json()["data"]["low_balance_threshold"] == 250
    assert member.patch(NOTIFICATIONS, {"low_balance_threshold": 1}, format="json").status_code == 403


def test_bad_notification_input_is_a_400_and_changes_nothing(owner_client, account):
    for body in ({"low_balance_threshold": -1}, {"expiring_notice_days": 0}, {"credits": 5}):
        response = owner_client.patch(NOTIFICATIONS, body, format="json")
        assert response.status_code == 400, body
        assert set(response.json()["errors"]) == set(body)
    account.refresh_from_db()
    assert account.low_balance_threshold == 0
    assert not NotificationSettings.objects.exists()


# --- credits.expiring ------------------------------------------------------------------------------------


def test_credits_expiring_within_the_notice_period_are_announced_once_per_grant(
    account, owner, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.alerts import notify_expiring_credits

    now = timezone.now()
    grant_credits(account=account, amount=300, description="promo", expires_at=now + timedelta(days=5))
    grant_credits(account=account, amount=200, description="later", expires_at=now + timedelta(days=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert notify_expiring_credits(now=now) == 1
        assert notify_expiring_credits(now=now + timedelta(hours=1)) == 0

    (expiring,) = Event.objects.filter(account=account, type="credits.expiring")
    assert expiring.data["amount"] == 300
    assert [m.to for m in mail.outbox] == [[owner.email]]
    assert "300 credits" in mail.outbox[0].subject

    # The later grant enters its notice period 23 days on.
    assert notify_expiring_credits(now=now + timedelta(days=23, hours=1)) == 1
    assert Event.objects.filter(account=account, type="credits.expiring").count() == 2


def test_the_notice_period_is_each_accounts_own(account):
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.billing.services.alerts import notify_expiring_credits, update_notification_settings

    now = timezone.now()
    update_notification_settings(account=account, expiring_notice_days=2)
    grant_credits(account=account, amount=50, description="promo", expires_at=now + timedelta(days=5))
    assert notify_expiring_credits(now=now) == 0
    assert notify_expiring_credits(now=now + timedelta(days=3, hours=1)) == 1

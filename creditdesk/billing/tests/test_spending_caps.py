"""Spending caps on keys and members: a deduction that would pass one is a 402 naming it, and nothing moves."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import CreditUsageLog
from creditdesk.billing.services.caps import CapExceeded, counter_spent, release_caps, set_member_caps
from creditdesk.billing.services.usage import record_usage
from creditdesk.conftest import bearer_client, run_concurrently
from creditdesk.tenancy.api_keys import IssuedKey, create_account_key
from creditdesk.tenancy.models import SpendingCounter
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"
KEYS = "/api/v1/account/api-keys/"


def service(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def capped_key(account: Account, owner: User) -> Callable[..., IssuedKey]:
    def make(daily: int | None = None, monthly: int | None = None) -> IssuedKey:
        return create_account_key(
            account=account,
            actor=owner,
            name="capped worker",
            scopes=["usage:write", "billing:read"],
            daily_credit_cap=daily,
            monthly_credit_cap=monthly,
        )

    return make


def test_a_key_past_its_daily_cap_gets_a_402_naming_the_cap_and_spends_nothing(
    capped_key, account: Account
) -> None:
    issued = capped_key(daily=25)
    client = service(issued.secret)
    assert client.post(USAGE, {"operation_type": "clustering", "units": 2}, format="json").status_code == 201
    refused = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert refused.status_code == 402
    body = refused.json()
    assert body["code"] == "spending_cap_exceeded"
    assert body["detail"]["cap"] == "api_key.daily" and body["detail"]["limit"] == 25
    assert (body["detail"]["spent"], body["detail"]["needed"]) == (20, 10)
    assert "daily cap is 25 credits" in body["error"] and issued.api_key.display_prefix in body["error"]
    assert issued.secret not in refused.content.decode()
    # What still fits the cap passes.
    assert client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    account.refresh_from_db()
    assert account.credits == 1000 - 23
    assert counter_spent(subject=f"key:{issued.api_key.pk}") == {"day": 23, "month": 23}
    assert CreditUsageLog.objects.count() == 2
    assert_ledger_consistent(account)


def test_the_monthly_cap_counts_across_days(capped_key, account: Account) -> None:
    issued = capped_key(monthly=30)
    first_day = datetime(2026, 11, 2, 12, tzinfo=UTC)
    record_usage(
        account=account, user=None, api_key=issued.api_key, operation_type="clustering", at=first_day
    )
    record_usage(
        account=account,
        user=None,
        api_key=issued.api_key,
        operation_type="clustering",
        units=2,
        at=first_day + timedelta(days=1),
    )
    with pytest.raises(CapExceeded) as refused:
        record_usage(
            account=account,
            user=None,
            api_key=issued.api_key,
            operation_type="linking",
            at=first_day + timedelta(days=2),
        )
    assert refused.value.extra["cap"] == "api_key.monthly"
    # A new month starts from zero.
    record_usage(
        account=account,
        user=None,
        api_key=issued.api_key,
        operation_type="clustering",
        at=datetime(2026, 12, 1, 0, 5, tzinfo=UTC),
    )
    account.refresh_from_db()
    assert account.credits == 1000 - 40


def test_a_cap_refusal_and_a_balance_refusal_both_leave_the_counters_alone(
    capped_key, make_account: Callable[..., Account], owner: User
) -> None:
    poor = make_account(credits=15)
    issued = create_account_key(
        account=poor, actor=None, name="w", scopes=["usage:write"], daily_credit_cap=100
    )
    client = service(issued.secret)
    assert client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    short = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert short.status_code == 402 and short.json()["code"] == "insufficient_credits"
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 10


def test_a_zero_cap_refuses_every_deduction(capped_key, account: Account) -> None:
    client = service(capped_key(daily=0).secret)
    assert client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 402
    account.refresh_from_db()
    assert account.credits == 1000


def test_uncapped_keys_keep_no_counters(capped_key) -> None:
    client = service(capped_key().secret)
    assert client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    assert not SpendingCounter.objects.exists()


def test_a_cap_set_later_counts_what_the_key_already_spent_today(
    capped_key, owner_client: APIClient, account: Account
) -> None:
    issued = capped_key()
    client = service(issued.secret)
    for _ in range(3):
        assert client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    response = owner_client.patch(f"{KEYS}{issued.api_key.pk}/", {"daily_credit_cap": 35}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["spent_today"] == 30
    assert client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 402
    assert client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    changed = account.audit_logs.get(action="api_key.changed")
    assert changed.changes == {"daily_credit_cap": {"from": None, "to": 35}}


def test_a_member_cap_limits_what_the_member_meters_with_their_session(
    owner_client: APIClient, account: Account, make_member: Callable[..., User]
) -> None:
    writer = make_member(account, Role.MEMBER)
    writer_client = bearer_client(writer)
    assert writer_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    url = f"/api/v1/account/team/{writer.pk}/spending-caps/"
    assert (
        owner_client.put(url, {"daily_credit_cap": 25, "monthly_credit_cap": 500}, format="json").json()[
            "data"
        ]["spent_today"]
        == 10
    )
    assert writer_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    refused = writer_client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert refused.status_code == 402
    assert refused.json()["detail"]["cap"] == "member.daily"
    assert writer.email in refused.json()["error"]
    # Another member is not held by it.
    assert owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    account.refresh_from_db()
    assert account.credits == 1000 - 30


def test_lifting_a_cap_lets_spending_through_again(account: Account, owner: User, make_member) -> None:
    writer = make_member(account, Role.MEMBER)
    set_member_caps(account=account, actor=owner, member=writer, daily_credit_cap=0, monthly_credit_cap=None)
    writer = User.objects.get(pk=writer.pk)
    with pytest.raises(CapExceeded):
        record_usage(account=account, user=writer, operation_type="linking")
    set_member_caps(
        account=account, actor=owner, member=writer, daily_credit_cap=None, monthly_credit_cap=None
    )
    writer = User.objects.get(pk=writer.pk)
    record_usage(account=account, user=writer, operation_type="linking")
    account.refresh_from_db()
    assert account.credits == 997


def test_released_credits_go_back_to_the_period_they_were_charged_in(capped_key, account: Account) -> None:
    issued = capped_key(daily=30, monthly=100)
    at = datetime(2026, 11, 5, 9, tzinfo=UTC)
    record_usage(
        account=account, user=None, api_key=issued.api_key, operation_type="clustering", units=3, at=at
    )
    release_caps(api_key_id=issued.api_key.pk, credits=10, charged_at=at)
    assert counter_spent(subject=f"key:{issued.api_key.pk}", at=at) == {"day": 20, "month": 20}
    release_caps(api_key_id=issued.api_key.pk, credits=500, charged_at=at)
    assert counter_spent(subject=f"key:{issued.api_key.pk}", at=at) == {"day": 0, "month": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deductions_through_one_capped_key_never_pass_the_cap(
    make_account: Callable[..., Account],
) -> None:
    account = make_account(credits=10_000)
    issued = create_account_key(
        account=account, actor=None, name="hot worker", scopes=["usage:write"], daily_credit_cap=205
    )

    def meter(_index: int) -> int:
        return service(issued.secret).post(USAGE, {"operation_type": "clustering"}, format="json").status_code

    outcomes = run_concurrently(40, meter)
    assert sorted(set(outcomes)) == [201, 402]
    assert outcomes.count(201) == 20
    account.refresh_from_db()
    assert account.credits == 10_000 - 200
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 200
    assert CreditUsageLog.objects.filter(api_key=issued.api_key).count() == 20
    assert_ledger_consistent(account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deductions_by_a_capped_member_never_pass_the_cap(
    make_account: Callable[..., Account], make_member: Callable[..., User]
) -> None:
    account = make_account(credits=10_000)
    owner = make_member(account, Role.OWNER)
    writer = make_member(account, Role.MEMBER)
    set_member_caps(account=account, actor=owner, member=writer, daily_credit_cap=None, monthly_credit_cap=95)

    def meter(_index: int) -> int:
        return bearer_client(writer).post(USAGE, {"operation_type": "clustering"}, format="json").status_code

    outcomes = run_concurrently(30, meter)
    assert outcomes.count(201) == 9 and outcomes.count(402) == 21
    account.refresh_from_db()
    assert account.credits == 10_000 - 90
    assert_ledger_consistent(account)


# --- holds count against caps while they are open ------------------------------------------------------------

HOLDS = "/api/v1/billing/credits/holds/"


def test_an_open_hold_counts_against_the_keys_cap_and_its_release_gives_it_back(capped_key) -> None:
    issued = capped_key(daily=50)
    client = service(issued.secret)
    hold = client.post(HOLDS, {"operation_type": "clustering", "credits": 40}, format="json")
    assert hold.status_code == 201, hold.json()
    assert hold.json()["data"]
    from creditdesk.billing.models import CreditHold

    stored = CreditHold.objects.get(pk=hold.json()["data"]["id"])
    assert stored.api_key_id == issued.api_key.pk and stored.user_id is None
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 40
    refused = client.post(USAGE, {"operation_type": "clustering", "units": 2}, format="json")
    assert refused.status_code == 402 and refused.json()["detail"]["cap"] == "api_key.daily"
    second = client.post(HOLDS, {"operation_type": "clustering", "credits": 20}, format="json")
    assert second.status_code == 402 and second.json()["code"] == "spending_cap_exceeded"
    released = client.post(f"{HOLDS}{stored.pk}/release/", {}, format="json")
    assert released.status_code == 200, released.json()
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 0
    assert client.post(USAGE, {"operation_type": "clustering", "units": 2}, format="json").status_code == 201


def test_settling_for_less_gives_the_rest_back_and_an_overrun_is_charged(
    capped_key, account: Account
) -> None:
    issued = capped_key(daily=100)
    client = service(issued.secret)
    first = client.post(HOLDS, {"operation_type": "clustering", "credits": 50}, format="json").json()["data"]
    settled = client.post(f"{HOLDS}{first['id']}/settle/", {"credits": 30}, format="json")
    assert settled.status_code == 200, settled.json()
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 30
    log = CreditUsageLog.objects.get(hold_id=first["id"])
    assert log.api_key_id == issued.api_key.pk and log.transaction.api_key_id == issued.api_key.pk
    second = client.post(HOLDS, {"operation_type": "clustering", "credits": 20}, format="json").json()["data"]
    overrun = client.post(f"{HOLDS}{second['id']}/settle/", {"credits": 45}, format="json")
    assert overrun.status_code == 200, overrun.json()
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 75
    account.refresh_from_db()
    assert account.credits == 1000 - 75
    assert_ledger_consistent(account)


def test_an_overrun_past_the_cap_is_a_402_and_the_hold_stays(capped_key, account: Account) -> None:
    issued = capped_key(daily=60)
    client = service(issued.secret)
    hold = client.post(HOLDS, {"operation_type": "clustering", "credits": 50}, format="json").json()["data"]
    refused = client.post(f"{HOLDS}{hold['id']}/settle/", {"credits": 70}, format="json")
    assert refused.status_code == 402 and refused.json()["code"] == "spending_cap_exceeded"
    after = client.get(f"{HOLDS}{hold['id']}/").json()["data"]
    assert after["status"] == "active" and after["remaining"] == 50
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 50
    account.refresh_from_db()
    assert account.credits == 1000
    assert_ledger_consistent(account)


def test_an_expired_hold_gives_its_credits_back_to_the_cap(capped_key, account: Account) -> None:
    from django.utils import timezone

    from creditdesk.billing.services.holds import create_hold, release_expired_holds

    issued = capped_key(daily=100)
    create_hold(account=account, user=None, api_key=issued.api_key, operation_type="clustering", credits=80)
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 80
    assert release_expired_holds(now=timezone.now() + timedelta(hours=2)) == 1
    assert counter_spent(subject=f"key:{issued.api_key.pk}")["day"] == 0


def test_holds_refuse_a_key_without_usage_write(account: Account, owner: User) -> None:
    reader = create_account_key(account=account, actor=owner, name="reader", scopes=["billing:read"])
    client = service(reader.secret)
    assert (
        client.post(HOLDS, {"operation_type": "clustering", "credits": 5}, format="json").status_code == 403
    )
    assert client.get(HOLDS).status_code == 200

"""Holds: credits reserved for a running job, settled in parts, released, expired; spendable = credits - held."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditHold, CreditTransaction, CreditUsageLog
from creditdesk.billing.services.holds import create_hold, release_expired_holds, settle_hold
from creditdesk.billing.services.ledger import InsufficientCredits, deduct_credits, grant_credits
from creditdesk.conftest import run_concurrently
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
HOLDS = "/api/v1/billing/credits/holds/"
USAGE = "/api/v1/billing/credits/usage/"
BALANCE = "/api/v1/billing/credits/balance/"


def state(account: Account) -> tuple[int, int]:
    account.refresh_from_db()
    return account.credits, account.held


def hold_via_api(client: APIClient, **body: object) -> dict:
    response = client.post(HOLDS, {"operation_type": "clustering", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_a_hold_reserves_credits_that_nothing_else_may_spend(
    owner_client: APIClient, account: Account
) -> None:
    data = hold_via_api(owner_client, units=80, reference_id="job-1", expires_in=600)  # 80 x 10 credits
    assert set(data) == {
        "id",
        "operation_type",
        "reference_id",
        "credits",
        "settled",
        "remaining",
        "status",
        "expires_at",
        "created_at",
        "closed_at",
    }
    assert (data["credits"], data["settled"], data["remaining"], data["status"]) == (800, 0, 800, "active")
    assert state(account) == (1000, 800)
    short = owner_client.post(USAGE, {"operation_type": "linking", "units": 70}, format="json")  # 210
    assert short.status_code == 402
    assert short.json()["detail"] == {"needed": 210, "available": 200}
    second = owner_client.post(HOLDS, {"operation_type": "clustering", "credits": 201}, format="json")
    assert second.status_code == 402
    assert second.json()["detail"] == {"needed": 201, "available": 200}
    assert state(account) == (1000, 800)
    assert_ledger_consistent(account)


def test_partial_settles_charge_through_the_price_list_until_the_final_one_frees_the_rest(
    owner_client: APIClient, account: Account
) -> None:
    hold = hold_via_api(owner_client, credits=300)
    url = f"{HOLDS}{hold['id']}/settle/"
    first = owner_client.post(url, {"units": 5, "final": False, "cost_usd": "0.0100"}, format="json")
    assert first.status_code == 200
    assert (first.json()["data"]["settled"], first.json()["data"]["remaining"]) == (50, 250)
    assert state(account) == (950, 250)
    second = owner_client.post(url, {"credits": 70, "final": False}, format="json")
    assert (second.json()["data"]["settled"], second.json()["data"]["remaining"]) == (120, 180)
    last = owner_client.post(url, {"units": 3}, format="json").json()["data"]
    assert (last["settled"], last["remaining"], last["status"]) == (150, 0, "settled")
    assert last["closed_at"] is not None
    assert state(account) == (850, 0)
    logs = CreditUsageLog.objects.filter(account=account, hold_id=hold["id"]).order_by("id")
    assert [(log.units, log.credits_used) for log in logs] == [(5, 50), (0, 70), (3, 30)]
    assert owner_client.post(url, {"units": 1}, format="json").status_code == 409
    assert state(account) == (850, 0)
    assert_ledger_consistent(account)


def test_settling_more_than_held_charges_the_difference_when_spendable_else_402_and_the_hold_stays(
    make_account, owner
) -> None:
    account = make_account(credits=100)
    hold = create_hold(account=account, user=None, operation_type="clustering", credits=60).hold
    other = create_hold(account=account, user=None, operation_type="clustering", credits=30).hold
    with pytest.raises(InsufficientCredits) as short:
        settle_hold(account=account, hold_id=hold.pk, user=None, credits=75)  # 15 over; 10 spendable
    assert (short.value.needed, short.value.available) == (15, 10)
    hold.refresh_from_db()
    assert (hold.status, hold.remaining, hold.settled) == ("active", 60, 0)
    assert state(account) == (100, 90)
    settled = settle_hold(account=account, hold_id=hold.pk, user=None, credits=70).hold
    assert (settled.status, settled.settled, settled.remaining) == ("settled", 70, 0)
    assert state(account) == (30, 30)  # the other hold still reserves its 30
    settle_hold(account=account, hold_id=other.pk, user=None, credits=0)  # the job used nothing
    assert state(account) == (30, 0)
    assert_ledger_consistent(account)


def test_release_frees_what_is_left_and_repeats_answer_the_closed_hold(
    owner_client: APIClient, account: Account
) -> None:
    hold = hold_via_api(owner_client, credits=400)
    owner_client.post(f"{HOLDS}{hold['id']}/settle/", {"credits": 100, "final": False}, format="json")
    released = owner_client.post(f"{HOLDS}{hold['id']}/release/", {}, format="json")
    assert released.status_code == 200
    assert (released.json()["data"]["status"], released.json()["data"]["remaining"]) == ("released", 0)
    again = owner_client.post(f"{HOLDS}{hold['id']}/release/", {}, format="json")
    assert again.json()["data"] == released.json()["data"]
    assert state(account) == (900, 0)
    assert owner_client.post(f"{HOLDS}{hold['id']}/settle/", {"credits": 1}, format="json").status_code == 409


def test_holds_past_their_deadline_are_released_by_the_job_once(make_account) -> None:
    account = make_account(credits=100)
    due = create_hold(account=account, user=None, operation_type="clustering", credits=40, expires_in=60).hold
    later = create_hold(
        account=account, user=None, operation_type="clustering", credits=20, expires_in=3600
    ).hold
    assert release_expired_holds(now=timezone.now() + timedelta(seconds=30)) == 0
    assert release_expired_holds(now=timezone.now() + timedelta(seconds=61)) == 1
    assert release_expired_holds(now=timezone.now() + timedelta(seconds=62)) == 0
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, due.remaining, later.status) == ("expired", 0, "active")
    assert state(account) == (100, 20)
    call_command("release_expired_holds")
    assert state(account) == (100, 20)


def test_a_jobs_hold_is_created_once_per_reference_id(owner_client: APIClient, account: Account) -> None:
    body = {"operation_type": "clustering", "units": 2, "reference_id": "job-9"}
    first = owner_client.post(HOLDS, body, format="json")
    again = owner_client.post(HOLDS, body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["data"] == first.json()["data"]
    other = owner_client.post(HOLDS, {**body, "units": 3}, format="json")
    assert other.status_code == 409
    assert set(other.json()["errors"]) == {"units", "credits", "reference_id"}
    assert state(account) == (1000, 20)


def test_a_settle_repeated_with_its_idempotency_key_is_charged_once(
    owner_client: APIClient, account: Account
) -> None:
    hold = hold_via_api(owner_client, credits=100)
    url = f"{HOLDS}{hold['id']}/settle/"
    replies = [
        owner_client.post(url, {"credits": 10, "final": False}, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
        for _ in range(3)
    ]
    assert {r.status_code for r in replies} == {200}
    assert state(account) == (990, 90)


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "units"),
        ({"units": 1, "credits": 5}, "units"),
        ({"credits": 0}, "credits"),
        ({"held": 5}, "held"),
    ],
)
def test_a_hold_needs_units_or_credits(
    owner_client: APIClient, account: Account, body: dict, field: str
) -> None:
    response = owner_client.post(HOLDS, {"operation_type": "clustering", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not CreditHold.objects.exists()


def test_holds_are_listed_filtered_and_kept_to_their_account(
    owner_client: APIClient, other_client: APIClient, account: Account, client_for: Callable[[str], APIClient]
) -> None:
    open_hold = hold_via_api(owner_client, credits=10)
    closed = hold_via_api(owner_client, credits=20)
    owner_client.post(f"{HOLDS}{closed['id']}/release/", {}, format="json")
    listed = owner_client.get(HOLDS).json()["data"]
    assert [h["id"] for h in listed["results"]] == [closed["id"], open_hold["id"]]
    active = owner_client.get(HOLDS, {"status": "active"}).json()["data"]["results"]
    assert [h["id"] for h in active] == [open_hold["id"]]
    assert owner_client.get(f"{HOLDS}{open_hold['id']}/").json()["data"]["credits"] == 10
    assert other_client.get(f"{HOLDS}{open_hold['id']}/").status_code == 404
    assert other_client.post(f"{HOLDS}{open_hold['id']}/release/", {}, format="json").status_code == 404
    assert other_client.get(HOLDS).json()["data"]["count"] == 0
    viewer = client_for(Role.VIEWER)
    assert (
        viewer.post(HOLDS, {"operation_type": "clustering", "credits": 1}, format="json").status_code == 403
    )
    assert viewer.post(f"{HOLDS}{open_hold['id']}/release/", {}, format="json").status_code == 403
    assert state(account) == (1000, 10)


def test_the_balance_reports_spendable_and_held(owner_client: APIClient, account: Account) -> None:
    hold_via_api(owner_client, credits=250)
    data = owner_client.get(BALANCE).json()["data"]
    assert (data["credits"], data["held"], data["credits_remaining"]) == (1000, 250, 750)


def test_expired_grants_leave_even_when_holds_wanted_them_and_the_hold_can_still_settle(make_account) -> None:
    account = make_account()
    now = timezone.now()
    grant_credits(account=account, amount=100, description="promo", expires_at=now + timedelta(minutes=5))
    grant_credits(account=account, amount=30, description="kept")
    hold = create_hold(account=account, user=None, operation_type="clustering", credits=120).hold
    later = now + timedelta(minutes=10)
    with pytest.raises(InsufficientCredits):
        deduct_credits(account=account, amount=1, description="x", at=later)
    assert state(account) == (30, 120)  # the promo expired under the hold: spendable is 0, not negative
    settled = settle_hold(account=account, hold_id=hold.pk, user=None, credits=25, now=later).hold
    assert (settled.status, settled.settled) == ("settled", 25)
    assert state(account) == (5, 0)
    assert_ledger_consistent(account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_holds_racing_deductions_never_overspend_and_lose_nothing(make_account) -> None:
    account = make_account(credits=1000)

    def work(index: int) -> tuple[str, int]:
        try:
            if index % 2:
                hold = create_hold(account=account, user=None, operation_type="clustering", credits=30).hold
                if index % 4 == 1:
                    settle_hold(account=account, hold_id=hold.pk, user=None, credits=20)
                    return "settled", 20
                return "held", 30
            deduct_credits(account=account, amount=30, description="race")
            return "deducted", 30
        except InsufficientCredits:
            return "short", 0

    outcomes = run_concurrently(60, work)
    spent = sum(credits for kind, credits in outcomes if kind in ("settled", "deducted"))
    held = sum(credits for kind, credits in outcomes if kind == "held")
    assert state(account) == (1000 - spent, held)
    assert 1000 - spent - held >= 0
    assert ("short", 0) in outcomes  # the balance covers 33 of the 60 at most
    assert CreditHold.objects.filter(account=account, status="active").count() == held // 30
    assert_ledger_consistent(account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_hold_settled_twenty_times_at_once_is_charged_once(make_account) -> None:
    account = make_account(credits=1000)
    hold = create_hold(account=account, user=None, operation_type="clustering", credits=100).hold

    def settle(_index: int) -> str:
        try:
            settle_hold(account=account, hold_id=hold.pk, user=None, credits=80)
        except Exception as exc:
            return type(exc).__name__
        return "ok"

    outcomes = run_concurrently(20, settle)
    assert sorted(outcomes) == ["HoldClosed"] * 19 + ["ok"]
    assert state(account) == (920, 0)
    assert CreditTransaction.objects.filter(account=account, transaction_type="deduction").count() == 1
    assert_ledger_consistent(account)

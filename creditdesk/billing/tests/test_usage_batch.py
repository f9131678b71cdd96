"""POST billing/credits/usage/batch/: many events, one lock, one transaction, an answer per event."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditDraw, CreditGrant, CreditTransaction, CreditUsageLog
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.models import ApiKey
from creditdesk.tenancy.roles import Role
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/billing/credits/usage/batch/"


def event(reference_id: str, operation_type: str = "clustering", **fields: object) -> dict[str, object]:
    return {"operation_type": operation_type, "reference_id": reference_id, **fields}


def send(client: APIClient, *events: dict[str, object], **headers: str) -> dict:
    response = client.post(BATCH, {"events": list(events)}, format="json", **headers)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_every_accepted_event_has_its_ledger_row_draws_and_usage_log(
    owner_client: APIClient, account: Account
) -> None:
    data = send(
        owner_client, event("job-1"), event("job-2", "linking", units=2), event("job-3", cost_usd="0.25")
    )
    assert (data["created"], data["replayed"], data["refused"]) == (3, 0, 0)
    assert [r["status"] for r in data["results"]] == ["created"] * 3
    assert [r["usage"]["credits_used"] for r in data["results"]] == [10, 6, 10]
    account.refresh_from_db()
    assert account.credits == 1000 - 26
    logs = CreditUsageLog.objects.filter(account=account).order_by("id")
    assert [log.reference_id for log in logs] == ["job-1", "job-2", "job-3"]
    rows = [log.transaction for log in logs]
    assert [row.balance_after for row in rows] == [990, 984, 974]
    assert [row.amount for row in rows] == [-10, -6, -10]
    assert all(CreditDraw.objects.filter(transaction=row).exists() for row in rows)
    seqs = list(
        CreditTransaction.objects.filter(account=account).order_by("id").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    assert_ledger_consistent(account)


def test_a_short_balance_refuses_the_events_it_cannot_pay_and_still_tries_the_next(
    owner_client: APIClient, make_account, make_member
) -> None:
    account = make_account(credits=25)
    client = bearer_client(make_member(account, Role.OWNER))
    data = send(client, event("a"), event("b"), event("c"), event("d", "linking"), event("e", "linking"))
    assert [r["status"] for r in data["results"]] == ["created", "created", "refused", "created", "refused"]
    assert data["results"][2]["reason"] == "insufficient_credits"
    assert data["results"][2]["usage"] is None
    account.refresh_from_db()
    assert account.credits == 2
    assert not CreditUsageLog.objects.filter(account=account, reference_id__in=["c", "e"]).exists()
    assert CreditTransaction.objects.filter(account=account, transaction_type="deduction").count() == 3
    assert_ledger_consistent(account)


def test_an_unknown_operation_is_refused_alone(owner_client: APIClient, account: Account) -> None:
    data = send(owner_client, event("x", "teleportation"), event("y"))
    assert [(r["status"], r["reason"]) for r in data["results"]] == [
        ("refused", "unknown_operation"),
        ("created", ""),
    ]
    assert "teleportation" in data["results"][0]["message"]
    assert list(CreditUsageLog.objects.filter(account=account).values_list("reference_id", flat=True)) == [
        "y"
    ]


def test_a_job_sent_again_is_replayed_free_and_with_other_values_refused(
    owner_client: APIClient, account: Account
) -> None:
    first = send(owner_client, event("job-1", units=2))["results"][0]["usage"]
    again = send(owner_client, event("job-1", units=2), event("job-1b"))
    assert [r["status"] for r in again["results"]] == ["replayed", "created"]
    assert again["results"][0]["usage"] == first
    other = send(owner_client, event("job-1", units=3))["results"][0]
    assert (other["status"], other["reason"]) == ("refused", "conflict")
    assert "units" in other["message"]
    account.refresh_from_db()
    assert account.credits == 1000 - 20 - 10
    assert CreditUsageLog.objects.filter(account=account, reference_id="job-1").count() == 1


def test_a_reference_repeated_within_a_batch_is_charged_once(
    owner_client: APIClient, account: Account
) -> None:
    data = send(owner_client, event("dup"), event("dup"), event("dup", units=5))
    assert [r["status"] for r in data["results"]] == ["created", "replayed", "refused"]
    assert data["results"][1]["usage"]["id"] == data["results"][0]["usage"]["id"]
    assert data["results"][2]["reason"] == "conflict"
    account.refresh_from_db()
    assert account.credits == 990


def test_another_accounts_job_with_the_same_reference_is_not_a_replay(
    owner_client: APIClient, other_client: APIClient, account: Account
) -> None:
    send(other_client, event("shared-ref"))
    data = send(owner_client, event("shared-ref"))
    assert data["results"][0]["status"] == "created"
    account.refresh_from_db()
    assert account.credits == 990


def test_a_malformed_event_is_a_400_for_the_whole_batch_and_writes_nothing(
    owner_client: APIClient, account: Account
) -> None:
    response = owner_client.post(
        BATCH, {"events": [event("ok"), {"operation_type": "clustering"}, event("z", units=0)]}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {
        "events[1].reference_id": ["This field is required."],
        "events[2].units": ["Ensure this value is greater than or equal to 1."],
    }
    assert not CreditUsageLog.objects.filter(account=account).exists()
    bad_field = owner_client.post(BATCH, {"events": [event("ok", credits_used=1)]}, format="json")
    assert bad_field.status_code == 400
    assert bad_field.json()["errors"] == {"events[0].credits_used": ["This field cannot be set."]}


@pytest.mark.parametrize("count", [0, 1001])
def test_a_batch_holds_one_to_a_thousand_events(count: int, owner_client: APIClient) -> None:
    response = owner_client.post(BATCH, {"events": [event(f"e{n}") for n in range(count)]}, format="json")
    assert response.status_code == 400
    assert "events" in response.json()["errors"]


def test_a_thousand_events_go_in_one_request(owner_client: APIClient, account: Account) -> None:
    grant_credits(account=account, amount=20_000, description="top-up")
    data = send(owner_client, *[event(f"e{n}", "linking") for n in range(1000)])
    assert data["created"] == 1000
    account.refresh_from_db()
    assert account.credits == 21_000 - 3000
    assert_ledger_consistent(account)


def test_viewers_may_not_send_a_batch(account: Account, make_member) -> None:
    viewer = bearer_client(make_member(account, Role.VIEWER))
    assert viewer.post(BATCH, {"events": [event("v")]}, format="json").status_code == 403


def test_an_idempotency_key_replays_the_batchs_answer(owner_client: APIClient, account: Account) -> None:
    first = owner_client.post(BATCH, {"events": [event("k1")]}, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = owner_client.post(BATCH, {"events": [event("k1")]}, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    account.refresh_from_db()
    assert account.credits == 990


def test_grants_are_drawn_in_draw_order_across_the_batch(make_account, make_member) -> None:
    account = make_account()
    soon = grant_credits(
        account=account, amount=15, description="promo", expires_at=timezone.now() + timedelta(days=1)
    )
    grant_credits(account=account, amount=100, description="top-up")
    client = bearer_client(make_member(account, Role.OWNER))
    send(client, event("a"), event("b"))
    promo = CreditGrant.objects.get(transaction=soon)
    assert promo.remaining == 0
    second_row = CreditUsageLog.objects.get(account=account, reference_id="b").transaction
    assert sorted(CreditDraw.objects.filter(transaction=second_row).values_list("credits", flat=True)) == [
        5,
        5,
    ]
    assert_ledger_consistent(account)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_on_one_account_never_overspend(make_account, make_member) -> None:
    account = make_account(credits=500)
    token_user = make_member(account, Role.OWNER)
    answers: list[dict] = []

    def run(worker: int) -> None:
        client = bearer_client(token_user)
        batch = [event(f"w{worker}-{n}") for n in range(20)]
        answers.append(client.post(BATCH, {"events": batch}, format="json").json()["data"])
        connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(answer["created"] for answer in answers) == 50
    assert sum(answer["refused"] for answer in answers) == 30
    account.refresh_from_db()
    assert account.credits == 0
    assert_ledger_consistent(account)


# --- API keys ------------------------------------------------------------------------------------------


def key_client(secret: str, **extra: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", **extra)
    return client


def test_an_account_key_sends_a_batch_and_its_rows_name_the_key(account: Account, owner) -> None:
    from creditdesk.tenancy.api_keys import create_account_key

    issued = create_account_key(account=account, actor=owner, name="workers", scopes=["usage:write"])
    data = send(key_client(issued.secret), event("k-1"), event("k-2"))
    assert data["created"] == 2
    logs = CreditUsageLog.objects.filter(account=account)
    assert {(log.api_key_id, log.user_id) for log in logs} == {(issued.api_key.pk, None)}
    assert {log.transaction.api_key_id for log in logs} == {issued.api_key.pk}


def test_a_capped_key_gets_the_events_past_its_cap_refused(account: Account, owner) -> None:
    from creditdesk.tenancy.api_keys import create_account_key

    issued = create_account_key(
        account=account, actor=owner, name="capped", scopes=["usage:write"], daily_credit_cap=25
    )
    data = send(key_client(issued.secret), event("c-1"), event("c-2"), event("c-3"), event("c-4", "linking"))
    assert [(r["status"], r["reason"]) for r in data["results"]] == [
        ("created", ""),
        ("created", ""),
        ("refused", "cap"),
        ("created", ""),
    ]
    assert "daily" in data["results"][2]["message"]
    again = send(key_client(issued.secret), event("c-5", "idea_generation"))
    assert again["results"][0]["reason"] == "cap"  # 23 spent of 25: 5 more would pass it
    account.refresh_from_db()
    assert account.credits == 1000 - 23
    assert_ledger_consistent(account)


def test_a_platform_key_sends_a_batch_for_the_account_it_names(
    account: Account, other_account: Account
) -> None:
    from creditdesk.tenancy.api_keys import create_platform_key

    secret = create_platform_key(name="platform", scopes=["usage:write"]).secret
    data = send(key_client(secret, HTTP_X_ACCOUNT=str(other_account.pk)), event("p-1"))
    assert data["created"] == 1
    assert CreditUsageLog.objects.get(reference_id="p-1").account_id == other_account.pk
    in_body = key_client(secret).post(
        BATCH, {"account": account.slug, "events": [event("p-2")]}, format="json"
    )
    assert in_body.status_code == 200, in_body.content
    assert CreditUsageLog.objects.get(reference_id="p-2").account_id == account.pk


# --- a platform key's batch across accounts --------------------------------------------------------------


@pytest.fixture
def platform_secret() -> str:
    from creditdesk.tenancy.api_keys import create_platform_key

    return create_platform_key(name="platform", scopes=["usage:write"]).secret


def ledger_seqs(account: Account) -> list[int]:
    return list(
        CreditTransaction.objects.filter(account=account).order_by("id").values_list("seq", flat=True)
    )


def test_a_platform_keys_batch_meters_each_event_to_the_account_it_names(
    account: Account, other_account: Account, platform_secret: str
) -> None:
    data = send(
        key_client(platform_secret),
        event("m-1", account=str(account.pk)),
        event("m-2", "linking", account=other_account.slug),
        event("m-3", account=str(account.pk), cost_usd="0.5"),
    )
    assert (data["created"], data["replayed"], data["refused"]) == (3, 0, 0)
    assert [r["account"] for r in data["results"]] == [account.pk, other_account.pk, account.pk]
    account.refresh_from_db()
    other_account.refresh_from_db()
    assert (account.credits, other_account.credits) == (1000 - 20, 500 - 3)
    mine = CreditUsageLog.objects.filter(account=account).order_by("id")
    assert [log.reference_id for log in mine] == ["m-1", "m-3"]
    assert [log.transaction.balance_after for log in mine] == [990, 980]
    assert CreditUsageLog.objects.get(account=other_account).transaction.balance_after == 497
    for tenant in (account, other_account):
        seqs = ledger_seqs(tenant)
        assert seqs == list(range(1, len(seqs) + 1))
        assert_ledger_consistent(tenant)
    from creditdesk.billing.models import DailyOperationRollup

    rollups = {
        (r.account_id, r.operation_type): (r.credits, r.count) for r in DailyOperationRollup.objects.all()
    }
    assert rollups == {(account.pk, "clustering"): (20, 2), (other_account.pk, "linking"): (3, 1)}


def test_the_batchs_account_is_the_default_and_an_event_may_name_another(
    account: Account, other_account: Account, platform_secret: str
) -> None:
    client = key_client(platform_secret, HTTP_X_ACCOUNT=str(account.pk))
    data = send(client, event("d-1"), event("d-2", account=str(other_account.pk)))
    assert [r["account"] for r in data["results"]] == [account.pk, other_account.pk]
    assert CreditUsageLog.objects.get(reference_id="d-1").account_id == account.pk
    assert CreditUsageLog.objects.get(reference_id="d-2").account_id == other_account.pk


def test_an_event_naming_an_unknown_or_closed_account_is_refused_alone(
    account: Account, make_account, platform_secret: str
) -> None:
    closed = make_account(credits=100, is_active=False)
    data = send(
        key_client(platform_secret),
        event("u-1", account="no-such-account"),
        event("u-2", account=str(closed.pk)),
        event("u-3", account=account.slug),
    )
    assert [(r["status"], r["reason"], r["account"]) for r in data["results"]] == [
        ("refused", "unknown_account", None),
        ("refused", "unknown_account", None),
        ("created", "", account.pk),
    ]
    assert "no-such-account" in data["results"][0]["message"]
    assert not CreditUsageLog.objects.filter(account=closed).exists()
    closed.refresh_from_db()
    assert closed.credits == 100


def test_a_platform_batch_naming_no_account_needs_every_event_to_name_one(
    account: Account, platform_secret: str
) -> None:
    response = key_client(platform_secret).post(
        BATCH, {"events": [event("n-1", account=str(account.pk)), event("n-2")]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["events[1].account"]
    assert not CreditUsageLog.objects.exists()


def test_a_member_or_an_account_key_naming_an_events_account_gets_a_400_and_nothing_is_written(
    owner_client: APIClient, account: Account, other_account: Account, owner
) -> None:
    from creditdesk.tenancy.api_keys import create_account_key

    issued = create_account_key(account=account, actor=owner, name="workers", scopes=["usage:write"])
    for client in (owner_client, key_client(issued.secret)):
        for named in (str(account.pk), str(other_account.pk), "no-such-account"):
            response = client.post(
                BATCH, {"events": [event("x-1"), event("x-2", account=named)]}, format="json"
            )
            assert response.status_code == 400
            body = response.json()
            assert list(body["errors"]) == ["events[1].account"]
            # The answer is the same whatever the value: it tells nothing about other tenants.
            assert body["errors"]["events[1].account"] == [
                "Only a platform key may name an event's account: a batch is for the caller's account."
            ]
    assert not CreditUsageLog.objects.exists()


def test_the_same_reference_in_two_accounts_is_two_jobs(
    account: Account, other_account: Account, platform_secret: str
) -> None:
    data = send(
        key_client(platform_secret),
        event("same", account=str(account.pk)),
        event("same", account=str(other_account.pk)),
        event("same", account=str(account.pk)),
    )
    assert [r["status"] for r in data["results"]] == ["created", "created", "replayed"]
    assert data["results"][2]["usage"]["id"] == data["results"][0]["usage"]["id"]
    assert CreditUsageLog.objects.filter(reference_id="same").count() == 2


def test_a_short_account_refuses_its_own_events_and_not_the_others(
    make_account, other_account: Account, platform_secret: str
) -> None:
    poor = make_account(credits=15)
    data = send(
        key_client(platform_secret),
        event("s-1", account=str(poor.pk)),
        event("s-2", account=str(poor.pk)),
        event("s-3", account=str(other_account.pk)),
        event("s-4", "idea_generation", account=str(poor.pk)),
    )
    assert [(r["status"], r["reason"]) for r in data["results"]] == [
        ("created", ""),
        ("refused", "insufficient_credits"),
        ("created", ""),
        ("created", ""),
    ]
    assert "has 5 left" in data["results"][1]["message"]
    poor.refresh_from_db()
    assert poor.credits == 0
    assert_ledger_consistent(poor)
    assert_ledger_consistent(other_account)


def test_a_capped_platform_keys_cap_counts_its_events_across_accounts(
    account: Account, other_account: Account
) -> None:
    from creditdesk.tenancy.api_keys import create_platform_key

    issued = create_platform_key(name="capped", scopes=["usage:write"])
    ApiKey.objects.filter(pk=issued.api_key.pk).update(daily_credit_cap=25)
    secret = issued.secret
    data = send(
        key_client(secret),
        event("cap-1", account=str(account.pk)),
        event("cap-2", account=str(other_account.pk)),
        event("cap-3", account=str(account.pk)),
        event("cap-4", "linking", account=str(other_account.pk)),
    )
    assert [(r["status"], r["reason"]) for r in data["results"]] == [
        ("created", ""),
        ("created", ""),
        ("refused", "cap"),
        ("created", ""),
    ]
    account.refresh_from_db()
    other_account.refresh_from_db()
    assert (account.credits, other_account.credits) == (990, 500 - 13)


def test_a_balance_alert_fires_for_the_account_whose_batch_crosses_it(
    make_account, account: Account, platform_secret: str
) -> None:
    from creditdesk.events.models import Event

    low = make_account(credits=100, low_balance_threshold=85)
    send(
        key_client(platform_secret),
        event("a-1", account=str(account.pk)),
        event("a-2", account=str(low.pk)),
        event("a-3", account=str(low.pk)),
    )
    assert list(Event.objects.filter(type="balance.low").values_list("account_id", "data")) == [
        (low.pk, {"balance": 80, "threshold": 85})
    ]


def test_a_grant_due_to_expire_leaves_before_the_batch_draws(
    account: Account, make_account, platform_secret: str
) -> None:
    expiring = make_account()
    grant_credits(
        account=expiring, amount=50, description="promo", expires_at=timezone.now() + timedelta(hours=1)
    )
    grant_credits(account=expiring, amount=20, description="paid")
    later = timezone.now() + timedelta(hours=2)
    from creditdesk.billing.services.usage_batch import record_usage_batch

    results = record_usage_batch(
        account=None,
        user=None,
        events=[
            {"operation_type": "clustering", "reference_id": "e-1", "account": str(expiring.pk)},
            {"operation_type": "clustering", "reference_id": "e-2", "account": str(expiring.pk)},
            {"operation_type": "clustering", "reference_id": "e-3", "account": str(expiring.pk)},
        ],
        at=later,
    )
    assert [(r.status, r.reason) for r in results] == [
        ("created", ""),
        ("created", ""),
        ("refused", "insufficient_credits"),
    ]
    expiring.refresh_from_db()
    assert expiring.credits == 0
    assert CreditTransaction.objects.filter(account=expiring, transaction_type="expiration").count() == 1
    assert_ledger_consistent(expiring)


def test_an_idempotency_key_of_a_platform_batch_naming_no_account_replays(
    account: Account, other_account: Account, platform_secret: str
) -> None:
    client = key_client(platform_secret)
    body = {"events": [event("i-1", account=str(account.pk)), event("i-2", account=str(other_account.pk))]}
    first = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    again = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert CreditUsageLog.objects.count() == 2
    other = client.post(
        BATCH,
        {"events": [event("i-3", account=str(account.pk))]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="batch-1",
    )
    assert other.status_code == 422


def test_a_new_logs_answer_is_what_the_usage_serializer_says_of_the_stored_log(
    owner_client: APIClient, account: Account
) -> None:
    from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer

    data = send(
        owner_client,
        event("f-1"),
        event("f-2", cost_usd="0.1234", model="gpt", tokens_input=5, tokens_output=7, metadata={"a": [1]}),
        event("f-3", cost_usd="0"),
    )
    for result in data["results"]:
        stored = CreditUsageLog.objects.get(pk=result["usage"]["id"])
        assert result["usage"] == CreditUsageLogSerializer(stored).data
    assert CreditUsageLog.objects.get(reference_id="f-2").metadata == {"a": [1]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_batches_across_accounts_never_deadlock_lose_or_double_credits(
    make_account,
) -> None:
    from django.core.management import call_command

    from creditdesk.tenancy.api_keys import create_platform_key

    tenants = [make_account(credits=200) for _ in range(5)]
    secret = create_platform_key(name="platform", scopes=["usage:write"]).secret
    answers: list[dict] = []
    errors: list[object] = []

    def run(worker: int) -> None:
        try:
            client = key_client(secret)
            order = tenants if worker % 2 == 0 else list(reversed(tenants))  # overlapping, opposite orders
            for round_ in range(3):
                batch = [
                    event(f"w{worker}-r{round_}-{n}", account=str(tenant.pk))
                    for n in range(4)
                    for tenant in order
                ]
                response = client.post(BATCH, {"events": batch}, format="json")
                if response.status_code != 200:
                    errors.append(response.content)
                    continue
                answers.append(response.json()["data"])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    created = [r for answer in answers for r in answer["results"] if r["status"] == "created"]
    assert len(created) == 5 * 20  # 200 credits an account, 10 an event: each account exactly emptied
    assert sum(answer["refused"] for answer in answers) == 6 * 3 * 20 - 100
    for tenant in tenants:
        tenant.refresh_from_db()
        assert tenant.credits == 0
        assert sum(1 for r in created if r["account"] == tenant.pk) == 20
        assert CreditUsageLog.objects.filter(account=tenant).count() == 20
        assert_ledger_consistent(tenant)
    call_command("verify_ledger")


# --- the quick path of validation ----------------------------------------------------------------------

QUICK_EVENTS = [
    {"operation_type": "clustering", "reference_id": "r"},
    {"operation_type": "linking", "reference_id": "r" * 128, "units": 1_000_000, "model": "m" * 120},
    {
        "operation_type": "x",
        "reference_id": "r",
        "cost_usd": "0.1234",
        "tokens_input": 0,
        "tokens_output": 2**31 - 1,
    },
    {"operation_type": "x", "reference_id": "r", "cost_usd": 3, "metadata": {"a": {"b": [1, "c"]}}},
    {"operation_type": "x", "reference_id": "r", "cost_usd": None, "tokens_input": None, "model": ""},
    {"operation_type": "x", "reference_id": "r", "account": 17},
    {"operation_type": "x", "reference_id": "r", "account": "acme-inc"},
]
SLOW_EVENTS = [  # coerced, trimmed or refused by the serializer: the quick path leaves them to it
    {"operation_type": " clustering ", "reference_id": "r"},
    {"operation_type": "clustering", "reference_id": "r", "units": "2"},
    {"operation_type": "clustering", "reference_id": "r", "units": True},
    {"operation_type": "clustering", "reference_id": "r", "units": 0},
    {"operation_type": "clustering", "reference_id": "r", "units": 1.0},
    {"operation_type": "clustering", "reference_id": "r" * 129},
    {"operation_type": "clustering", "reference_id": ""},
    {"operation_type": "clustering", "reference_id": "caf\u00e9"},
    {"operation_type": "clustering", "reference_id": "a\x00b"},
    {"operation_type": "clustering"},
    {"operation_type": "clustering", "reference_id": "r", "metadata": None},
    {"operation_type": "clustering", "reference_id": "r", "metadata": []},
    {"operation_type": "clustering", "reference_id": "r", "cost_usd": "0.12345"},
    {"operation_type": "clustering", "reference_id": "r", "cost_usd": "-1"},
    {"operation_type": "clustering", "reference_id": "r", "tokens_input": -1},
    {"operation_type": "clustering", "reference_id": "r", "model": " m"},
    {"operation_type": "clustering", "reference_id": "r", "account": True},
    {"operation_type": "clustering", "reference_id": "r", "account": ""},
    {"operation_type": "clustering", "reference_id": "r", "credits": 5},
]


@pytest.mark.parametrize("sample", QUICK_EVENTS)
def test_the_quick_validation_returns_what_the_serializer_returns(sample: dict) -> None:
    from creditdesk.billing.serializers.usage_batch import RecordUsageBatchSerializer, quick_events

    serializer = RecordUsageBatchSerializer(data={"events": [sample]})
    assert serializer.is_valid(), serializer.errors
    assert quick_events({"events": [sample]}) == [
        dict(event) for event in serializer.validated_data["events"]
    ]


@pytest.mark.parametrize("sample", SLOW_EVENTS)
def test_the_quick_validation_leaves_anything_the_serializer_would_change_or_refuse_to_it(
    sample: dict,
) -> None:
    from creditdesk.billing.serializers.usage_batch import quick_events

    assert quick_events({"events": [{"operation_type": "clustering", "reference_id": "ok"}, sample]}) is None


@pytest.mark.parametrize(
    "data",
    [
        {"events": []},
        {"events": {"0": {}}},
        {"events": [{"operation_type": "x", "reference_id": "r"}], "x": 1},
        [],
    ],
)
def test_the_quick_validation_leaves_a_malformed_batch_to_the_serializer(data: object) -> None:
    from creditdesk.billing.serializers.usage_batch import quick_events

    assert quick_events(data) is None

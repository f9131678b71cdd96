"""On PostgreSQL a metering POST reads the price and writes everything in one statement (creditdesk_meter,
migrations 0014 and 0017); the behaviour is the plain path's: the other metering tests run on both
databases."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditCost, CreditGrant, CreditTransaction, CreditUsageLog
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.testing import assert_ledger_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

USAGE = "/api/v1/billing/credits/usage/"


def test_a_metering_post_sends_one_statement_after_authentication(
    owner_client: APIClient, account: Account
) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.post(
            USAGE, {"operation_type": "clustering", "cost_usd": "0.25"}, format="json"
        )
    assert response.status_code == 201
    statements = [query["sql"] for query in queries.captured_queries]
    # The test's transaction makes it a savepoint; in autocommit (a server) it is the statement alone.
    writes = [sql for sql in statements if not sql.startswith("SELECT u.")]
    assert [sql.split("(")[0] for sql in writes if "SAVEPOINT" not in sql] == [
        "SELECT * FROM creditdesk_meter"
    ]
    log = CreditUsageLog.objects.get(pk=response.json()["data"]["id"])
    assert (log.credits_used, log.cost_usd, log.transaction.amount, log.transaction.balance_after) == (
        10,
        pytest.approx(0.25),
        -10,
        990,
    )
    assert response.json()["data"]["created_at"].startswith(log.created_at.isoformat()[:19])
    assert_ledger_consistent(account)


def test_rows_written_in_one_statement_keep_the_ledgers_order_and_rollups(
    owner_client: APIClient, account: Account
) -> None:
    for operation in ("clustering", "linking", "clustering"):
        assert owner_client.post(USAGE, {"operation_type": operation}, format="json").status_code == 201
    rows = list(CreditTransaction.objects.filter(account=account).order_by("seq"))
    assert [row.seq for row in rows] == [1, 2, 3, 4]
    assert [row.created_at for row in rows] == sorted(row.created_at for row in rows)
    balance = owner_client.get("/api/v1/billing/credits/balance/balance/").json()["data"]
    assert (balance["credits"], balance["credits_used_this_month"]) == (977, 23)
    account.refresh_from_db()
    assert account.ledger_seq == 4
    assert_ledger_consistent(account)


def test_a_short_balance_falls_back_to_the_plain_path_and_writes_nothing(make_account, make_member) -> None:
    from creditdesk.conftest import bearer_client

    account = make_account(credits=5)
    client = bearer_client(make_member(account, "owner"))
    response = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 402
    assert not CreditUsageLog.objects.filter(account=account).exists()
    assert_ledger_consistent(account)


def test_a_grant_due_to_expire_is_expired_by_the_plain_path_before_the_charge(
    owner_client: APIClient, account: Account
) -> None:
    promo = grant_credits(
        account=account, amount=50, description="promo", expires_at=timezone.now() + timedelta(seconds=1)
    )
    CreditGrant.objects.filter(transaction=promo).update(expires_at=timezone.now() - timedelta(seconds=1))
    Account.objects.filter(pk=account.pk).update(next_expiry_at=timezone.now() - timedelta(seconds=1))
    assert owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    types = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("seq")
        .values_list("transaction_type", flat=True)
    )
    assert types[-2:] == ["expiration", "deduction"]
    assert_ledger_consistent(account)


@pytest.mark.parametrize(
    ("threshold", "credits", "event"), [(995, 1000, "balance.low"), (0, 10, "balance.depleted")]
)
def test_a_charge_that_raises_a_balance_alert_takes_the_plain_path_and_records_its_event_with_it(
    make_account, make_member, threshold: int, credits: int, event: str
) -> None:
    from creditdesk.conftest import bearer_client
    from creditdesk.events.models import Event

    account = make_account(credits=credits)
    Account.objects.filter(pk=account.pk).update(low_balance_threshold=threshold)
    client = bearer_client(make_member(account, "owner"))
    with CaptureQueriesContext(connection) as queries:
        response = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 201
    statements = [query["sql"] for query in queries.captured_queries]
    # The function refused (it writes nothing then), and the plain path charged and emitted the alert.
    assert any(sql.startswith("SELECT * FROM creditdesk_meter") for sql in statements)
    assert any(sql.startswith("UPDATE accounts_account SET credits") for sql in statements), statements
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    assert list(Event.objects.filter(account=account, type=event).values_list("type", flat=True)) == [event]
    assert_ledger_consistent(account)


def test_a_price_change_applies_to_the_very_next_charge(owner_client: APIClient, account: Account) -> None:
    assert owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    CreditCost.objects.filter(operation_type="clustering").update(
        credits_per_unit=7, display_name="Clusters", unit="set"
    )
    response = owner_client.post(USAGE, {"operation_type": "clustering", "units": 3}, format="json")
    assert response.status_code == 201
    assert response.json()["data"]["credits_used"] == 21
    row = CreditTransaction.objects.filter(account=account).order_by("-seq").first()
    assert row is not None
    assert (row.amount, row.balance_after, row.description) == (-21, 1000 - 10 - 21, "Clusters (3 × set)")
    assert row.metadata == {"operation_type": "clustering", "units": 3, "reference_id": ""}
    assert CreditUsageLog.objects.get(transaction=row).credits_used == 21
    assert_ledger_consistent(account)


def test_an_operation_taken_off_the_price_list_is_refused_at_once_and_writes_nothing(
    owner_client: APIClient, account: Account
) -> None:
    assert owner_client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 201
    CreditCost.objects.filter(operation_type="clustering").update(is_active=False)
    response = owner_client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"] == {"operation_type": ["Unknown or inactive operation type: 'clustering'."]}
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert (account.credits, account.ledger_seq) == (990, 2)


def test_a_job_metered_before_is_replayed_by_the_function_without_writing(
    owner_client: APIClient, account: Account
) -> None:
    job = {"operation_type": "clustering", "reference_id": "job-1", "model": "m"}
    first = owner_client.post(USAGE, job, format="json")
    assert first.status_code == 201
    with CaptureQueriesContext(connection) as queries:
        again = owner_client.post(USAGE, job, format="json")
    assert again.status_code == 200
    assert again.json()["data"] == first.json()["data"]
    statements = [query["sql"] for query in queries.captured_queries if "SAVEPOINT" not in query["sql"]]
    # Authentication, the function (which answers "replay"), and the read of the first log.
    assert [sql.split("(")[0] for sql in statements[1:2]] == ["SELECT * FROM creditdesk_meter"]
    assert len(statements) == 3
    conflict = owner_client.post(USAGE, {**job, "model": "other"}, format="json")
    assert conflict.status_code == 409
    assert set(conflict.json()["errors"]) == {"model", "reference_id"}
    assert CreditUsageLog.objects.filter(account=account).count() == 1
    account.refresh_from_db()
    assert account.credits == 990
    assert_ledger_consistent(account)


def test_the_answer_built_from_the_functions_row_is_the_stored_logs(
    owner_client: APIClient, account: Account
) -> None:
    from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer

    job = {
        "operation_type": "linking",
        "units": 2,
        "cost_usd": "0.1234",
        "tokens_input": 5,
        "reference_id": "j",
    }
    response = owner_client.post(USAGE, job, format="json")
    assert response.status_code == 201
    stored = CreditUsageLog.objects.get(pk=response.json()["data"]["id"])
    assert response.json()["data"] == json.loads(json.dumps(CreditUsageLogSerializer(stored).data))

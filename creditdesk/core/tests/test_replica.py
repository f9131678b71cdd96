"""The usage analytics against a real streaming replica of the PostgreSQL primary.

`make test-replica` (scripts/test-replica.sh) starts one with scripts/start-replica.sh and runs these with
DATABASE_REPLICA_URL set; elsewhere they are skipped with the reason, and with REQUIRE_REPLICA=1 (which
the script sets) a missing replica is a failure.
"""

import os
import time
import warnings

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.services.usage import record_usage
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.roles import Role

ANALYTICS = "/api/v1/account/usage/analytics/?days=7"
BALANCE = "/api/v1/billing/credits/balance/balance/"

if "replica" in settings.DATABASES:
    pytestmark = [
        pytest.mark.replica,
        pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
    ]
else:
    REASON = "no read replica: DATABASE_REPLICA_URL is not set (make test-replica starts one)"
    if os.environ.get("REQUIRE_REPLICA"):
        raise RuntimeError(REASON)  # a collection error: the run fails
    warnings.warn(f"SKIPPED: the replica tests ({REASON})", stacklevel=1)
    pytestmark = [pytest.mark.replica, pytest.mark.skip(reason=REASON)]


def wait_for_replay(timeout: float = 15) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections["replica"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"the replica did not replay up to {target} in {timeout} s")


@pytest.fixture
def spender(make_account, make_member) -> tuple[Account, APIClient, object]:
    account = make_account(credits=1000)
    owner = make_member(account, Role.OWNER)
    return account, bearer_client(owner), owner


def test_the_replica_is_a_standby_of_the_primary() -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        in_recovery, name = cursor.fetchone()
    assert in_recovery is True
    assert name == connections["default"].settings_dict["NAME"]


def test_the_analytics_are_read_from_the_replica_and_authentication_from_the_primary(spender) -> None:
    account, client, owner = spender
    record_usage(account=account, user=owner, operation_type="clustering")
    wait_for_replay()
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_primary,
    ):
        data = client.get(ANALYTICS).json()["data"]
    assert data["total_usage"] == 10
    assert any("dailyledgerrollup" in query["sql"] for query in on_replica.captured_queries)
    assert not any("rollup" in query["sql"] for query in on_primary.captured_queries)
    assert any("accounts_user" in query["sql"] for query in on_primary.captured_queries)


def test_with_replay_paused_the_analytics_lag_while_the_balance_is_current(spender) -> None:
    account, client, owner = spender
    record_usage(account=account, user=owner, operation_type="clustering")
    wait_for_replay()
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    try:
        record_usage(account=account, user=owner, operation_type="clustering")
        assert client.get(BALANCE).json()["data"]["credits_used_this_month"] == 20
        assert client.get(ANALYTICS).json()["data"]["total_usage"] == 10
    finally:
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_replay()
    assert client.get(ANALYTICS).json()["data"]["total_usage"] == 20

"""Queries per read endpoint, fixed: an N+1 (a query per row) or a COUNT(*) that grows with the history
would change these numbers. Each list is read with several rows, so a query per row cannot hide."""

from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.billing.services.purchases import purchase_package
from creditdesk.billing.services.usage import record_usage
from creditdesk.billing.tests.factories import CreditPackageFactory

pytestmark = pytest.mark.django_db

AUTH = 1  # the bearer token's user, with its account and plan (one joined query)
LIST = 2  # the count (the last sequence number when unfiltered, else COUNT(*)) and the page


def spend(account: Account, user: User, times: int) -> None:
    for _ in range(times):
        record_usage(account=account, user=user, operation_type="clustering")


def purchase(account: Account, user: User, times: int) -> None:
    package = CreditPackageFactory()
    for _ in range(times):
        purchase_package(account=account, package_id=package.pk, payment_method="sandbox", actor=user)


def test_balance(owner_client: APIClient, account: Account, owner: User, django_assert_num_queries) -> None:
    spend(account, owner, 3)
    # + one statement: the live grants by source and expiry, this month's use from the rollups, and the
    # account's credits and held (one snapshot)
    with django_assert_num_queries(AUTH + 1):
        response = owner_client.get("/api/v1/billing/credits/balance/balance/")
    assert response.status_code == 200


def test_transactions(
    owner_client: APIClient, account: Account, owner: User, django_assert_num_queries
) -> None:
    spend(account, owner, 5)
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/billing/transactions/?page_size=3")
    assert response.status_code == 200
    assert len(response.json()["data"]["results"]) == 3


def test_filtered_transactions(
    owner_client: APIClient, account: Account, owner: User, django_assert_num_queries
) -> None:
    spend(account, owner, 4)
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/billing/transactions/?transaction_type=deduction&page_size=2")
    assert response.status_code == 200


def test_usage_logs(
    owner_client: APIClient, account: Account, owner: User, django_assert_num_queries
) -> None:
    spend(account, owner, 5)
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/billing/credits/usage/?page_size=3")
    assert response.status_code == 200
    assert len(response.json()["data"]["results"]) == 3


def test_invoices(owner_client: APIClient, account: Account, owner: User, django_assert_num_queries) -> None:
    purchase(account, owner, 3)
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/billing/invoices/")
    assert response.status_code == 200
    assert response.json()["data"]["count"] == 3


def test_payments(owner_client: APIClient, account: Account, owner: User, django_assert_num_queries) -> None:
    purchase(account, owner, 3)
    with django_assert_num_queries(AUTH + LIST):  # each payment's invoice number comes with it (join)
        response = owner_client.get("/api/v1/billing/payments/")
    assert response.status_code == 200
    assert response.json()["data"]["count"] == 3


@pytest.mark.parametrize(
    "path",
    ["/api/v1/billing/credit-costs/", "/api/v1/billing/credit-packages/", "/api/v1/billing/payment-methods/"],
)
def test_catalog(owner_client: APIClient, path: str, django_assert_num_queries) -> None:
    CreditPackageFactory.create_batch(3)
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get(path)
    assert response.status_code == 200


# The unfiltered count is read from the rollups (billing/selectors.py): it must equal the rows' count.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 6),
        ("?transaction_type=deduction", 4),
        ("?transaction_type=grant", 2),
        ("?created_after=2999-01-01T00:00:00Z", 0),
    ],
)
def test_the_transaction_count_matches_the_rows(
    owner_client: APIClient, account: Account, owner: User, query: str, expected: int
) -> None:
    grant_credits(account=account, amount=50, description="Top-up")  # the fixture granted once already
    spend(account, owner, 4)
    assert CreditTransaction.objects.filter(account=account).count() == 6
    response = owner_client.get(f"/api/v1/billing/transactions/{query}")
    assert response.json()["data"]["count"] == expected


def test_the_usage_log_count_matches_the_rows(
    owner_client: APIClient, other_client: APIClient, account: Account, owner: User, make_member: Callable
) -> None:
    spend(account, owner, 3)
    assert owner_client.get("/api/v1/billing/credits/usage/").json()["data"]["count"] == 3
    assert (
        owner_client.get("/api/v1/billing/credits/usage/?operation_type=linking").json()["data"]["count"] == 0
    )
    assert other_client.get("/api/v1/billing/credits/usage/").json()["data"]["count"] == 0


def test_metering_writes_only_what_it_must(owner_client: APIClient, django_assert_num_queries) -> None:
    # auth, then on PostgreSQL one statement, creditdesk_meter() (migrations 0014, 0017): the price, the
    # UPDATE ... RETURNING, the ledger row, the draw, both rollups and the usage log. On SQLite: the price,
    # then under the balance lock UPDATE ... RETURNING, the ledger row, the draw (the plain ORM reads the
    # live grants, updates the one drawn from and inserts its draw), its rollup, the usage log, its rollup.
    # The two savepoint statements are the test's own transaction around the block; a request has none.
    writes = 1 if connection.vendor == "postgresql" else 1 + 5 + 3
    with django_assert_num_queries(AUTH + writes + 2):
        response = owner_client.post(
            "/api/v1/billing/credits/usage/", {"operation_type": "linking"}, format="json"
        )
    assert response.status_code == 201

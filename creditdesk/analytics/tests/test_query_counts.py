"""Analytics reads the daily rollups: a fixed number of queries, whatever the history or the window."""

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.billing.services.usage import record_usage

pytestmark = pytest.mark.django_db

AUTH = 1  # the bearer token's user, with its account and plan (one joined query)


@pytest.mark.parametrize("days", [1, 30, 365])
def test_analytics(
    owner_client: APIClient, account: Account, owner: User, days: int, django_assert_num_queries
) -> None:
    for operation_type in ("clustering", "linking", "clustering"):
        record_usage(account=account, user=owner, operation_type=operation_type)
    with django_assert_num_queries(AUTH + 1):  # both rollups, in one statement
        response = owner_client.get(f"/api/v1/account/usage/analytics/?days={days}")
    assert response.status_code == 200
    assert len(response.json()["data"]["daily_usage"]) == days

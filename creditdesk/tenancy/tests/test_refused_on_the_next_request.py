"""Authentication reads the member or the key on every request, in one indexed query and with no cache:
whatever takes the right away is refused on the very next request, on the hot reads and on metering."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.accounts.services.team import remove_member
from creditdesk.billing.models import CreditUsageLog
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.api_keys import create_account_key, revoke_account_key
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
BALANCE = "/api/v1/billing/credits/balance/balance/"
ANALYTICS = "/api/v1/account/usage/analytics/?days=30"
USAGE = "/api/v1/billing/credits/usage/"


def remove(member: User, owner: User, account: Account) -> None:
    remove_member(account=account, actor=owner, member_id=member.pk)


def deactivate(member: User, owner: User, account: Account) -> None:
    member.is_active = False
    member.save()


def deactivate_account(member: User, owner: User, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(is_active=False)


def change_password(member: User, owner: User, account: Account) -> None:
    member.set_password("a-new-password-entirely")  # bumps token_version: every earlier token is revoked
    member.save()


@pytest.mark.parametrize("take_away", [remove, deactivate, deactivate_account, change_password])
def test_a_members_token_is_refused_on_the_very_next_request(
    take_away: Callable[[User, User, Account], None], account: Account, owner: User, make_member
) -> None:
    member = make_member(account, Role.MEMBER, email="leaver@acme.test")
    client = bearer_client(member)
    for path in (BALANCE, ANALYTICS):
        assert client.get(path).status_code == 200
    take_away(member, owner, account)
    for path in (BALANCE, ANALYTICS):
        assert client.get(path).status_code == 401
    assert client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 401
    account.refresh_from_db()
    assert account.credits == 1000 and not CreditUsageLog.objects.exists()


def revoke(key_id: int, owner: User, account: Account) -> None:
    revoke_account_key(account=account, actor=owner, key_id=key_id)


def deactivate_keys_account(key_id: int, owner: User, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(is_active=False)


@pytest.mark.parametrize("take_away", [revoke, deactivate_keys_account])
def test_an_api_key_is_refused_on_the_very_next_request(
    take_away: Callable[[int, User, Account], None], account: Account, owner: User
) -> None:
    issued = create_account_key(
        account=account, actor=owner, name="worker", scopes=["usage:write", "billing:read"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert client.get(BALANCE).status_code == 200
    take_away(issued.api_key.pk, owner, account)
    assert client.get(BALANCE).status_code == 401
    assert client.post(USAGE, {"operation_type": "clustering"}, format="json").status_code == 401
    account.refresh_from_db()
    assert account.credits == 1000 and not CreditUsageLog.objects.exists()


def test_a_key_is_looked_up_in_one_statement_by_its_hash_with_its_account_and_plan(
    account: Account, owner: User
) -> None:
    issued = create_account_key(account=account, actor=owner, name="worker", scopes=["billing:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert client.get(BALANCE).status_code == 200  # the first use writes last_used_at, once a minute
    with CaptureQueriesContext(connection) as queries:
        assert client.get(BALANCE).status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2, statements  # the key, then the balance
    lookup = statements[0]
    assert "tenancy_apikey" in lookup and "key_hash" in lookup
    assert "accounts_account" in lookup and "billing_plan" in lookup

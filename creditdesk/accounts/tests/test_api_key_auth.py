"""API keys as a way in: which endpoints take them, what they may do, and when they stop working."""

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import CreditTransaction, CreditUsageLog
from creditdesk.tenancy.api_keys import (
    IssuedKey,
    create_account_key,
    create_platform_key,
    hash_secret,
    revoke_account_key,
)
from creditdesk.tenancy.models import ApiKey, AuditLog
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"
BALANCE = "/api/v1/billing/credits/balance/"
TRANSACTIONS = "/api/v1/billing/transactions/"
BOTH_SCOPES = ["usage:write", "billing:read"]


def key_client(secret: str, *, header: str = "bearer", **extra: str) -> APIClient:
    client = APIClient()
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", **extra)
    else:
        client.credentials(HTTP_X_API_KEY=secret, **extra)
    return client


@pytest.fixture
def issue(owner: User, account: Account) -> Callable[..., IssuedKey]:
    def make(scopes: list[str] | None = None, **kwargs: object) -> IssuedKey:
        return create_account_key(
            account=kwargs.pop("for_account", account),  # type: ignore[arg-type]
            actor=kwargs.pop("actor", owner),
            name=str(kwargs.pop("name", "content worker")),
            scopes=scopes or BOTH_SCOPES,
            **kwargs,  # type: ignore[arg-type]
        )

    return make


def test_a_key_is_shown_once_with_its_prefix_and_only_its_keyed_hash_is_stored(issue) -> None:
    issued = issue()
    assert issued.secret.startswith("cdk_live_") and len(issued.secret) > 40
    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    assert stored.key_hash == hash_secret(issued.secret) and issued.secret not in stored.key_hash
    assert issued.secret.startswith(stored.display_prefix)
    assert all(
        issued.secret not in str(value) for value in ApiKey.objects.values().get(pk=stored.pk).values()
    )


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_key_meters_for_its_account_and_the_rows_name_the_key(issue, account: Account, header: str) -> None:
    issued = issue()
    response = key_client(issued.secret, header=header).post(
        USAGE, {"operation_type": "clustering", "units": 2}, format="json"
    )
    assert response.status_code == 201, response.json()
    log = CreditUsageLog.objects.get(pk=response.json()["data"]["id"])
    assert log.account_id == account.pk and log.api_key_id == issued.api_key.pk and log.user_id is None
    assert log.transaction.api_key_id == issued.api_key.pk and log.transaction.created_by_id is None
    account.refresh_from_db()
    assert account.credits == 980
    assert_ledger_consistent(account)


def test_a_key_reads_balance_transactions_and_usage(issue) -> None:
    client = key_client(issue().secret)
    assert client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    assert client.get(BALANCE).json()["data"]["credits"] == 997
    assert client.get(TRANSACTIONS).json()["data"]["count"] == 2
    assert client.get(USAGE).json()["data"]["count"] == 1
    assert client.get("/api/v1/billing/credit-costs/").status_code == 200


def test_a_key_without_the_scope_is_a_403_and_spends_nothing(issue, account: Account) -> None:
    reader = key_client(issue(["billing:read"]).secret)
    response = reader.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 403
    assert "usage:write" in response.json()["error"]
    writer = key_client(issue(["usage:write"]).secret)
    assert writer.get(BALANCE).status_code == 403
    assert writer.get(TRANSACTIONS).status_code == 403
    account.refresh_from_db()
    assert account.credits == 1000 and not CreditUsageLog.objects.exists()


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/account/settings/"),
        ("patch", "/api/v1/account/settings/"),
        ("get", "/api/v1/account/team/"),
        ("post", "/api/v1/account/team/"),
        ("get", "/api/v1/account/api-keys/"),
        ("post", "/api/v1/account/api-keys/"),
        ("get", "/api/v1/account/audit-log/"),
        ("get", "/api/v1/auth/me/"),
        ("get", "/api/v1/billing/invoices/"),
        ("post", "/api/v1/billing/credit-packages/1/purchase/"),
        ("get", "/api/v1/account/usage/analytics/"),
    ],
)
def test_member_only_endpoints_refuse_keys(issue, account: Account, method: str, path: str) -> None:
    response = getattr(key_client(issue().secret), method)(path, {"name": "Taken"}, format="json")
    assert response.status_code == 403
    assert "API keys are not accepted here" in response.json()["error"]
    account.refresh_from_db()
    assert account.name == "Acme" and ApiKey.objects.count() == 1


def test_a_revoked_key_is_refused_on_the_very_next_request(issue, owner: User, account: Account) -> None:
    issued = issue()
    client = key_client(issued.secret)
    assert client.get(BALANCE).status_code == 200
    revoke_account_key(account=account, actor=owner, key_id=issued.api_key.pk)
    response = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "This API key has been revoked."
    assert issued.secret not in response.content.decode()
    assert not CreditUsageLog.objects.exists()


def test_an_expired_key_is_refused_from_its_expiry_on(issue, account: Account) -> None:
    issued = issue(expires_at=timezone.now() + timedelta(hours=1))
    client = key_client(issued.secret)
    assert client.get(BALANCE).status_code == 200
    ApiKey.objects.filter(pk=issued.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"] == "This API key has expired."
    account.refresh_from_db()
    assert account.credits == 1000


@pytest.mark.parametrize(
    "secret", ["cdk_live_not-a-real-key", "cdk_live_", "cdk_live_" + "A" * 43, "cdk_live_" + "B" * 5000]
)
def test_an_unknown_key_is_a_401_that_does_not_echo_it(secret: str) -> None:
    response = key_client(secret).get(BALANCE)
    assert response.status_code == 401
    assert response.json()["error"] == "Invalid API key."
    assert "A" * 43 not in response.content.decode() and "B" * 50 not in response.content.decode()


def test_a_garbage_x_api_key_is_a_401_not_a_fallback_to_anonymous() -> None:
    assert key_client("hello", header="x-api-key").get(BALANCE).status_code == 401


def test_a_key_of_account_a_sees_only_account_a(
    issue, other_account: Account, other_client: APIClient
) -> None:
    assert other_client.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    client = key_client(issue().secret)
    assert client.get(TRANSACTIONS).json()["data"]["count"] == 1  # its own account's opening grant
    other_ids = set(CreditTransaction.objects.filter(account=other_account).values_list("id", flat=True))
    seen = {row["id"] for row in client.get(TRANSACTIONS).json()["data"]["results"]}
    assert not seen & other_ids
    assert client.get(BALANCE, HTTP_X_ACCOUNT=str(other_account.pk)).status_code == 404
    assert client.get(BALANCE, HTTP_X_ACCOUNT=other_account.slug).status_code == 404
    other_key = ApiKey.objects.create(
        kind="account", account=other_account, name="theirs", prefix="x", key_hash="0" * 64, scopes=[]
    )
    assert client.get(f"/api/v1/account/api-keys/{other_key.pk}/").status_code == 403  # keys never manage


def test_an_account_key_cannot_name_another_account_in_the_body(issue, other_account: Account) -> None:
    response = key_client(issue().secret).post(
        USAGE, {"operation_type": "clustering", "account": other_account.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"account": ["This field cannot be set."]}
    other_account.refresh_from_db()
    assert other_account.credits == 500


def test_last_used_at_is_written_at_most_once_a_minute(issue) -> None:
    issued = issue()
    client = key_client(issued.secret)
    assert client.get(BALANCE).status_code == 200
    first = ApiKey.objects.get(pk=issued.api_key.pk).last_used_at
    assert first is not None
    for _ in range(3):
        assert client.get(BALANCE).status_code == 200
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at == first
    ApiKey.objects.filter(pk=issued.api_key.pk).update(last_used_at=first - timedelta(seconds=61))
    assert client.get(BALANCE).status_code == 200
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at > first


def test_a_fresh_last_used_at_costs_no_write(issue) -> None:
    issued = issue()
    client = key_client(issued.secret)
    client.get(BALANCE)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(BALANCE).status_code == 200
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]


def test_keys_never_reach_the_logs_or_the_audit_rows(issue, caplog, account: Account, owner: User) -> None:
    caplog.set_level(logging.DEBUG)
    issued = issue()
    client = key_client(issued.secret)
    client.post(USAGE, {"operation_type": "clustering"}, format="json")
    revoke_account_key(account=account, actor=owner, key_id=issued.api_key.pk)
    client.post(USAGE, {"operation_type": "clustering"}, format="json")
    key_client(issued.secret + "x").get(BALANCE)
    assert issued.secret not in caplog.text
    audit = " ".join(f"{row.target} {row.changes}" for row in AuditLog.objects.all())
    assert issued.api_key.display_prefix in audit and issued.secret not in audit
    assert {"api_key.created", "api_key.revoked"} <= set(AuditLog.objects.values_list("action", flat=True))


@override_settings(API_RATE_LIMIT="3/min")
def test_throttles_count_per_key(issue) -> None:
    cache.clear()
    first, second = key_client(issue().secret), key_client(issue(name="other").secret)
    assert [first.get(BALANCE).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get(BALANCE).status_code == 200
    cache.clear()


# --- platform keys -------------------------------------------------------------------------------------------


@pytest.fixture
def platform_secret() -> str:
    return create_platform_key(name="image workers", scopes=BOTH_SCOPES).secret


def test_a_platform_key_meters_for_the_account_it_names(
    platform_secret: str, account: Account, other_account: Account
) -> None:
    client = key_client(platform_secret)
    by_header = client.post(
        USAGE, {"operation_type": "clustering"}, format="json", HTTP_X_ACCOUNT=str(other_account.pk)
    )
    assert by_header.status_code == 201, by_header.json()
    by_body = client.post(USAGE, {"operation_type": "linking", "account": account.slug}, format="json")
    assert by_body.status_code == 201, by_body.json()
    account.refresh_from_db()
    other_account.refresh_from_db()
    assert (account.credits, other_account.credits) == (997, 490)
    platform_key = ApiKey.objects.get(kind="platform")
    assert set(CreditUsageLog.objects.values_list("api_key_id", flat=True)) == {platform_key.pk}
    assert client.get(BALANCE, HTTP_X_ACCOUNT=account.slug).json()["data"]["credits"] == 997


def test_a_platform_key_that_names_no_account_is_a_400(platform_secret: str, account: Account) -> None:
    client = key_client(platform_secret)
    response = client.post(USAGE, {"operation_type": "clustering"}, format="json")
    assert response.status_code == 400
    assert "account" in response.json()["errors"]
    assert client.get(BALANCE).status_code == 400
    assert not CreditUsageLog.objects.exists()


@pytest.mark.parametrize("ref", ["999999", "no-such-tenant"])
def test_a_platform_key_that_names_an_unknown_account_is_a_404(platform_secret: str, ref: str) -> None:
    response = key_client(platform_secret).post(
        USAGE, {"operation_type": "clustering"}, format="json", HTTP_X_ACCOUNT=ref
    )
    assert response.status_code == 404
    assert not CreditUsageLog.objects.exists()


def test_a_platform_key_naming_two_different_accounts_is_a_400(
    platform_secret: str, account: Account, other_account: Account
) -> None:
    response = key_client(platform_secret).post(
        USAGE,
        {"operation_type": "clustering", "account": account.pk},
        format="json",
        HTTP_X_ACCOUNT=str(other_account.pk),
    )
    assert response.status_code == 400
    assert not CreditUsageLog.objects.exists()


def test_a_platform_key_cannot_reach_an_inactive_account(platform_secret: str, account: Account) -> None:
    Account.objects.filter(pk=account.pk).update(is_active=False)
    response = key_client(platform_secret).get(BALANCE, HTTP_X_ACCOUNT=str(account.pk))
    assert response.status_code == 401


def test_a_platform_key_still_refuses_member_only_endpoints(platform_secret: str, account: Account) -> None:
    response = key_client(platform_secret).get("/api/v1/account/settings/", HTTP_X_ACCOUNT=str(account.pk))
    assert response.status_code == 403


def test_a_revoked_platform_key_is_refused(platform_secret: str, account: Account) -> None:
    ApiKey.objects.filter(kind="platform").update(revoked_at=timezone.now())
    response = key_client(platform_secret).get(BALANCE, HTTP_X_ACCOUNT=str(account.pk))
    assert response.status_code == 401


def test_jwt_bearer_tokens_still_work_beside_keys(owner_client: APIClient) -> None:
    assert owner_client.get(BALANCE).status_code == 200
    assert owner_client.get("/api/v1/account/settings/").status_code == 200


def _statements(client: APIClient, method: str, path: str, **body: object) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(path, body or None, format="json")
    assert response.status_code in (200, 201), response.json()
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    "method, path, body",
    [("post", USAGE, {"operation_type": "clustering"}), ("get", BALANCE, {}), ("get", TRANSACTIONS, {})],
)
def test_a_key_costs_no_more_statements_than_a_jwt(
    issue, owner_client: APIClient, method: str, path: str, body: dict
) -> None:
    """The bench compares their speed; this pins the cause: one lookup by hash instead of one by user id,
    and no write for last_used_at once it is fresh."""
    client = key_client(issue().secret)
    _statements(client, method, path, **body)  # the first use writes last_used_at, once a minute
    through_key = _statements(client, method, path, **body)
    through_jwt = _statements(owner_client, method, path, **body)
    assert len(through_key) <= len(through_jwt), (through_key, through_jwt)

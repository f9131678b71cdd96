"""Fixtures shared by every app's tests."""

import os
import threading
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from creditdesk.accounts.models import Account, User
from creditdesk.accounts.tests.factories import AccountFactory, UserFactory
from creditdesk.billing.catalog import seed_catalog
from creditdesk.billing.models import Plan
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.tenancy.roles import Role

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: a rolled-back test may leave entries (cached analytics, throttle
    counts) under ids and seqs the next test's rows reuse (SQLite reuses row ids)."""
    cache.clear()


@pytest.fixture(autouse=True)
def _require_postgres_where_marked(request: pytest.FixtureRequest) -> None:
    """Tests marked `postgres` prove concurrency on the real thing; in the PostgreSQL pass they must run."""
    if request.node.get_closest_marker("postgres") is None:
        return
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_POSTGRES") or os.environ.get("CI") == "true":
            pytest.fail("This test needs PostgreSQL and the database is " + connection.vendor)
        pytest.skip("needs PostgreSQL (run `make test-postgres`)")


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def bearer_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def make_account(db: None) -> Callable[..., Account]:
    def make(credits: int = 0, **kwargs: object) -> Account:
        if not Plan.objects.exists():  # transactional tests flush the catalogue the migration wrote
            seed_catalog(apps)
        account = AccountFactory(**kwargs)
        if credits:
            grant_credits(account=account, amount=credits, description="Test credits")
        return account

    return make


@pytest.fixture
def make_member(db: None) -> Callable[..., User]:
    def make(account: Account, role: str = Role.MEMBER, **kwargs: object) -> User:
        return UserFactory(account=account, role=role, **kwargs)

    return make


@pytest.fixture
def account(make_account: Callable[..., Account]) -> Account:
    return make_account(credits=1000, name="Acme")


@pytest.fixture
def owner(account: Account, make_member: Callable[..., User]) -> User:
    return make_member(account, Role.OWNER, email="owner@acme.test")


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    return bearer_client(owner)


@pytest.fixture
def other_account(make_account: Callable[..., Account]) -> Account:
    return make_account(credits=500, name="Globex")


@pytest.fixture
def other_owner(other_account: Account, make_member: Callable[..., User]) -> User:
    return make_member(other_account, Role.OWNER, email="owner@globex.test")


@pytest.fixture
def other_client(other_owner: User) -> APIClient:
    return bearer_client(other_owner)


@pytest.fixture
def client_for(make_member: Callable[..., User], account: Account) -> Callable[[str], APIClient]:
    """A signed-in client of `account` with the given role."""

    def make(role: str) -> APIClient:
        return bearer_client(make_member(account, role))

    return make


def run_concurrently(count: int, work: Callable[[int], object]) -> list[object]:
    """Runs work(i) in `count` threads released together; each thread closes its own DB connection."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # the caller asserts on outcomes, errors included
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results

"""Queries per account read endpoint, fixed, with several members and audit entries so that an N+1 shows."""

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.tenancy.audit import AuditAction, record_audit
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db

AUTH = 1  # the bearer token's user, with its account and plan (one joined query)
LIST = 2  # the count and the page


@pytest.fixture
def team(account: Account, owner: object, make_member: Callable) -> None:
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        make_member(account, role)
    for n in range(3):
        record_audit(account=account, action=AuditAction.SETTINGS_UPDATED, actor=owner, target=f"thing {n}")


@pytest.mark.usefixtures("team")
def test_team(owner_client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/account/team/")
    assert response.status_code == 200
    assert response.json()["data"]["count"] == 4


@pytest.mark.usefixtures("team")
def test_audit_log(owner_client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(AUTH + LIST):
        response = owner_client.get("/api/v1/account/audit-log/")
    assert response.status_code == 200
    assert response.json()["data"]["count"] >= 3


@pytest.mark.usefixtures("team")
def test_settings(owner_client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(AUTH):  # the plan comes with the account
        response = owner_client.get("/api/v1/account/settings/")
    assert response.status_code == 200


@pytest.mark.usefixtures("team")
def test_me(owner_client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(AUTH):
        response = owner_client.get("/api/v1/auth/me/")
    assert response.status_code == 200

"""Refresh tokens never fork: of parallel refreshes with one token exactly one succeeds (item 7)."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from creditdesk.accounts.models import User
from creditdesk.conftest import PASSWORD, run_concurrently

REFRESH = "/api/v1/auth/refresh/"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_parallel_refreshes_with_one_token_yield_exactly_one_new_token(owner: User) -> None:
    login = APIClient().post(
        "/api/v1/auth/login/", {"email": owner.email, "password": PASSWORD}, format="json"
    )
    refresh = login.json()["data"]["refresh"]
    outcomes = run_concurrently(10, lambda _i: APIClient().post(REFRESH, {"refresh": refresh}, format="json"))
    statuses = sorted(getattr(o, "status_code", repr(o)) for o in outcomes)
    assert statuses == [200] + [401] * 9
    winner = next(o for o in outcomes if o.status_code == 200).json()["data"]["refresh"]
    assert APIClient().post(REFRESH, {"refresh": winner}, format="json").status_code == 200
    assert OutstandingToken.objects.filter(user=owner).count() == 3  # login, winner, winner's rotation


@pytest.mark.django_db
def test_a_rotated_token_is_refused_and_the_refusal_is_audited(owner: User) -> None:
    from creditdesk.tenancy.models import AuditLog

    login = APIClient().post(
        "/api/v1/auth/login/", {"email": owner.email, "password": PASSWORD}, format="json"
    )
    refresh = login.json()["data"]["refresh"]
    assert APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 200
    assert APIClient().post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
    assert AuditLog.objects.filter(action="auth.refresh", actor=owner).count() == 1
    assert AuditLog.objects.filter(action="auth.refresh_reused", actor=owner).count() == 1

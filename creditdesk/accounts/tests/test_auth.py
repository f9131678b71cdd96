import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.billing.models import CreditTransaction
from creditdesk.conftest import PASSWORD, bearer_client
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    cache.clear()


def register(client: APIClient, **overrides: str) -> object:
    body = {
        "email": "Founder@Startup.io",
        "password": "a-long-passphrase-9",
        "account_name": "Startup Inc",
        **overrides,
    }
    return client.post(REGISTER, body, format="json")


def test_registration_creates_the_account_its_owner_and_the_initial_credits(api_client: APIClient) -> None:
    response = register(api_client)
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(data) == {"user", "account", "access", "refresh"}
    user = User.objects.get(email="founder@startup.io")
    assert user.role == Role.OWNER and user.account.slug.startswith("startup-inc-")
    assert data["account"]["credit_balance"] == 100 == user.account.credits
    # The first month's plan grant, under the reference the monthly job would use (so it grants no more).
    grant = CreditTransaction.objects.get(account=user.account)
    assert (grant.transaction_type, grant.amount) == ("subscription", 100)
    assert grant.reference == f"subscription:{grant.created_at:%Y-%m}"
    assert grant.description.startswith("Initial credits")


def test_account_slugs_stay_unique(api_client: APIClient) -> None:
    register(api_client)
    register(api_client, email="second@startup.io")
    slugs = list(Account.objects.values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 2


def test_duplicate_email_is_a_400_on_the_email_field_whatever_its_case(api_client: APIClient) -> None:
    register(api_client)
    response = register(api_client, email="FOUNDER@startup.io")
    assert response.status_code == 400
    assert response.json()["errors"] == {"email": ["A user with this email already exists."]}
    assert Account.objects.count() == 1


def test_weak_password_is_refused_by_djangos_validators(api_client: APIClient) -> None:
    response = register(api_client, password="12345678")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.exists()


def test_registration_refuses_fields_it_does_not_take(api_client: APIClient) -> None:
    response = register(api_client, credits="100000", role="owner")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"credits", "role"}
    assert not Account.objects.exists()


def test_login_returns_tokens_user_and_account(api_client: APIClient, owner: User) -> None:
    response = api_client.post(LOGIN, {"email": "OWNER@acme.test", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["email"] == "owner@acme.test" and data["account"]["name"] == "Acme"
    assert AuditLog.objects.filter(action="auth.login", actor=owner).exists()
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    assert me.get("/api/v1/auth/me/").json()["data"]["user"]["id"] == owner.id


def test_wrong_password_and_unknown_email_look_the_same(api_client: APIClient, owner: User) -> None:
    wrong = api_client.post(LOGIN, {"email": owner.email, "password": "nope"}, format="json")
    unknown = api_client.post(LOGIN, {"email": "ghost@acme.test", "password": "nope"}, format="json")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"] == unknown.json()["error"] == "Invalid email or password."


def test_login_is_throttled_per_email(api_client: APIClient, owner: User, settings: object) -> None:
    settings.LOGIN_RATE_LIMIT = "3/min"
    for _ in range(3):
        api_client.post(LOGIN, {"email": owner.email, "password": "bad"}, format="json")
    response = api_client.post(LOGIN, {"email": owner.email, "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["success"] is False
    assert int(response["Retry-After"]) > 0


def test_refresh_rotates_and_the_old_refresh_token_dies(api_client: APIClient, owner: User) -> None:
    tokens = api_client.post(LOGIN, {"email": owner.email, "password": PASSWORD}, format="json").json()[
        "data"
    ]
    rotated = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["data"]["refresh"] != tokens["refresh"]
    replay = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert replay.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client: APIClient, owner: User) -> None:
    tokens = api_client.post(LOGIN, {"email": owner.email, "password": PASSWORD}, format="json").json()[
        "data"
    ]
    assert (
        api_client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code
        == 200
    )
    again = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_garbage_access_tokens_are_401(token: str, api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/auth/me/").status_code == 401


def test_a_removed_members_tokens_stop_working_at_once(
    api_client: APIClient, owner_client: APIClient, account: Account, make_member: object
) -> None:
    member = make_member(account, Role.MEMBER, email="leaver@acme.test")
    tokens = api_client.post(LOGIN, {"email": member.email, "password": PASSWORD}, format="json").json()[
        "data"
    ]
    member_client = APIClient()
    member_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert member_client.get("/api/v1/auth/me/").status_code == 200

    assert owner_client.delete(f"/api/v1/account/team/{member.id}/").status_code == 200

    assert member_client.get("/api/v1/auth/me/").status_code == 401
    assert member_client.get("/api/v1/billing/transactions/").status_code == 401
    refresh = api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refresh.status_code == 401


def test_a_deactivated_users_access_token_is_refused(owner: User) -> None:
    client = bearer_client(owner)
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/auth/me/").status_code == 401


def test_a_deactivated_accounts_members_can_neither_sign_in_nor_refresh(
    api_client: APIClient, owner: User, account: Account
) -> None:
    tokens = api_client.post(LOGIN, {"email": owner.email, "password": PASSWORD}, format="json").json()[
        "data"
    ]
    account.is_active = False
    account.save()
    assert (
        api_client.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json").status_code
        == 401
    )
    assert (
        api_client.post(LOGIN, {"email": owner.email, "password": PASSWORD}, format="json").status_code == 401
    )
    assert bearer_client(owner).get("/api/v1/auth/me/").status_code == 401


def test_a_spoofed_forwarded_for_header_does_not_escape_the_ip_throttle(
    api_client: APIClient, owner: User, settings: object
) -> None:
    settings.LOGIN_RATE_LIMIT = "3/min"
    statuses = [
        api_client.post(
            LOGIN,
            {"email": f"ghost{n}@acme.test", "password": "x"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        ).status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_audit_row_records_the_forwarded_client(
    api_client: APIClient, owner: User, settings: object
) -> None:
    settings.NUM_PROXIES = 1
    api_client.post(
        LOGIN,
        {"email": owner.email, "password": PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7",
    )
    assert AuditLog.objects.get(action="auth.login").ip_address == "198.51.100.7"


def test_a_user_edits_their_own_name_and_nothing_else(owner_client: APIClient, owner: User) -> None:
    response = owner_client.patch(
        "/api/v1/auth/me/", {"first_name": " Grace ", "last_name": "Hopper"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"]["user"]["first_name"] == "Grace"
    owner.refresh_from_db()
    assert (owner.first_name, owner.last_name) == ("Grace", "Hopper")
    assert AuditLog.objects.filter(action="profile.updated", actor=owner).exists()
    for field, value in (("email", "x@evil.test"), ("role", "viewer"), ("is_staff", True)):
        refused = owner_client.patch("/api/v1/auth/me/", {field: value}, format="json")
        assert refused.status_code == 400 and field in refused.json()["errors"]
    bad = owner_client.patch("/api/v1/auth/me/", {"last_name": "Hop\nper"}, format="json")
    assert bad.status_code == 400
    owner.refresh_from_db()
    assert (owner.email, owner.role, owner.last_name) == ("owner@acme.test", Role.OWNER, "Hopper")


def login_from(ip: str, email: str, password: str) -> object:
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_bad_passwords_from_changing_ips_do_not_lock_the_victim_out(owner: User, settings: object) -> None:
    settings.LOGIN_RATE_LIMIT = "3/min"
    statuses = {login_from(f"198.51.100.{n}", owner.email, "guess").status_code for n in range(10)}
    assert statuses == {401}
    assert login_from("203.0.113.5", owner.email, PASSWORD).status_code == 200


def test_failures_are_counted_per_ip_and_email_and_a_new_ip_still_signs_in(
    owner: User, settings: object
) -> None:
    settings.LOGIN_RATE_LIMIT = "3/min"
    assert [login_from("198.51.100.1", owner.email, "guess").status_code for _ in range(3)] == [401] * 3
    assert login_from("198.51.100.1", owner.email, PASSWORD).status_code == 429
    assert login_from("203.0.113.5", owner.email, PASSWORD).status_code == 200


def test_failed_logins_are_audited_on_the_users_account_with_the_ip(owner: User, account: Account) -> None:
    login_from("198.51.100.7", owner.email, "guess")
    login_from("198.51.100.7", "ghost@acme.test", "guess")
    row = AuditLog.objects.get(action="auth.login_failed")
    assert (row.account, row.target, row.ip_address, row.actor) == (
        account,
        owner.email,
        "198.51.100.7",
        None,
    )

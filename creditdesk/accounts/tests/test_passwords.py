"""Change and reset a password; either ends every other session (issue 10, item 1)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts import tokens
from creditdesk.accounts.models import User
from creditdesk.conftest import PASSWORD
from creditdesk.tenancy.models import AuditLog

pytestmark = pytest.mark.django_db
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
NEW_PASSWORD = "a-brand-new-passphrase-7"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    cache.clear()


def sign_in(email: str, password: str = PASSWORD) -> dict:
    response = APIClient().post(LOGIN, {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def assert_session_is_dead(session: dict) -> None:
    assert bearer(session["access"]).get(ME).status_code == 401
    assert APIClient().post(REFRESH, {"refresh": session["refresh"]}, format="json").status_code == 401


def reset_link_parts() -> tuple[str, str]:
    match = re.search(r"reset-password\?uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1), match.group(2)


# --- change -----------------------------------------------------------------------------------------------


def test_changing_the_password_ends_every_other_session_and_keeps_this_one(owner: User) -> None:
    this, other = sign_in(owner.email), sign_in(owner.email)
    response = bearer(this["access"]).post(
        CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    fresh = response.json()["data"]
    assert set(fresh) == {"access", "refresh", "user", "account"}
    assert_session_is_dead(this)
    assert_session_is_dead(other)
    assert bearer(fresh["access"]).get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": fresh["refresh"]}, format="json").status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert AuditLog.objects.filter(action="auth.password_changed", actor=owner).exists()


def test_changing_the_password_needs_the_current_one_and_a_strong_new_one(owner: User) -> None:
    client = bearer(sign_in(owner.email)["access"])
    wrong = client.post(CHANGE, {"current_password": "nope", "new_password": NEW_PASSWORD}, format="json")
    assert wrong.status_code == 400 and "current_password" in wrong.json()["errors"]
    weak = client.post(CHANGE, {"current_password": PASSWORD, "new_password": "12345678"}, format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()["errors"]
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert client.get(ME).status_code == 200


# --- reset ------------------------------------------------------------------------------------------------


def test_a_reset_request_answers_the_same_whether_the_address_exists(
    api_client: APIClient, owner: User
) -> None:
    known = api_client.post(RESET, {"email": owner.email.upper()}, format="json")
    unknown = api_client.post(RESET, {"email": "ghost@acme.test"}, format="json")
    assert known.status_code == unknown.status_code == 200
    assert known.json()["data"] == unknown.json()["data"]
    assert [m.to for m in mail.outbox] == [[owner.email]]


def test_a_reset_link_sets_the_password_once_and_ends_every_session(
    api_client: APIClient, owner: User
) -> None:
    session = sign_in(owner.email)
    api_client.post(RESET, {"email": owner.email}, format="json")
    uid, token = reset_link_parts()
    body = {"uid": uid, "token": token, "password": NEW_PASSWORD}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 200
    assert_session_is_dead(session)
    sign_in(owner.email, NEW_PASSWORD)
    again = api_client.post(RESET_CONFIRM, {**body, "password": "yet-another-phrase-5"}, format="json")
    assert again.status_code == 400 and "token" in again.json()["errors"]
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert AuditLog.objects.filter(action="auth.password_reset", actor=owner).exists()


def test_an_expired_or_forged_reset_link_is_refused(
    api_client: APIClient, owner: User, settings: object
) -> None:
    api_client.post(RESET, {"email": owner.email}, format="json")
    uid, token = reset_link_parts()
    forged = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": "abc-123", "password": NEW_PASSWORD}, format="json"
    )
    assert forged.status_code == 400
    settings.PASSWORD_RESET_TIMEOUT = -1
    expired = api_client.post(
        RESET_CONFIRM, {"uid": uid, "token": token, "password": NEW_PASSWORD}, format="json"
    )
    assert expired.status_code == 400
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_invitees_and_removed_members_get_no_reset_mail(
    api_client: APIClient, owner: User, make_member: object, account: object
) -> None:
    gone = make_member(account, email="gone@acme.test")
    gone.account, gone.is_active = None, False
    gone.save()
    assert api_client.post(RESET, {"email": "gone@acme.test"}, format="json").status_code == 200
    assert not mail.outbox


# --- staff ------------------------------------------------------------------------------------------------


def test_a_password_set_by_staff_in_the_admin_ends_the_users_sessions(owner: User) -> None:
    session = sign_in(owner.email)
    staff = Client()
    staff.force_login(User.objects.create_superuser("ops@creditdesk.local", "ops-password-123"))
    response = staff.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert_session_is_dead(session)


def test_rehashing_on_a_hasher_upgrade_keeps_the_sessions(owner: User, settings: object) -> None:
    session = sign_in(owner.email)
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.ScryptPasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]
    sign_in(owner.email)  # re-hashed with scrypt on the way
    owner.refresh_from_db()
    assert owner.password.startswith("scrypt")
    assert bearer(session["access"]).get(ME).status_code == 200


# --- the maximum session age ------------------------------------------------------------------------------


def test_a_refresh_chain_cannot_outlive_the_maximum_session_age(owner: User, settings: object) -> None:
    settings.SESSION_MAX_AGE_DAYS = 30
    long_ago = timezone.now() - timedelta(days=30, minutes=1)
    old = tokens.issue_tokens(owner, auth_time=long_ago)
    assert APIClient().post(REFRESH, {"refresh": old.refresh}, format="json").status_code == 401


def test_rotation_carries_the_login_time_and_never_extends_the_session(owner: User, settings: object) -> None:
    settings.SESSION_MAX_AGE_DAYS = 30
    login_time = timezone.now() - timedelta(days=29, hours=23)
    first = tokens.issue_tokens(owner, auth_time=login_time)
    response = APIClient().post(REFRESH, {"refresh": first.refresh}, format="json")
    assert response.status_code == 200
    rotated = tokens.decode_refresh(response.json()["data"]["refresh"])
    session_end = int((login_time + timedelta(days=30)).timestamp())
    assert rotated["auth_time"] == int(login_time.timestamp())
    assert rotated["exp"] <= session_end

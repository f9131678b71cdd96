"""Pending invitations: listing, resending, revoking, rate limits, neutral answers (issue 10, items 2, 4, 10)."""

import re
from collections.abc import Callable

import pytest
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.conftest import PASSWORD
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
TEAM = "/api/v1/account/team/"
INVITATIONS = "/api/v1/account/invitations/"
ACCEPT = "/api/v1/auth/invitations/accept/"
REGISTER = "/api/v1/auth/register/"
INVITATION_FIELDS = {"id", "email", "role", "status", "invited_by_email", "created_at", "expires_at"}


@pytest.fixture(autouse=True)
def _run_on_commit_hooks_and_fresh_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditdesk.accounts.services.team.transaction.on_commit", lambda hook, **kw: hook())
    cache.clear()


def invite(client: APIClient, email: str = "new@acme.test", **extra: str) -> object:
    return client.post(TEAM, {"email": email, **extra}, format="json")


def token_from_mail() -> str:
    match = re.search(r"token=([\w-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def register(client: APIClient, email: str) -> object:
    body = {"email": email, "password": "a-long-passphrase-9", "account_name": "Mine"}
    return client.post(REGISTER, body, format="json")


# --- item 2: list, resend, revoke ----------------------------------------------------------------------


def test_managers_list_pending_invitations_with_their_dates_and_members_may_not(
    owner_client: APIClient, owner: User, client_for: Callable[[str], APIClient], other_client: APIClient
) -> None:
    created = invite(owner_client, role="viewer").json()["data"]
    invite(other_client, "theirs@globex.test")
    data = owner_client.get(INVITATIONS).json()["data"]
    assert data["count"] == 1
    row = data["results"][0]
    assert set(row) == INVITATION_FIELDS and row == created
    assert (row["email"], row["role"], row["status"]) == ("new@acme.test", "viewer", "pending")
    assert row["invited_by_email"] == owner.email and row["expires_at"] > row["created_at"]
    assert client_for(Role.MEMBER).get(INVITATIONS).status_code == 403


def test_a_pending_invitee_is_listed_under_invitations_not_under_the_team(owner_client: APIClient) -> None:
    invite(owner_client)
    emails = [m["email"] for m in owner_client.get(TEAM).json()["data"]["results"]]
    assert emails == ["owner@acme.test"]


def test_resending_mails_a_new_link_and_the_old_one_dies(
    owner_client: APIClient, api_client: APIClient
) -> None:
    invitation_id = invite(owner_client).json()["data"]["id"]
    first_token = token_from_mail()
    Invitation.objects.update(expires_at="2020-01-01T00:00:00Z")
    response = owner_client.post(f"{INVITATIONS}{invitation_id}/resend/")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "pending" and response.json()["data"]["id"] == invitation_id
    assert len(mail.outbox) == 2
    second_token = token_from_mail()
    assert second_token != first_token
    old = api_client.post(ACCEPT, {"token": first_token, "password": "a-long-passphrase-9"}, format="json")
    assert old.status_code == 400
    new = api_client.post(ACCEPT, {"token": second_token, "password": "a-long-passphrase-9"}, format="json")
    assert new.status_code == 200
    assert AuditLog.objects.filter(action="team.invitation_resent", target="new@acme.test").exists()


def test_revoking_kills_the_link_frees_the_seat_and_is_audited(
    owner_client: APIClient, api_client: APIClient, account: Account
) -> None:
    invitation_id = invite(owner_client).json()["data"]["id"]
    token = token_from_mail()
    response = owner_client.delete(f"{INVITATIONS}{invitation_id}/")
    assert response.status_code == 200 and response.json() == {"success": True, "data": None}
    invitation = Invitation.objects.get(pk=invitation_id)
    assert invitation.revoked_at is not None
    assert User.objects.get(email="new@acme.test").account is None
    accepted = api_client.post(ACCEPT, {"token": token, "password": "a-long-passphrase-9"}, format="json")
    assert accepted.status_code == 400
    assert owner_client.get(INVITATIONS).json()["data"]["count"] == 0
    assert owner_client.delete(f"{INVITATIONS}{invitation_id}/").status_code == 404
    assert AuditLog.objects.filter(account=account, action="team.invitation_revoked").exists()


def test_another_tenants_invitation_is_a_404_to_resend_or_revoke(
    owner_client: APIClient, other_client: APIClient
) -> None:
    theirs = invite(other_client, "theirs@globex.test").json()["data"]["id"]
    assert owner_client.post(f"{INVITATIONS}{theirs}/resend/").status_code == 404
    assert owner_client.delete(f"{INVITATIONS}{theirs}/").status_code == 404
    assert Invitation.objects.get(pk=theirs).revoked_at is None


def test_an_admin_cannot_revoke_an_invitation_to_the_admin_role(
    owner_client: APIClient, client_for: Callable[[str], APIClient]
) -> None:
    invitation_id = invite(owner_client, role="admin").json()["data"]["id"]
    assert client_for(Role.ADMIN).delete(f"{INVITATIONS}{invitation_id}/").status_code == 403
    assert Invitation.objects.get(pk=invitation_id).revoked_at is None


# --- item 4: an address cannot be blocked for ever; invitations are rate-limited -------------------------


def test_an_invited_then_removed_address_can_still_register_its_own_account(
    owner_client: APIClient, api_client: APIClient
) -> None:
    invite(owner_client, "victim@example.com")
    user = User.objects.get(email="victim@example.com")
    owner_client.delete(f"{TEAM}{user.id}/")
    response = register(api_client, "Victim@Example.com")
    assert response.status_code == 201
    user.refresh_from_db()
    assert user.role == Role.OWNER and user.is_active and user.account.name == "Mine"
    assert user.check_password("a-long-passphrase-9")


def test_a_pending_invitee_may_register_instead_and_the_invitation_dies(
    owner_client: APIClient, api_client: APIClient
) -> None:
    invite(owner_client, "victim@example.com")
    token = token_from_mail()
    assert register(api_client, "victim@example.com").status_code == 201
    accepted = api_client.post(ACCEPT, {"token": token, "password": "another-passphrase-9"}, format="json")
    assert accepted.status_code == 400
    assert User.objects.get(email="victim@example.com").account.name == "Mine"


def test_an_address_with_a_password_or_an_operators_cannot_be_claimed(
    api_client: APIClient, owner: User
) -> None:
    operator = User.objects.create_superuser("ops@creditdesk.local", None)
    for email in (owner.email, operator.email):
        response = register(api_client, email)
        assert response.status_code == 400
        assert response.json()["errors"] == {"email": ["A user with this email already exists."]}
    operator.refresh_from_db()
    assert operator.account is None and operator.is_superuser


def test_invitations_to_one_recipient_are_rate_limited_across_invite_and_remove_rounds(
    owner_client: APIClient, settings: object
) -> None:
    settings.INVITATION_RECIPIENT_RATE_LIMIT = "3/day"
    statuses = []
    for _round in range(4):
        statuses.append(invite(owner_client, "victim@example.com").status_code)
        user = User.objects.get(email="victim@example.com")
        owner_client.delete(f"{TEAM}{user.id}/")
    assert statuses == [201, 201, 201, 429]
    assert len(mail.outbox) == 3


def test_invitations_are_rate_limited_per_account(owner_client: APIClient, settings: object) -> None:
    settings.INVITATION_ACCOUNT_RATE_LIMIT = "2/hour"
    statuses = [invite(owner_client, f"n{n}@acme.test").status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    assert not User.objects.filter(email="n2@acme.test").exists()


# --- item 10: one neutral answer ----------------------------------------------------------------------


def test_inviting_another_accounts_member_or_an_operator_answers_like_a_fresh_invite(
    owner_client: APIClient, other_owner: User
) -> None:
    operator = User.objects.create_superuser("ops@creditdesk.local", "ops-password-123")
    fresh = invite(owner_client, "fresh@example.com")
    elsewhere = invite(owner_client, other_owner.email)
    staff = invite(owner_client, operator.email)
    assert fresh.status_code == elsewhere.status_code == staff.status_code == 201
    for response, email in ((elsewhere, other_owner.email), (staff, operator.email)):
        data = response.json()["data"]
        assert set(data) == INVITATION_FIELDS and (data["email"], data["status"]) == (email, "pending")
    listed = {row["email"] for row in owner_client.get(INVITATIONS).json()["data"]["results"]}
    assert listed == {"fresh@example.com", other_owner.email, operator.email}
    other_owner.refresh_from_db()
    operator.refresh_from_db()
    assert other_owner.is_active and other_owner.role == Role.OWNER and other_owner.check_password(PASSWORD)
    assert operator.account is None and operator.check_password("ops-password-123")
    assert [m.to for m in mail.outbox] == [["fresh@example.com"]]


def test_a_neutral_invitation_takes_a_seat_and_can_be_revoked(
    owner_client: APIClient, account: Account, make_member: Callable, other_owner: User
) -> None:
    for n in range(3):
        make_member(account, Role.MEMBER, email=f"m{n}@acme.test")
    invitation_id = invite(owner_client, other_owner.email).json()["data"]["id"]
    assert invite(owner_client, "sixth@acme.test").status_code == 400
    assert owner_client.delete(f"{INVITATIONS}{invitation_id}/").status_code == 200
    assert invite(owner_client, "sixth@acme.test").status_code == 201


def test_sign_up_slugs_carry_a_random_suffix_that_says_nothing_about_other_tenants(
    api_client: APIClient,
) -> None:
    first = register(api_client, "a@one.io").json()["data"]["account"]["slug"]
    second = register(api_client, "b@two.io").json()["data"]["account"]["slug"]
    for slug in (first, second):
        assert re.fullmatch(r"mine-[a-z0-9]{6}", slug), slug
    assert first != second

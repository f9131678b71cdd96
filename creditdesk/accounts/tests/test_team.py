import re
from collections.abc import Callable

import pytest
from django.core import mail
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
TEAM = "/api/v1/account/team/"
ACCEPT = "/api/v1/auth/invitations/accept/"


@pytest.fixture(autouse=True)
def _run_on_commit_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Invitation mail leaves on commit; the test transaction never commits, so send it at once."""
    monkeypatch.setattr("creditdesk.accounts.services.team.transaction.on_commit", lambda hook, **kw: hook())


def invite(client: APIClient, email: str = "new@acme.test", **extra: str) -> object:
    return client.post(TEAM, {"email": email, **extra}, format="json")


def token_from_mail() -> str:
    match = re.search(r"token=([\w-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_the_team_lists_only_this_accounts_members_with_their_roles(
    owner_client: APIClient, owner: User, other_owner: User
) -> None:
    data = owner_client.get(TEAM).json()["data"]
    assert data["count"] == 1
    member = data["results"][0]
    assert member["email"] == owner.email and member["role"] == "owner"
    assert set(member) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
    }


def test_an_invitation_creates_an_inactive_member_and_mails_a_single_use_token(
    owner_client: APIClient, account: Account, api_client: APIClient
) -> None:
    response = invite(owner_client, first_name="Nia", role="member")
    assert response.status_code == 201
    assert response.json()["data"]["status"] == "pending"
    member = User.objects.get(email="new@acme.test")
    assert not member.is_active
    assert member.account == account and not member.has_usable_password()
    assert mail.outbox[-1].to == ["new@acme.test"]
    token = token_from_mail()

    accepted = api_client.post(ACCEPT, {"token": token, "password": "a-long-passphrase-9"}, format="json")
    assert accepted.status_code == 200
    member.refresh_from_db()
    assert member.is_active and member.check_password("a-long-passphrase-9")
    again = api_client.post(ACCEPT, {"token": token, "password": "another-passphrase-9"}, format="json")
    assert again.status_code == 400
    assert AuditLog.objects.filter(account=account, action="team.invited", target="new@acme.test").exists()


def test_an_expired_invitation_cannot_be_accepted(owner_client: APIClient, api_client: APIClient) -> None:
    invite(owner_client)
    Invitation.objects.update(expires_at="2020-01-01T00:00:00Z")
    response = api_client.post(
        ACCEPT, {"token": token_from_mail(), "password": "a-long-passphrase-9"}, format="json"
    )
    assert response.status_code == 400
    assert not User.objects.get(email="new@acme.test").is_active


@pytest.mark.parametrize("email", ["not-an-email", "owner@acme.test"])
def test_invalid_or_taken_emails_are_refused(
    email: str, owner_client: APIClient, owner: User, other_owner: User
) -> None:
    response = invite(owner_client, email)
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert User.objects.count() == 2


def test_the_plans_seat_limit_is_enforced(
    owner_client: APIClient, account: Account, make_member: Callable
) -> None:
    for n in range(4):
        make_member(account, Role.MEMBER, email=f"m{n}@acme.test")
    response = invite(owner_client, "sixth@acme.test")
    assert response.status_code == 400
    assert "allows 5 members" in response.json()["error"]
    assert not User.objects.filter(email="sixth@acme.test").exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_invite(role: str, client_for: Callable[[str], APIClient]) -> None:
    assert invite(client_for(role)).status_code == 403
    assert not User.objects.filter(email="new@acme.test").exists()


def test_only_an_owner_grants_the_admin_role(
    client_for: Callable[[str], APIClient], owner_client: APIClient
) -> None:
    assert invite(client_for(Role.ADMIN), role="admin").status_code == 403
    assert invite(owner_client, role="admin").status_code == 201


def test_role_changes_follow_the_rules(
    owner_client: APIClient, owner: User, account: Account, make_member: Callable
) -> None:
    member = make_member(account, Role.MEMBER)
    admin = make_member(account, Role.ADMIN)
    admin_client = bearer_client(admin)
    assert admin_client.patch(f"{TEAM}{member.id}/", {"role": "viewer"}, format="json").status_code == 200
    assert admin_client.patch(f"{TEAM}{member.id}/", {"role": "admin"}, format="json").status_code == 403
    assert admin_client.patch(f"{TEAM}{owner.id}/", {"role": "member"}, format="json").status_code == 403
    assert owner_client.patch(f"{TEAM}{member.id}/", {"role": "admin"}, format="json").status_code == 200
    member.refresh_from_db()
    assert member.role == Role.ADMIN
    demote_self = owner_client.patch(f"{TEAM}{owner.id}/", {"role": "member"}, format="json")
    assert demote_self.status_code == 400
    owner.refresh_from_db()
    assert owner.role == Role.OWNER
    assert AuditLog.objects.filter(account=account, action="team.role_changed").count() == 2


def test_role_must_be_a_known_role(owner_client: APIClient, owner: User) -> None:
    response = owner_client.patch(f"{TEAM}{owner.id}/", {"role": "god"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_removing_a_member_deactivates_and_detaches_them(
    owner_client: APIClient, account: Account, make_member: Callable
) -> None:
    member = make_member(account, Role.MEMBER, email="gone@acme.test")
    response = owner_client.delete(f"{TEAM}{member.id}/")
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": None}
    member.refresh_from_db()
    assert member.account is None and not member.is_active
    assert [m["email"] for m in owner_client.get(TEAM).json()["data"]["results"]] == ["owner@acme.test"]
    assert owner_client.delete(f"{TEAM}{member.id}/").status_code == 404
    assert AuditLog.objects.filter(account=account, action="team.removed", target="gone@acme.test").exists()


def test_a_removed_member_can_be_invited_again(
    owner_client: APIClient, account: Account, make_member: Callable
) -> None:
    member = make_member(account, Role.MEMBER, email="back@acme.test")
    owner_client.delete(f"{TEAM}{member.id}/")
    assert invite(owner_client, "back@acme.test").status_code == 201
    member.refresh_from_db()
    assert member.account == account and not member.is_active


def test_nobody_removes_themselves(owner_client: APIClient, owner: User) -> None:
    assert owner_client.delete(f"{TEAM}{owner.id}/").status_code == 400
    owner.refresh_from_db()
    assert owner.is_active and owner.account_id is not None


def test_an_admin_cannot_remove_an_owner(owner: User, account: Account, make_member: Callable) -> None:
    admin_client = bearer_client(make_member(account, Role.ADMIN))
    assert admin_client.delete(f"{TEAM}{owner.id}/").status_code == 403
    owner.refresh_from_db()
    assert owner.is_active


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_cannot_remove_or_change_anyone(
    role: str, client_for: Callable[[str], APIClient], owner: User
) -> None:
    client = client_for(role)
    assert client.delete(f"{TEAM}{owner.id}/").status_code == 403
    assert client.patch(f"{TEAM}{owner.id}/", {"role": "viewer"}, format="json").status_code == 403
    owner.refresh_from_db()
    assert owner.role == Role.OWNER and owner.is_active


def test_another_tenants_member_is_a_404_and_stays_untouched(
    owner_client: APIClient, other_owner: User
) -> None:
    assert owner_client.delete(f"{TEAM}{other_owner.id}/").status_code == 404
    assert (
        owner_client.patch(f"{TEAM}{other_owner.id}/", {"role": "viewer"}, format="json").status_code == 404
    )
    other_owner.refresh_from_db()
    assert other_owner.is_active and other_owner.role == Role.OWNER


def test_the_audit_log_lists_this_accounts_entries_newest_first_for_managers(
    owner_client: APIClient, client_for: Callable[[str], APIClient], other_client: APIClient
) -> None:
    owner_client.patch("/api/v1/account/settings/", {"name": "One"}, format="json")
    owner_client.patch("/api/v1/account/settings/", {"name": "Two"}, format="json")
    other_client.patch("/api/v1/account/settings/", {"name": "Other"}, format="json")
    entries = owner_client.get("/api/v1/account/audit-log/").json()["data"]["results"]
    assert [e["changes"]["name"]["to"] for e in entries if e["action"] == "settings.updated"] == [
        "Two",
        "One",
    ]
    assert entries[0]["actor_email"] == "owner@acme.test"
    assert client_for(Role.MEMBER).get("/api/v1/account/audit-log/").status_code == 403


def test_an_operators_email_is_never_attached_to_an_account(owner_client: APIClient) -> None:
    operator = User.objects.create_superuser("ops@creditdesk.local", "ops-password-123")
    assert invite(owner_client, "ops@creditdesk.local").status_code == 201  # the neutral answer
    operator.refresh_from_db()
    assert operator.is_active and operator.account is None and operator.check_password("ops-password-123")
    assert not mail.outbox


def test_an_admin_cannot_remove_a_co_admin_just_as_they_cannot_demote_one(
    owner_client: APIClient, account: Account, make_member: Callable
) -> None:
    admin = make_member(account, Role.ADMIN, email="admin@acme.test")
    co_admin = make_member(account, Role.ADMIN, email="co-admin@acme.test")
    response = bearer_client(admin).delete(f"{TEAM}{co_admin.id}/")
    assert response.status_code == 403
    co_admin.refresh_from_db()
    assert co_admin.is_active and co_admin.account == account and co_admin.role == Role.ADMIN
    assert owner_client.delete(f"{TEAM}{co_admin.id}/").status_code == 200

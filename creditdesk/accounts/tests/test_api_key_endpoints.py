"""`account/api-keys/` and `account/team/<id>/spending-caps/`: owners and admins manage, nobody else."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User
from creditdesk.conftest import bearer_client
from creditdesk.tenancy.api_keys import hash_secret
from creditdesk.tenancy.models import ApiKey, AuditLog, MemberCreditCap
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
KEYS = "/api/v1/account/api-keys/"
USAGE = "/api/v1/billing/credits/usage/"
NEW_KEY = {"name": "content worker", "scopes": ["usage:write", "billing:read"]}


def create_key(client: APIClient, **fields: object) -> dict:
    response = client.post(KEYS, {**NEW_KEY, **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_an_owner_creates_a_key_and_sees_its_secret_once(owner_client: APIClient, owner: User) -> None:
    created = create_key(owner_client, expires_at=(timezone.now() + timedelta(days=30)).isoformat())
    assert created["key"].startswith("cdk_live_") and created["key"].startswith(created["prefix"])
    assert created["status"] == "active" and created["created_by"] == owner.email
    assert created["scopes"] == ["billing:read", "usage:write"]
    stored = ApiKey.objects.get(pk=created["id"])
    assert stored.key_hash == hash_secret(created["key"]) and stored.created_by == owner
    listed = owner_client.get(KEYS).json()["data"]["results"]
    assert [row["id"] for row in listed] == [created["id"]]
    assert "key" not in listed[0] and created["key"] not in str(owner_client.get(KEYS).json())
    assert "key" not in owner_client.get(f"{KEYS}{created['id']}/").json()["data"]
    audit = AuditLog.objects.get(action="api_key.created")
    assert audit.actor == owner and audit.ip_address == "127.0.0.1" and created["key"] not in audit.target


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "scopes": ["usage:write"]}, "name"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "scopes": ["admin:all"]}, "scopes"),
        ({"name": "x", "scopes": ["usage:write"], "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": ["usage:write"], "daily_credit_cap": -1}, "daily_credit_cap"),
        ({"name": "x", "scopes": ["usage:write"], "key_hash": "0" * 64}, "key_hash"),
        ({"name": "x", "scopes": ["usage:write"], "account": 2}, "account"),
        ({"name": "x", "scopes": ["usage:write"], "kind": "platform"}, "kind"),
        ({"name": "x", "scopes": ["usage:write"], "last_used_at": "2030-01-01T00:00:00Z"}, "last_used_at"),
    ],
)
def test_bad_or_forbidden_key_fields_are_a_400_and_create_nothing(
    owner_client: APIClient, body: dict, field: str
) -> None:
    response = owner_client.post(KEYS, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_can_neither_see_nor_make_keys(
    client_for: Callable[[str], APIClient], owner_client: APIClient, role: str
) -> None:
    created = create_key(owner_client)
    client = client_for(role)
    assert client.get(KEYS).status_code == 403
    assert client.get(f"{KEYS}{created['id']}/").status_code == 403
    assert client.post(KEYS, NEW_KEY, format="json").status_code == 403
    assert client.patch(f"{KEYS}{created['id']}/", {"name": "mine"}, format="json").status_code == 403
    assert client.delete(f"{KEYS}{created['id']}/").status_code == 403
    assert ApiKey.objects.get().name == "content worker" and ApiKey.objects.get().revoked_at is None


def test_an_admin_manages_keys(client_for: Callable[[str], APIClient]) -> None:
    admin = client_for(Role.ADMIN)
    created = create_key(admin)
    assert admin.get(KEYS).json()["data"]["count"] == 1
    assert admin.delete(f"{KEYS}{created['id']}/").json()["data"]["status"] == "revoked"


def test_rename_and_revoke_are_audited_and_revoke_stops_the_key(owner_client: APIClient, owner: User) -> None:
    created = create_key(owner_client)
    renamed = owner_client.patch(f"{KEYS}{created['id']}/", {"name": "image worker"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "image worker"
    service = APIClient()
    service.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    assert service.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    revoked = owner_client.delete(f"{KEYS}{created['id']}/")
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"
    assert service.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 401
    actions = list(AuditLog.objects.filter(actor=owner).values_list("action", "changes"))
    assert ("api_key.changed", {"name": {"from": "content worker", "to": "image worker"}}) in actions
    assert any(action == "api_key.revoked" for action, _ in actions)
    assert ApiKey.objects.get().last_used_at is not None


def test_the_key_fields_that_may_change_are_name_and_caps_only(owner_client: APIClient) -> None:
    created = create_key(owner_client)
    for field, value in [("scopes", ["billing:read"]), ("revoked_at", None), ("expires_at", None)]:
        response = owner_client.patch(f"{KEYS}{created['id']}/", {field: value}, format="json")
        assert response.status_code == 400, field
    assert ApiKey.objects.get().scopes == ["billing:read", "usage:write"]


def test_another_tenants_key_is_a_404(owner_client: APIClient, other_client: APIClient) -> None:
    theirs = create_key(other_client)
    assert owner_client.get(f"{KEYS}{theirs['id']}/").status_code == 404
    assert owner_client.patch(f"{KEYS}{theirs['id']}/", {"name": "x"}, format="json").status_code == 404
    assert owner_client.delete(f"{KEYS}{theirs['id']}/").status_code == 404
    assert owner_client.get(KEYS).json()["data"]["count"] == 0
    stored = ApiKey.objects.get(pk=theirs["id"])
    assert stored.name == "content worker" and stored.revoked_at is None


def test_a_removed_creators_keys_keep_working_and_the_removal_says_so(
    owner_client: APIClient, account: Account, make_member: Callable[..., User]
) -> None:
    admin = make_member(account, Role.ADMIN, email="ops@acme.test")
    created = create_key(bearer_client(admin))
    assert owner_client.delete(f"/api/v1/account/team/{admin.pk}/").status_code == 200
    service = APIClient()
    service.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    assert service.post(USAGE, {"operation_type": "linking"}, format="json").status_code == 201
    listed = owner_client.get(f"{KEYS}{created['id']}/").json()["data"]
    assert listed["creator_removed"] is True and listed["created_by"] == "ops@acme.test"
    note = AuditLog.objects.get(action="api_key.creator_removed")
    assert note.changes == {"created_by": "ops@acme.test", "still_active": True}
    assert created["prefix"] in note.target


def test_the_platform_key_command_prints_the_secret_once(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("create_platform_key", "image workers", "--scope", "usage:write")
    secret = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert key.kind == "platform" and key.account is None and key.scopes == ["usage:write"]
    assert key.key_hash == hash_secret(secret) and secret.startswith("cdk_live_")


def test_staff_add_a_platform_key_in_the_admin_and_see_the_secret_once(admin_client) -> None:
    response = admin_client.post(
        "/admin/tenancy/apikey/add/",
        {"name": "clustering workers", "scopes": ["usage:write", "billing:read"]},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    page = response.content.decode()
    secret = page.split("not shown again: ")[1].split("<")[0].strip()
    assert key.kind == "platform" and key.key_hash == hash_secret(secret)
    assert secret not in admin_client.get(f"/admin/tenancy/apikey/{key.pk}/change/").content.decode()


# --- member caps ---------------------------------------------------------------------------------------------


def test_an_owner_caps_a_member_and_the_change_is_audited(
    owner_client: APIClient, account: Account, make_member: Callable[..., User], owner: User
) -> None:
    writer = make_member(account, Role.MEMBER)
    url = f"/api/v1/account/team/{writer.pk}/spending-caps/"
    assert owner_client.get(url).json()["data"]["daily_credit_cap"] is None
    response = owner_client.put(url, {"daily_credit_cap": 20, "monthly_credit_cap": None}, format="json")
    assert response.status_code == 200
    assert response.json()["data"] == {
        "member_id": writer.pk,
        "daily_credit_cap": 20,
        "monthly_credit_cap": None,
        "spent_today": 0,
        "spent_this_month": 0,
    }
    assert MemberCreditCap.objects.get(member=writer).daily_credit_cap == 20
    audit = AuditLog.objects.get(action="member_cap.changed")
    assert audit.actor == owner and audit.target == writer.email
    assert audit.changes["daily_credit_cap"] == {"from": None, "to": 20}


def test_member_caps_are_for_managers_and_only_owners_cap_owners(
    client_for: Callable[[str], APIClient], owner: User, account: Account, make_member: Callable[..., User]
) -> None:
    writer = make_member(account, Role.MEMBER)
    url = f"/api/v1/account/team/{writer.pk}/spending-caps/"
    body = {"daily_credit_cap": 5, "monthly_credit_cap": 50}
    assert client_for(Role.MEMBER).put(url, body, format="json").status_code == 403
    assert client_for(Role.VIEWER).get(url).status_code == 403
    admin = client_for(Role.ADMIN)
    assert admin.put(url, body, format="json").status_code == 200
    owner_url = f"/api/v1/account/team/{owner.pk}/spending-caps/"
    assert admin.put(owner_url, body, format="json").status_code == 403
    assert not MemberCreditCap.objects.filter(member=owner).exists()


def test_another_tenants_member_caps_are_a_404(owner_client: APIClient, other_owner: User) -> None:
    url = f"/api/v1/account/team/{other_owner.pk}/spending-caps/"
    assert owner_client.get(url).status_code == 404
    assert (
        owner_client.put(url, {"daily_credit_cap": 1, "monthly_credit_cap": 1}, format="json").status_code
        == 404
    )
    assert not MemberCreditCap.objects.exists()


def test_staff_revoke_any_key_in_the_admin_and_the_account_sees_an_audit_row(
    admin_client, owner_client: APIClient, account: Account
) -> None:
    created = create_key(owner_client)
    assert admin_client.get("/admin/tenancy/apikey/").status_code == 200
    response = admin_client.post(
        "/admin/tenancy/apikey/", {"action": "revoke", "_selected_action": [created["id"]]}, follow=True
    )
    assert response.status_code == 200
    assert ApiKey.objects.get(pk=created["id"]).revoked_at is not None
    audit = AuditLog.objects.get(action="api_key.revoked")
    assert audit.account == account and audit.changes == {"by_staff": True} and audit.actor.is_staff
    service = APIClient()
    service.credentials(HTTP_X_API_KEY=created["key"])
    assert service.get("/api/v1/billing/credits/balance/").status_code == 401

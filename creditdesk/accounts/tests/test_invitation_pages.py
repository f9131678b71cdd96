"""The invitation page looks the invitation up by its token before asking for a password."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, Invitation, User
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
TEAM = "/api/v1/account/team/"
LOOKUP = "/api/v1/auth/invitations/lookup/"
ACCEPT = "/api/v1/auth/invitations/accept/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    """The lookup is throttled per IP, and every test client shares one IP."""
    cache.clear()


@pytest.fixture(autouse=True)
def _run_on_commit_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditdesk.accounts.services.team.transaction.on_commit", lambda hook, **kw: hook())


def invite(client: APIClient, email: str = "new@acme.test", role: str = "member") -> dict:
    response = client.post(TEAM, {"email": email, "role": role}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def token_from_mail() -> str:
    match = re.search(r"token=([\w-]+)", mail.outbox[-1].body)
    assert match
    return match.group(1)


def test_the_lookup_names_the_account_the_inviter_the_email_and_the_role(
    owner_client: APIClient, api_client: APIClient, account: Account, owner: User
) -> None:
    owner.first_name, owner.last_name = "Olive", "Owner"
    owner.save()
    invite(owner_client, role=Role.VIEWER)
    response = api_client.get(LOOKUP, {"token": token_from_mail()})
    assert response.status_code == 200
    data = response.json()["data"]
    invitation = Invitation.objects.get()
    assert data == {
        "account_name": account.name,
        "invited_by": "Olive Owner",
        "email": "new@acme.test",
        "role": "viewer",
        "expires_at": data["expires_at"],
    }
    assert data["expires_at"].startswith(invitation.expires_at.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize("state", ["wrong", "accepted", "revoked", "expired", "removed", "foreign"])
def test_a_bad_used_or_expired_token_is_the_same_404(
    state: str, owner_client: APIClient, api_client: APIClient
) -> None:
    invite(owner_client)
    token = token_from_mail()
    invitation = Invitation.objects.get()
    if state == "wrong":
        token = token[:-2] + "xx"
    elif state == "accepted":
        invitation.accepted_at = timezone.now()
    elif state == "revoked":
        invitation.revoked_at = timezone.now()
    elif state == "expired":
        invitation.expires_at = timezone.now()
    elif state == "removed":
        User.objects.filter(pk=invitation.user_id).update(account=None)
    elif state == "foreign":  # an address of another account's member: never acceptable, never described
        invitation.user = None
    invitation.save()
    response = api_client.get(LOOKUP, {"token": token})
    assert response.status_code == 404
    assert response.json()["error"] == "This invitation is invalid, used or expired."
    assert "account_name" not in str(response.json())


def test_the_lookup_needs_a_token(api_client: APIClient) -> None:
    response = api_client.get(LOOKUP)
    assert response.status_code == 400
    assert "token" in response.json()["errors"]


def test_the_lookup_is_throttled_like_sign_in(api_client: APIClient, settings: object) -> None:
    settings.LOGIN_RATE_LIMIT = "3/min"  # type: ignore[attr-defined]
    statuses = [api_client.get(LOOKUP, {"token": f"guess-{n}"}).status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]

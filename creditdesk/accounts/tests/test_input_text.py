"""Names and other text that ends up in mail headers refuse control characters (issue 10, item 15)."""

import pytest
from django.core import mail
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _run_on_commit_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("creditdesk.accounts.services.team.transaction.on_commit", lambda hook, **kw: hook())


@pytest.mark.parametrize(
    "bad", ["Acme\nBcc: victim@example.com", "Ac\rme", "Ac\x00me", "Ac\tme", "Acme\u2028Inc"]
)
def test_an_account_name_with_a_control_character_is_a_400_and_nothing_changes(
    bad: str, owner_client: APIClient, account: Account
) -> None:
    response = owner_client.patch("/api/v1/account/settings/", {"name": bad}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    account.refresh_from_db()
    assert account.name == "Acme"


def test_sign_up_refuses_a_line_break_in_the_account_or_person_name(api_client: APIClient) -> None:
    body = {"email": "a@b.io", "password": "a-long-passphrase-9", "account_name": "Evil\nCo"}
    response = api_client.post("/api/v1/auth/register/", {**body, "first_name": "Eve\r\nX"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"account_name", "first_name"}
    assert not User.objects.exists()


def test_an_invitation_refuses_a_line_break_in_the_invitees_name(owner_client: APIClient) -> None:
    response = owner_client.post(
        "/api/v1/account/team/", {"email": "n@acme.test", "last_name": "Smith\nX"}, format="json"
    )
    assert response.status_code == 400
    assert "last_name" in response.json()["errors"]
    assert not User.objects.filter(email="n@acme.test").exists()


def test_an_invitation_from_an_account_stored_with_a_line_break_in_its_name_is_mailed_not_a_500(
    owner_client: APIClient, account: Account
) -> None:
    Account.objects.filter(pk=account.pk).update(name="Acme\nBcc: victim@example.com")
    response = owner_client.post("/api/v1/account/team/", {"email": "n@acme.test"}, format="json")
    assert response.status_code == 201
    assert mail.outbox[-1].subject == "You are invited to Acme Bcc: victim@example.com on creditdesk"
    assert mail.outbox[-1].to == ["n@acme.test"]


def test_accented_and_non_latin_names_are_kept(owner_client: APIClient, account: Account) -> None:
    response = owner_client.patch("/api/v1/account/settings/", {"name": "Société Ωmega 東京"}, format="json")
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.name == "Société Ωmega 東京"

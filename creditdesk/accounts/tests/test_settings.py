from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import Plan
from creditdesk.tenancy.models import AuditLog
from creditdesk.tenancy.roles import Role

pytestmark = pytest.mark.django_db
SETTINGS = "/api/v1/account/settings/"


def test_settings_show_the_account_with_its_balance_and_plan(
    owner_client: APIClient, account: Account
) -> None:
    data = owner_client.get(SETTINGS).json()["data"]
    assert data["id"] == account.id and data["name"] == "Acme" and data["credit_balance"] == 1000
    assert data["plan"] == {
        "id": account.plan.id,
        "name": "Free",
        "slug": "free",
        "credits_per_month": 100,
        "max_users": 5,
        "price_monthly": "0.00",
    }
    for field in (
        "billing_email",
        "billing_address_line1",
        "billing_country",
        "tax_id",
        "created_at",
        "updated_at",
    ):
        assert field in data


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_update_settings_and_it_is_audited(
    role: str, client_for: Callable[[str], APIClient], account: Account
) -> None:
    response = client_for(role).patch(
        SETTINGS, {"name": "Acme Ltd", "billing_country": "de", "billing_city": "Berlin"}, format="json"
    )
    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.name, account.billing_country, account.billing_city) == ("Acme Ltd", "DE", "Berlin")
    entry = AuditLog.objects.get(account=account, action="settings.updated")
    assert entry.changes["name"] == {"from": "Acme", "to": "Acme Ltd"}


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_members_and_viewers_may_read_but_not_change_settings(
    role: str, client_for: Callable[[str], APIClient], account: Account
) -> None:
    client = client_for(role)
    assert client.get(SETTINGS).status_code == 200
    assert client.patch(SETTINGS, {"name": "Hijacked"}, format="json").status_code == 403
    account.refresh_from_db()
    assert account.name == "Acme"


@pytest.mark.parametrize(
    "field, value",
    [
        ("credit_balance", 10**9),
        ("credits", 10**9),
        ("slug", "evil"),
        ("id", 999),
        ("created_at", "2020-01-01"),
        ("plan", "scale"),
        ("is_active", False),
    ],
)
def test_fields_a_client_may_not_set_are_a_400_naming_them_and_nothing_is_stored(
    field: str, value: object, owner_client: APIClient, account: Account
) -> None:
    response = owner_client.patch(SETTINGS, {field: value, "name": "Changed"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["This field cannot be set."]}
    account.refresh_from_db()
    assert (account.name, account.credits, account.slug, account.plan) == (
        "Acme",
        1000,
        "acme",
        Plan.objects.get(slug="free"),
    )


@pytest.mark.parametrize("country", ["XX", "Germany", "D"])
def test_billing_country_must_be_an_iso_alpha_2_code(
    country: str, owner_client: APIClient, account: Account
) -> None:
    response = owner_client.patch(SETTINGS, {"billing_country": country}, format="json")
    assert response.status_code == 400
    assert "billing_country" in response.json()["errors"]


def test_an_empty_account_name_is_refused(owner_client: APIClient) -> None:
    response = owner_client.patch(SETTINGS, {"name": "   "}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_each_tenant_sees_and_changes_only_its_own_settings(
    owner_client: APIClient, other_client: APIClient, other_account: Account
) -> None:
    owner_client.patch(SETTINGS, {"name": "Acme Renamed"}, format="json")
    assert other_client.get(SETTINGS).json()["data"]["name"] == "Globex"
    other_account.refresh_from_db()
    assert other_account.name == "Globex"

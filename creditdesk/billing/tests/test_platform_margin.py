"""The platform's margin figures: platform keys read them over the API; tenants never do."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from creditdesk.billing.models import CreditCost
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.billing.services.usage import record_usage
from creditdesk.tenancy.api_keys import create_account_key, create_platform_key

pytestmark = pytest.mark.django_db
MARGIN = "/api/v1/billing/margin/"


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def bought(make_account):
    """Two accounts whose credits cost 0.01 each (a purchase); each meters clustering (10 credits)."""
    accounts = [make_account(), make_account()]
    for account, provider_cost in zip(accounts, ("0.02", "0.30"), strict=True):
        grant_credits(
            account=account, amount=1000, description="bought", source="purchase", cost_basis=Decimal("0.01")
        )
        record_usage(account=account, user=None, operation_type="clustering", cost_usd=Decimal(provider_cost))
    return accounts


def test_a_platform_key_reads_revenue_cost_and_margin_per_operation_across_accounts(bought):
    CreditCost.objects.filter(operation_type="clustering").update(margin_floor=Decimal("50"))
    platform = create_platform_key(name="finance", scopes=["billing:read"]).secret
    response = key_client(platform).get(MARGIN)
    assert response.status_code == 200, response.content
    [row] = response.json()["data"]
    assert row["operation_type"] == "clustering" and row["calls"] == 2 and row["credits"] == 20
    # 20 credits bought at 0.01 each were consumed; the two calls cost the platform 0.02 + 0.30.
    assert (row["revenue"], row["provider_cost"], row["margin"]) == ("0.2000", "0.3200", "-0.1200")
    assert row["below_floor"] is True  # a negative margin is under any positive floor


def test_naming_an_account_filters_the_figures_to_it(bought):
    platform = create_platform_key(name="finance", scopes=["billing:read"]).secret
    first = bought[0]
    response = key_client(platform).get(
        MARGIN, {"group_by": "account,operation_type"}, HTTP_X_ACCOUNT=str(first.pk)
    )
    rows = response.json()["data"]
    assert [(row["account_id"], row["calls"], row["provider_cost"]) for row in rows] == [
        (first.pk, 1, "0.0200")
    ]


def test_members_and_account_keys_never_see_the_platforms_costs(bought, make_member):
    from creditdesk.conftest import bearer_client

    owner = make_member(bought[0], "owner")
    account_key = create_account_key(
        account=bought[0], actor=owner, name="worker", scopes=["billing:read", "usage:write"]
    ).secret
    for client in (bearer_client(owner), key_client(account_key)):
        response = client.get(MARGIN)
        assert response.status_code == 403
        assert "provider_cost" not in response.content.decode()


def test_a_platform_key_without_billing_read_or_with_a_bad_grouping_is_refused(bought):
    writer = create_platform_key(name="meter", scopes=["usage:write"]).secret
    assert key_client(writer).get(MARGIN).status_code == 403
    reader = create_platform_key(name="finance", scopes=["billing:read"]).secret
    response = key_client(reader).get(MARGIN, {"group_by": "colour"})
    assert response.status_code == 400 and "group_by" in response.json()["errors"]

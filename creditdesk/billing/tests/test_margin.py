"""Margin, for operators: revenue (the cost basis of consumed credits), provider cost, and a floor."""

from decimal import Decimal

import pytest
from django.test import Client

from creditdesk.billing.models import CreditCost
from creditdesk.billing.selectors import margin_report
from creditdesk.billing.services.ledger import grant_credits
from creditdesk.billing.services.reversals import reverse_usage
from creditdesk.billing.services.usage import record_usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def metered(make_account):
    paid = make_account()
    grant_credits(
        account=paid, amount=1000, description="bought", source="purchase", cost_basis=Decimal("0.01")
    )
    free = make_account(credits=1000)
    record_usage(account=paid, user=None, operation_type="clustering", units=10, cost_usd=Decimal("0.3000"))
    record_usage(account=paid, user=None, operation_type="linking", units=10, cost_usd=Decimal("0.0500"))
    record_usage(account=free, user=None, operation_type="clustering", units=5, cost_usd=Decimal("0.1000"))
    return paid, free


def test_margin_per_operation_type_flags_types_below_their_floor(metered) -> None:
    CreditCost.objects.filter(operation_type="clustering").update(margin_floor=Decimal("50"))
    CreditCost.objects.filter(operation_type="linking").update(margin_floor=Decimal("10"))
    rows = {row.operation_type: row for row in margin_report()}
    clustering, linking = rows["clustering"], rows["linking"]
    # clustering: 100 paid credits at 0.01 (1.00) + 50 free (0) = 1.00 revenue, 0.40 provider cost
    assert (clustering.calls, clustering.credits, clustering.revenue) == (2, 150, Decimal("1.0000"))
    assert (clustering.provider_cost, clustering.margin, clustering.margin_pct) == (
        Decimal("0.4000"),
        Decimal("0.6000"),
        Decimal("60.00"),
    )
    assert clustering.below_floor is False
    # linking: 30 credits at 0.01 = 0.30 revenue, 0.05 cost: 83.33 % over a 10 % floor
    assert (linking.revenue, linking.margin_pct, linking.below_floor) == (
        Decimal("0.3000"),
        Decimal("83.33"),
        False,
    )
    CreditCost.objects.filter(operation_type="linking").update(margin_floor=Decimal("90"))
    assert {r.operation_type: r.below_floor for r in margin_report()} == {
        "clustering": False,
        "linking": True,
    }


def test_margin_per_account_and_month_and_net_of_reversals(metered) -> None:
    paid, free = metered
    by_account = {
        (r.account_id, r.operation_type): r for r in margin_report(group_by=["account", "operation_type"])
    }
    assert by_account[(free.pk, "clustering")].revenue == Decimal("0.0000")  # free credits earn nothing
    assert by_account[(free.pk, "clustering")].margin_pct is None
    assert by_account[(paid.pk, "clustering")].revenue == Decimal("1.0000")
    usage = paid.usage_logs.get(operation_type="clustering")
    reverse_usage(account=paid, usage_id=usage.pk, user=None, reason="failed", units=4)
    [row] = margin_report(group_by=["account", "period"], account_id=paid.pk)
    assert (row.credits, row.revenue, row.period.day) == (90, Decimal("0.9000"), 1)  # 100 + 30 - 40 reversed
    with pytest.raises(ValueError):
        margin_report(group_by=["tenant"])


def test_staff_see_the_margin_report_in_the_admin(metered, make_member, account) -> None:
    from creditdesk.accounts.tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True, account=None)
    client = Client()
    client.force_login(staff)
    CreditCost.objects.filter(operation_type="linking").update(margin_floor=Decimal("95"))
    page = client.get("/admin/billing/marginreport/", {"group_by": ["operation_type", "period"]})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Margin report" in html and "clustering" in html and "below floor" in html


def test_tenants_never_see_cost_basis_or_margin(owner_client, account) -> None:
    record_usage(account=account, user=None, operation_type="clustering", cost_usd=Decimal("0.1"))
    body = owner_client.get("/api/v1/billing/credits/usage/").content.decode()
    balance = owner_client.get("/api/v1/billing/credits/balance/").content.decode()
    for word in ("credits_value", "cost_basis", "margin", "revenue"):
        assert word not in body and word not in balance

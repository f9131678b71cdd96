"""The data migration that turns the balances of before grants into grants: no credit lost or created."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from creditdesk.billing.services.verification import find_drift

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("accounts", "0002_initial"), ("billing", "0002_seed_catalog")]
AFTER = [("accounts", "0003_account_held_and_next_expiry"), ("billing", "0004_balances_become_grants")]


def _migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _history(apps, *, slug: str, rows: list[tuple[str, int, dict]]) -> int:
    """An account with these ledger rows (type, signed amount, metadata) and the balance they add up to."""
    account_model = apps.get_model("accounts", "Account")
    ledger = apps.get_model("billing", "CreditTransaction")
    # An earlier transactional test may have flushed the catalogue the migration wrote.
    plan, _ = apps.get_model("billing", "Plan").objects.get_or_create(
        slug="free", defaults={"name": "Free", "credits_per_month": 100, "max_users": 5, "is_default": True}
    )
    account = account_model.objects.create(name=slug, slug=slug, plan=plan)
    balance = 0
    for kind, amount, metadata in rows:
        balance += amount
        ledger.objects.create(
            account_id=account.pk,
            transaction_type=kind,
            amount=amount,
            balance_after=balance,
            metadata=metadata,
        )
    account_model.objects.filter(pk=account.pk).update(credits=balance)
    return account.pk


@pytest.fixture
def back_to_the_latest_schema():
    """However the test ends, the database leaves at the latest migrations: a failure half-way must not
    leave the old schema under every transactional test that follows."""
    yield
    _migrate(executor_leaf_nodes())


@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_migrating_varied_histories_keeps_every_balance_and_leaves_the_ledger_verified() -> None:
    try:
        _migrate_and_check()
    finally:  # whatever happened, later tests get the whole schema back
        _migrate(executor_leaf_nodes())


def _migrate_and_check() -> None:
    old = _migrate(BEFORE)
    empty = _history(old, slug="empty", rows=[])
    invoice = old.get_model("billing", "Invoice").objects.create(
        account_id=empty,
        invoice_number="INV-2026-000001",
        credits=500,
        subtotal=Decimal("45.00"),
        total_amount=Decimal("45.00"),
    )
    histories = {
        "spent-out": [("grant", 100, {}), ("deduction", -100, {})],
        "plan-and-purchase": [
            ("grant", 100, {}),
            ("subscription", 100, {}),
            ("deduction", -150, {}),
            ("purchase", 500, {"invoice_id": invoice.pk}),
            ("deduction", -120, {}),
        ],
        "refunded": [("grant", 100, {}), ("adjustment", 40, {}), ("refund", -30, {}), ("deduction", -5, {})],
    }
    ids = {slug: _history(old, slug=slug, rows=rows) for slug, rows in histories.items()} | {"empty": empty}
    before = dict(old.get_model("accounts", "Account").objects.values_list("id", "credits"))

    new = _migrate(AFTER)
    account_model = new.get_model("accounts", "Account")
    grant_model = new.get_model("billing", "CreditGrant")
    assert dict(account_model.objects.values_list("id", "credits")) == before
    for account_id, credits in before.items():
        remaining = sum(grant_model.objects.filter(account_id=account_id).values_list("remaining", flat=True))
        assert remaining == credits
    mixed = sorted(
        grant_model.objects.filter(account_id=ids["plan-and-purchase"]).values_list(
            "source", "amount", "cost_basis"
        )
    )
    # 430 left, all of it from the newest incoming row, the purchase (deductions drew the oldest first)
    assert mixed == [("purchase", 430, Decimal("0.09"))]
    refunded = grant_model.objects.filter(account_id=ids["refunded"]).order_by("id")
    assert [(g.source, g.amount) for g in refunded] == [("adjustment", 40), ("promotion", 65)]
    assert not grant_model.objects.filter(account_id=ids["spent-out"]).exists()
    assert not grant_model.objects.exclude(expires_at=None).exists()  # nothing migrated expires
    _migrate(executor_leaf_nodes())
    assert list(find_drift()) == []


def executor_leaf_nodes() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()

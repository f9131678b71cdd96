"""Balance alerts under parallel deductions on PostgreSQL. (Named to run after test_grant_migration: a
transactional test flushes the catalogue that the migration test expects.)"""

import pytest

from creditdesk.billing.services.ledger import deduct_credits
from creditdesk.conftest import run_concurrently
from creditdesk.events.models import Event


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_deductions_across_the_threshold_emit_one_balance_low(make_account):
    account = make_account(credits=1000)
    account.low_balance_threshold = 500
    account.save(update_fields=["low_balance_threshold"])

    run_concurrently(40, lambda _index: deduct_credits(account=account, amount=20, description="parallel"))

    account.refresh_from_db()
    assert account.credits == 200
    low = Event.objects.filter(account=account, type__startswith="balance.")
    assert [(e.type, e.data) for e in low] == [("balance.low", {"balance": 500, "threshold": 500})]

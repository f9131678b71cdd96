"""Sign-up grants the plan's first period once: the monthly job, run later that month, grants nothing more."""

import pytest

from creditdesk.accounts.services import auth as account_auth
from creditdesk.billing.models import CreditGrant
from creditdesk.billing.services.grants import next_period_start
from creditdesk.billing.services.subscriptions import grant_monthly_credits
from creditdesk.testing import assert_ledger_consistent

pytestmark = pytest.mark.django_db


def test_a_new_account_gets_its_first_month_once_even_when_the_monthly_job_runs_that_month(db) -> None:
    _user, account = account_auth.register_account(
        email="new@startup.io", password="correct-horse-battery-staple", account_name="Startup"
    )
    report = grant_monthly_credits()
    account.refresh_from_db()
    assert account.credits == account.plan.credits_per_month == 100
    assert report.granted == 0 and report.already_granted >= 1
    grant = CreditGrant.objects.get(account=account)
    assert (grant.source, grant.amount) == ("plan", 100)
    assert grant.expires_at == next_period_start(grant.period_start)  # the first month's end
    assert_ledger_consistent(account)

"""Which database a read goes to: the replica only inside replica_reads(), with a replica configured and
no transaction open; writes always to the primary."""

import pytest
from django.db import transaction

from creditdesk.accounts.models import Account
from creditdesk.core import db_router
from creditdesk.core.db_router import ReplicaRouter, replica_reads

router = ReplicaRouter()


@pytest.fixture
def with_replica(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)


def test_without_a_replica_every_read_stays_on_the_primary() -> None:
    with replica_reads():
        assert router.db_for_read(Account) is None


def test_only_reads_inside_replica_reads_go_to_the_replica(with_replica: None) -> None:
    assert router.db_for_read(Account) is None
    with replica_reads():
        assert router.db_for_read(Account) == "replica"
        assert router.db_for_write(Account) == "default"
    assert router.db_for_read(Account) is None


@pytest.mark.django_db
def test_inside_a_transaction_reads_stay_on_the_primary_to_see_its_own_writes(with_replica: None) -> None:
    with transaction.atomic(), replica_reads():
        assert router.db_for_read(Account) == "default"


def test_the_replica_is_never_migrated() -> None:
    assert router.allow_migrate("replica", "billing") is False
    assert router.allow_migrate("default", "billing") is True

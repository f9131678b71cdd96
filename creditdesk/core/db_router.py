"""Reads that may lag a moment go to a read replica, when `DATABASE_REPLICA_URL` configures one.

Only code that asks for it reads from the replica (`with replica_reads(): ...`, today the usage
analytics): a replica trails the primary by its replication lag, which a chart of past days can take and a
balance, an authentication or anything read before a write cannot. Inside an open transaction every read
stays on the primary (it must see the transaction's own writes), and every write goes to the primary.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside the block go to the replica if there is one (and no transaction is open)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if not (_replica_reads.get() and replica_configured()):
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        # Also for an instance read from the replica: Django's default would send its save there.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica holds the primary's rows: the same database, read elsewhere

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # it replays the primary's migrations; it cannot run its own

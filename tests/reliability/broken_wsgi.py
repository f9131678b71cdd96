"""A server with a deliberately broken ledger, to show that row 1 can fail.

With RELIABILITY_BROKEN_LEDGER=1 the balance change becomes read-then-write without a lock (the classic
lost update); otherwise this is config.wsgi unchanged.
"""

import os

from django.db import connection


def _read_then_write(*, account_id: int, delta: int, now: object = None) -> int | None:
    from creditdesk.billing.services import ledger

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credits FROM {ledger.ACCOUNT_TABLE} WHERE id = %s", [account_id])
        current = int(cursor.fetchone()[0])
    if current + delta < 0:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ledger.ACCOUNT_TABLE} SET credits = %s WHERE id = %s", [current + delta, account_id]
        )
    return current + delta


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.wsgi import application  # noqa: E402

if os.environ.get("RELIABILITY_BROKEN_LEDGER") == "1":
    from creditdesk.billing.services import ledger

    ledger._change_balance = _read_then_write

__all__ = ["application"]

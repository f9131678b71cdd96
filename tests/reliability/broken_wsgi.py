"""A server with a deliberately broken ledger, to show that row 1 can fail.

With RELIABILITY_BROKEN_LEDGER=1 the balance change becomes read-then-write without a lock (the classic
lost update); otherwise this is config.wsgi unchanged.
"""

import os

from django.db import connection


def _read_then_write(*, account_id: int, delta: int, now: object = None) -> tuple[int, int] | None:
    from creditdesk.billing.services import ledger

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credits, ledger_seq FROM {ledger.ACCOUNT_TABLE} WHERE id = %s", [account_id])
        current, seq = (int(value) for value in cursor.fetchone())
    if current + delta < 0:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ledger.ACCOUNT_TABLE} SET credits = %s, ledger_seq = %s WHERE id = %s",
            [current + delta, seq + 1, account_id],
        )
    return current + delta, seq + 1


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from config.wsgi import application  # noqa: E402

if os.environ.get("RELIABILITY_BROKEN_LEDGER") == "1":
    from creditdesk.billing.services import ledger, usage

    ledger._change_balance = _read_then_write
    # The one-statement metering function would keep its own lock: send every charge down the plain path.
    usage._charge_in_one_statement = lambda **_kwargs: None

__all__ = ["application"]

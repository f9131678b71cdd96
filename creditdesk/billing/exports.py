"""CSV downloads of an account's ledger and usage logs, streamed row by row in constant memory.

The rows come from one query read in chunks (`QuerySet.iterator(chunk_size=...)`: a server-side cursor on
PostgreSQL), and each row leaves as soon as it is written, so a million rows cost what a thousand do.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from creditdesk.core.money import to_cost

EXPORT_CHUNK_SIZE = 2000  # rows fetched from the database at a time
EXPORT_PIECE_ROWS = 500  # rows per piece of the response body

TRANSACTION_COLUMNS = [
    "id",
    "created_at",
    "transaction_type",
    "amount",
    "balance_after",
    "description",
    "reference",
]
USAGE_COLUMNS = [
    "id",
    "created_at",
    "operation_type",
    "units",
    "credits_used",
    "cost_usd",
    "cost_reported",
    "model",
    "tokens_input",
    "tokens_output",
    "reference_id",
]
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        # Text a caller chose (descriptions, references, model names) must not run as a spreadsheet
        # formula; numbers are never strings here, so a negative amount keeps its sign.
        return "'" + value
    return value


def _usage_row(row: tuple) -> tuple:
    (pk, created_at, operation_type, units, credits_used, cost, model, tokens_in, tokens_out, ref) = row
    reported = cost is not None
    cost_text = str(to_cost(cost or Decimal("0")))
    return (
        pk,
        created_at,
        operation_type,
        units,
        credits_used,
        cost_text,
        reported,
        model,
        tokens_in,
        tokens_out,
        ref,
    )


def _lines(header: list[str], rows: Iterable[tuple]) -> Iterator[bytes]:
    """CSV in pieces of EXPORT_PIECE_ROWS rows: one write per piece, not per row (a million tiny writes
    cost more than the rows), and never more than a piece in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(value) for value in row])
        if count % EXPORT_PIECE_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _attachment(lines: Iterator[bytes], name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def transactions_csv(queryset: QuerySet) -> StreamingHttpResponse:
    rows = queryset.values_list(*TRANSACTION_COLUMNS).iterator(chunk_size=EXPORT_CHUNK_SIZE)
    return _attachment(_lines(TRANSACTION_COLUMNS, rows), "transactions")


def usage_logs_csv(queryset: QuerySet) -> StreamingHttpResponse:
    fields = [column for column in USAGE_COLUMNS if column != "cost_reported"]
    rows = queryset.values_list(*fields).iterator(chunk_size=EXPORT_CHUNK_SIZE)
    return _attachment(_lines(USAGE_COLUMNS, (_usage_row(row) for row in rows)), "usage-logs")

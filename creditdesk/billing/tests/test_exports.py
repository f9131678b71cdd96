"""CSV downloads of the ledger and the usage logs: the list's rows and filters, one tenant only, streamed
from one chunked query (constant memory however many rows)."""

import csv
import io

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing import exports
from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import deduct_credits, grant_credits

pytestmark = pytest.mark.django_db
TRANSACTIONS = "/api/v1/billing/transactions/export/"
USAGE = "/api/v1/billing/credits/usage/export/"


def read_csv(response) -> list[dict[str, str]]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def meter(client: APIClient, **body: object) -> None:
    response = client.post(
        "/api/v1/billing/credits/usage/", {"operation_type": "clustering", **body}, format="json"
    )
    assert response.status_code == 201, response.content


def test_the_transactions_export_is_the_lists_rows_as_csv_newest_first(
    owner_client: APIClient, account: Account, other_account: Account
) -> None:
    deduct_credits(account=account, amount=30, description="Spent on articles", reference="job-1")
    grant_credits(account=account, amount=5, description="Goodwill")

    response = owner_client.get(TRANSACTIONS)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="transactions-')
    rows = read_csv(response)
    assert list(rows[0]) == exports.TRANSACTION_COLUMNS
    assert [(r["transaction_type"], r["amount"], r["balance_after"]) for r in rows] == [
        ("grant", "5", "975"),
        ("deduction", "-30", "970"),
        ("grant", "1000", "1000"),
    ]
    ours = set(CreditTransaction.objects.filter(account=account).values_list("pk", flat=True))
    assert {int(r["id"]) for r in rows} == ours  # nothing of the other tenant
    assert rows[1]["description"] == "Spent on articles" and rows[1]["reference"] == "job-1"


def test_the_transactions_export_applies_the_lists_filters(owner_client: APIClient, account: Account) -> None:
    deduct_credits(account=account, amount=30, description="Spent")
    rows = read_csv(owner_client.get(TRANSACTIONS, {"transaction_type": "deduction"}))
    assert [r["amount"] for r in rows] == ["-30"]
    assert read_csv(owner_client.get(TRANSACTIONS, {"created_after": "2999-01-01T00:00:00Z"})) == []


def test_a_bad_filter_is_the_lists_400_in_the_json_envelope(owner_client: APIClient) -> None:
    response = owner_client.get(TRANSACTIONS, {"transaction_type": "gift"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and "transaction_type" in body["errors"]


def test_an_anonymous_export_is_a_401_in_the_json_envelope(api_client: APIClient) -> None:
    for url in (TRANSACTIONS, USAGE):
        response = api_client.get(url, HTTP_ACCEPT="text/csv")
        assert response.status_code == 401 and response.json()["success"] is False


def test_the_usage_export_has_costs_as_decimals_and_whether_they_were_reported(
    owner_client: APIClient, other_client: APIClient
) -> None:
    meter(owner_client, cost_usd="0.1234", model="gpt-x", reference_id="job-7", tokens_input=12)
    meter(owner_client, operation_type="linking")
    meter(other_client, reference_id="globex-secret")

    rows = read_csv(owner_client.get(USAGE, HTTP_ACCEPT="text/csv"))

    assert list(rows[0]) == exports.USAGE_COLUMNS
    assert [(r["operation_type"], r["cost_usd"], r["cost_reported"]) for r in rows] == [
        ("linking", "0.0000", "False"),
        ("clustering", "0.1234", "True"),
    ]
    assert (rows[1]["model"], rows[1]["reference_id"], rows[1]["tokens_input"], rows[1]["tokens_output"]) == (
        "gpt-x",
        "job-7",
        "12",
        "",
    )
    assert read_csv(owner_client.get(USAGE, {"operation_type": "linking"}))[0]["operation_type"] == "linking"
    assert len(read_csv(owner_client.get(USAGE, {"operation_type": "linking"}))) == 1


def test_text_a_caller_chose_cannot_run_as_a_spreadsheet_formula(owner_client: APIClient) -> None:
    meter(owner_client, reference_id='=HYPERLINK("http://evil.example","x")', model="@SUM(A1)")
    (row,) = read_csv(owner_client.get(USAGE))
    assert row["reference_id"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["model"] == "'@SUM(A1)"


def test_a_viewer_may_download_both(client_for) -> None:
    viewer = client_for("viewer")
    assert viewer.get(TRANSACTIONS).status_code == 200
    assert viewer.get(USAGE).status_code == 200


def test_the_export_streams_every_row_from_one_chunked_query(
    owner_client: APIClient, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Constant memory: one SELECT read in chunks by QuerySet.iterator, never a list of every row, no
    pagination queries and no query per row."""
    monkeypatch.setattr(exports, "EXPORT_CHUNK_SIZE", 50)
    for n in range(260):
        deduct_credits(account=account, amount=1, description=f"row {n}")
    chunk_sizes: list[int] = []
    real_iterator = QuerySet.iterator

    def spy(self: QuerySet, chunk_size: int | None = None):  # type: ignore[no-untyped-def]
        chunk_sizes.append(chunk_size)
        return real_iterator(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)

    response = owner_client.get(TRANSACTIONS)
    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(response)

    assert len(rows) == 261
    assert chunk_sizes == [50]
    ledger_reads = [q["sql"] for q in queries.captured_queries if "billing_credittransaction" in q["sql"]]
    assert len(ledger_reads) == 1 and "LIMIT" not in ledger_reads[0].upper()


def test_the_export_is_lazy_the_rows_are_read_while_the_response_is_sent(
    owner_client: APIClient, account: Account
) -> None:
    with CaptureQueriesContext(connection) as answering:
        response = owner_client.get(TRANSACTIONS)
    assert not any("billing_credittransaction" in q["sql"] for q in answering.captured_queries)
    with CaptureQueriesContext(connection) as sending:
        rows = read_csv(response)
    assert any("billing_credittransaction" in q["sql"] for q in sending.captured_queries)
    assert len(rows) == 1

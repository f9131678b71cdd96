"""The unfiltered transactions list seeks on each row's per-account sequence number instead of OFFSET:
the same rows, pages and count as before, and a deep page costs what the first one does."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction
from creditdesk.billing.services.ledger import (
    DuplicateLedgerReference,
    InsufficientCredits,
    deduct_credits,
    grant_credits,
)
from creditdesk.conftest import bearer_client

pytestmark = pytest.mark.django_db

LIST = "/api/v1/billing/transactions/"


def sequence_numbers(account: Account) -> list[int]:
    return list(
        CreditTransaction.objects.filter(account=account).order_by("id").values_list("seq", flat=True)
    )


def test_each_account_numbers_its_ledger_rows_one_two_three_without_gaps(make_account) -> None:
    first, second = make_account(credits=100), make_account(credits=100)
    for _ in range(3):
        deduct_credits(account=first, amount=1, description="a")
        grant_credits(account=second, amount=1, description="b")
    assert sequence_numbers(first) == [1, 2, 3, 4]
    assert sequence_numbers(second) == [1, 2, 3, 4]
    first.refresh_from_db()
    assert first.ledger_seq == 4


def test_a_refused_or_duplicate_write_takes_no_sequence_number(make_account) -> None:
    account = make_account(credits=10)
    with pytest.raises(InsufficientCredits):
        deduct_credits(account=account, amount=11, description="too much")
    grant_credits(account=account, amount=5, description="once", reference="promo:1")
    with pytest.raises(DuplicateLedgerReference):
        grant_credits(account=account, amount=5, description="twice", reference="promo:1")
    deduct_credits(account=account, amount=1, description="next")
    assert sequence_numbers(account) == [1, 2, 3]
    account.refresh_from_db()
    assert account.ledger_seq == 3


def test_every_page_of_the_unfiltered_list_holds_the_rows_offset_would_give(
    make_account, make_member
) -> None:
    account = make_account(credits=1000)
    for n in range(1, 12):
        deduct_credits(account=account, amount=n, description=f"use {n}")
    client = bearer_client(make_member(account, "owner"))
    expected = list(
        CreditTransaction.objects.filter(account=account)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    )
    pages = []
    for page in (1, 2, 3):
        data = client.get(f"{LIST}?page={page}&page_size=5").json()["data"]
        assert data["count"] == 12
        pages.append([row["id"] for row in data["results"]])
    assert pages == [expected[0:5], expected[5:10], expected[10:12]]
    assert client.get(f"{LIST}?page=4&page_size=5").status_code == 404


def test_a_deep_page_is_a_range_on_the_sequence_number_not_an_offset(make_account, make_member) -> None:
    account = make_account(credits=1000)
    for _ in range(9):
        deduct_credits(account=account, amount=1, description="use")
    client = bearer_client(make_member(account, "owner"))
    with CaptureQueriesContext(connection) as queries:
        data = client.get(f"{LIST}?page=3&page_size=3").json()["data"]
    assert [row["balance_after"] for row in data["results"]] == [997, 998, 999]
    page_query = next(q["sql"] for q in queries.captured_queries if '"description"' in q["sql"])
    assert "OFFSET" not in page_query.upper()
    assert '"seq" >' in page_query and '"seq" <=' in page_query


def test_a_filtered_list_still_pages_by_offset_over_what_it_selects(make_account, make_member) -> None:
    account = make_account(credits=1000)
    for _ in range(4):
        deduct_credits(account=account, amount=1, description="use")
    client: APIClient = bearer_client(make_member(account, "owner"))
    data = client.get(f"{LIST}?transaction_type=deduction&page=2&page_size=3").json()["data"]
    assert data["count"] == 4
    assert [row["balance_after"] for row in data["results"]] == [999]

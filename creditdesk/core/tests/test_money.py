"""The money module: precision, rounding, minor units and display, the same everywhere."""

from decimal import Decimal

import pytest

from creditdesk.core.money import format_money, from_minor_units, minor_units, to_cost, to_money


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("1.005", "1.01"), ("1.004", "1.00"), ("-1.005", "-1.01"), ("2", "2.00"), ("0.125", "0.13")],
)
def test_money_is_rounded_half_up_to_two_places(amount, expected):
    assert to_money(Decimal(amount)) == Decimal(expected)
    assert str(to_money(Decimal(amount))) == expected


def test_provider_costs_keep_four_places():
    assert str(to_cost(Decimal("0.00125"))) == "0.0013"
    assert str(to_cost(Decimal("3"))) == "3.0000"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("9.00", "USD", 900), ("9.99", "eur", 999), ("1500", "JPY", 1500), ("0.01", "USD", 1)],
)
def test_minor_units_round_trip_per_currency(amount, currency, minor):
    assert minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


def test_an_amount_reads_with_thousands_separators_two_places_and_its_currency():
    assert format_money(Decimal("1234.5"), "usd") == "1,234.50 USD"
    assert format_money(Decimal("0"), "EUR") == "0.00 EUR"

"""Money, in one place: its precision, rounding, minor units and display.

Amounts are `Decimal`, never floats: MONEY_DECIMAL_PLACES places (settings) in their own currency, rounded
half up. Provider costs (what an AI operation cost the platform, in USD) are finer: COST_DECIMAL_PLACES.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import models
from rest_framework import serializers

COST_DECIMAL_PLACES = 4  # provider costs are fractions of a cent

# Currencies whose smallest unit is the unit itself (Stripe's list): amounts in minor units are whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)


def money_quantum() -> Decimal:
    return Decimal(1).scaleb(-settings.MONEY_DECIMAL_PLACES)


def to_money(amount: Decimal) -> Decimal:
    """An amount rounded to the money precision, half up (as invoices and tax are rounded)."""
    return amount.quantize(money_quantum(), rounding=ROUND_HALF_UP)


def to_cost(amount: Decimal) -> Decimal:
    """A provider cost at its precision."""
    return amount.quantize(Decimal(1).scaleb(-COST_DECIMAL_PLACES), rounding=ROUND_HALF_UP)


def _minor_factor(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100


def minor_units(amount: Decimal, currency: str) -> int:
    """What payment providers count in: cents, or whole yen."""
    return int((amount * _minor_factor(currency)).to_integral_value(rounding=ROUND_HALF_UP))


def from_minor_units(amount: int, currency: str) -> Decimal:
    return to_money(Decimal(amount) / _minor_factor(currency))


def format_money(amount: Decimal, currency: str) -> str:
    """For people (PDFs, mails, the admin): `1,234.50 USD`."""
    return f"{to_money(amount):,} {currency.upper()}"


def money_field(**kwargs: Any) -> models.DecimalField:
    """A model field for an amount of money; its currency is the model's `currency`."""
    kwargs.setdefault("default", Decimal("0.00"))
    return models.DecimalField(
        max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


def money_serializer_field(**kwargs: Any) -> serializers.DecimalField:
    """The API's amount of money: a decimal string with the money precision."""
    return serializers.DecimalField(
        max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )

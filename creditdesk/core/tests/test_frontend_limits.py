"""The front end's copies of API limits (maxLength, country codes) stay equal to what the API enforces."""

import json
from pathlib import Path

import pycountry
import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account

pytestmark = pytest.mark.django_db
LIB = Path(__file__).resolve().parents[3] / "frontend" / "src" / "lib"

# Which request body in the schema each form field's limit comes from.
SOURCES = {
    "PatchedAccountSettingsUpdateRequest": [
        "name",
        "billing_address_line1",
        "billing_address_line2",
        "billing_city",
        "billing_state",
        "billing_postal_code",
        "billing_country",
        "tax_id",
    ],
    "RegisterRequest": ["email", "password", "first_name", "last_name", "account_name"],
    "ConfirmBankTransferRequest": ["transfer_reference"],
}


def test_every_form_limit_in_the_front_end_is_the_schema_s_max_length(api_client: APIClient) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    from_schema = {
        field: components[component]["properties"][field]["maxLength"]
        for component, fields in SOURCES.items()
        for field in fields
    }
    # The schema types billing_email as `format: email` without a length; the column's is the limit.
    from_schema["billing_email"] = Account._meta.get_field("billing_email").max_length
    assert json.loads((LIB / "limits.json").read_text()) == from_schema


def test_the_country_picker_offers_exactly_the_codes_the_api_accepts() -> None:
    assert json.loads((LIB / "countries.json").read_text()) == sorted(c.alpha_2 for c in pycountry.countries)

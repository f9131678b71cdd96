"""Bad usage metadata is a 400 naming the field, on SQLite and PostgreSQL alike, and nothing is written.

PostgreSQL's jsonb refuses a NUL character and a lone surrogate (it was a 500 there); JSON nested
thousands deep overflowed the parser's recursion (a 500 on both); 2 MB of metadata was stored as is.
"""

import json

import pytest
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditTransaction, CreditUsageLog

pytestmark = pytest.mark.django_db
USAGE = "/api/v1/billing/credits/usage/"


def post_raw(client: APIClient, body: str, **headers: str):
    return client.post(USAGE, data=body, content_type="application/json", **headers)


def usage_body(metadata_json: str) -> str:
    return '{"operation_type": "clustering", "metadata": ' + metadata_json + "}"


def nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def assert_refused_naming_metadata(response, account: Account, *, says: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False
    assert list(body["errors"]) == ["metadata"]
    assert says in body["errors"]["metadata"][0]
    assert body["error"].startswith("metadata: ")
    assert not CreditUsageLog.objects.exists()
    assert not CreditTransaction.objects.filter(account=account, transaction_type="usage").exists()
    account.refresh_from_db()
    assert account.credits == 1000


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param('{"note": "a\\u0000b"}', id="nul-in-a-value"),
        pytest.param('{"a\\u0000b": 1}', id="nul-in-a-key"),
        pytest.param('{"list": [["deep \\u0000"]]}', id="nul-deep-in-a-list"),
    ],
)
def test_metadata_with_a_nul_character_is_a_400_naming_metadata(
    owner_client: APIClient, account: Account, metadata: str
) -> None:
    response = post_raw(owner_client, usage_body(metadata))
    assert_refused_naming_metadata(response, account, says="NUL")


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param('{"note": "\\ud800"}', id="lone-high-surrogate"),
        pytest.param('{"note": "x\\udfff"}', id="lone-low-surrogate"),
        pytest.param('{"\\ud83d": 1}', id="in-a-key"),
    ],
)
def test_metadata_with_a_lone_surrogate_is_a_400_naming_metadata(
    owner_client: APIClient, account: Account, metadata: str
) -> None:
    response = post_raw(owner_client, usage_body(metadata))
    assert_refused_naming_metadata(response, account, says="surrogate")


def test_a_surrogate_pair_is_a_real_character_and_is_stored(owner_client: APIClient) -> None:
    response = post_raw(owner_client, usage_body('{"emoji": "\\ud83d\\ude00"}'))
    assert response.status_code == 201, response.content
    assert CreditUsageLog.objects.get().metadata == {"emoji": "\U0001f600"}


def test_metadata_nested_five_thousand_deep_is_a_400_naming_metadata(
    owner_client: APIClient, account: Account
) -> None:
    response = post_raw(owner_client, usage_body(nested(5000)))
    assert_refused_naming_metadata(response, account, says="deep")


def test_metadata_nested_past_the_depth_bound_is_a_400_and_at_the_bound_is_stored(
    owner_client: APIClient, account: Account, settings
) -> None:
    settings.USAGE_METADATA_MAX_DEPTH = 10
    too_deep = post_raw(owner_client, usage_body(nested(11)))
    assert_refused_naming_metadata(too_deep, account, says="10")

    at_bound = post_raw(owner_client, usage_body(nested(10)))
    assert at_bound.status_code == 201, at_bound.content
    assert CreditUsageLog.objects.count() == 1


def test_two_megabytes_of_metadata_is_a_400_naming_metadata(
    owner_client: APIClient, account: Account
) -> None:
    metadata = json.dumps({"blob": "x" * (2 * 1024 * 1024)})
    response = post_raw(owner_client, usage_body(metadata))
    assert_refused_naming_metadata(response, account, says="16384 bytes")


def test_metadata_over_the_size_bound_by_one_byte_is_refused_and_at_it_is_stored(
    owner_client: APIClient, account: Account, settings
) -> None:
    settings.USAGE_METADATA_MAX_BYTES = 100
    overhead = len(json.dumps({"k": ""}, separators=(",", ":")))
    at_bound = json.dumps({"k": "é" * ((100 - overhead) // 2)}, ensure_ascii=False)
    response = post_raw(owner_client, usage_body(at_bound))
    assert response.status_code == 201, response.content

    over = json.dumps({"k": "é" * ((100 - overhead) // 2) + "x"}, ensure_ascii=False)
    assert_refused_naming_metadata_count = post_raw(owner_client, usage_body(over))
    assert assert_refused_naming_metadata_count.status_code == 400
    assert list(assert_refused_naming_metadata_count.json()["errors"]) == ["metadata"]
    assert CreditUsageLog.objects.count() == 1


def test_a_deeply_nested_body_outside_metadata_is_a_400_in_the_envelope(
    owner_client: APIClient, account: Account
) -> None:
    response = post_raw(owner_client, nested(5000))
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and "deep" in body["error"]
    assert not CreditUsageLog.objects.exists()


def test_a_nul_character_in_a_text_field_is_a_400_naming_it(
    owner_client: APIClient, account: Account
) -> None:
    response = post_raw(owner_client, '{"operation_type": "clustering", "reference_id": "job\\u0000"}')
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reference_id"]
    assert not CreditUsageLog.objects.exists()

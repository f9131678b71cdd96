"""The metering POST validates with RecordUsageSerializer's fields built once (record_usage_input) and
answers with CreditUsageLogSerializer's fields built once (usage_log_data): the values, the errors and the
answer are the serializers' own, body for body."""

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import override_settings
from rest_framework import serializers
from rest_framework.test import APIClient

from creditdesk.accounts.models import Account
from creditdesk.billing.models import CreditUsageLog
from creditdesk.billing.serializers.ledger import (
    CreditUsageLogSerializer,
    RecordUsageSerializer,
    record_usage_input,
    usage_log_data,
)
from creditdesk.billing.services.reversals import reverse_usage
from creditdesk.billing.services.usage import record_usage
from creditdesk.core.serializers import validated

USAGE = "/api/v1/billing/credits/usage/"

BODIES: list[Any] = [
    {"operation_type": "clustering"},
    {"operation_type": "  clustering  "},
    {"operation_type": "clustering", "units": 3, "cost_usd": "0.0020", "model": "gpt", "tokens_input": 0},
    {"operation_type": "clustering", "units": "7", "cost_usd": 1.5, "tokens_output": 2**31 - 1},
    {
        "operation_type": "clustering",
        "cost_usd": None,
        "tokens_input": None,
        "metadata": {"a": [1, {"b": 2}]},
    },
    {"operation_type": "clustering", "reference_id": "r" * 128, "model": ""},
    {"operation_type": "clustering", "units": 1.0},
    {"operation_type": "clustering", "cost_usd": "1e-3"},
    # Refused: each must be the serializer's own error.
    {},
    {"operation_type": ""},
    {"operation_type": "x" * 33},
    {"operation_type": None},
    {"operation_type": True},
    {"operation_type": "clus\x00tering"},
    {"operation_type": "clustering", "units": 0},
    {"operation_type": "clustering", "units": 1_000_001},
    {"operation_type": "clustering", "units": True},
    {"operation_type": "clustering", "units": 1.5},
    {"operation_type": "clustering", "cost_usd": "-1"},
    {"operation_type": "clustering", "cost_usd": "0.00001"},
    {"operation_type": "clustering", "cost_usd": "abc"},
    {"operation_type": "clustering", "tokens_input": -1},
    {"operation_type": "clustering", "reference_id": "r" * 129},
    {"operation_type": "clustering", "metadata": []},
    {"operation_type": "clustering", "metadata": {"k": "nul\x00"}},
    {"operation_type": "clustering", "account": 3},
    {"operation_type": "clustering", "credits_used": 0, "units": 0},
    [{"operation_type": "clustering"}],
    "clustering",
]


def outcome(validate: Any, body: Any) -> Any:
    try:
        return ("valid", validate(body))
    except serializers.ValidationError as exc:
        return ("refused", exc.detail)


@pytest.mark.parametrize("body", BODIES, ids=[f"body{n}" for n in range(len(BODIES))])
def test_the_metering_input_is_exactly_the_serializers(body: Any) -> None:
    expected = outcome(lambda data: validated(RecordUsageSerializer, data), body)
    assert outcome(record_usage_input, body) == expected


def test_each_request_gets_its_own_metadata_default() -> None:
    first = record_usage_input({"operation_type": "clustering"})
    first["metadata"]["mutated"] = True
    assert record_usage_input({"operation_type": "clustering"})["metadata"] == {}


@override_settings(USAGE_METADATA_MAX_BYTES=10)
def test_the_metadata_bounds_are_read_per_request() -> None:
    body = {"operation_type": "clustering", "metadata": {"key": "a long value"}}
    assert outcome(record_usage_input, body)[0] == "refused"
    assert outcome(record_usage_input, body) == outcome(lambda d: validated(RecordUsageSerializer, d), body)


@pytest.mark.django_db
def test_a_refused_body_answers_the_serializers_envelope(owner_client: APIClient, account: Account) -> None:
    response = owner_client.post(
        USAGE, {"operation_type": "", "units": 0, "tokens_input": -1, "x": 1}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"] == {"x": ["This field cannot be set."]}
    response = owner_client.post(USAGE, {"operation_type": "", "units": 0, "tokens_input": -1}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"operation_type", "units", "tokens_input"}
    assert not CreditUsageLog.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_the_answer_is_the_usage_log_serializers(account: Account, owner) -> None:
    plain = record_usage(account=account, user=owner, operation_type="clustering")
    costed = record_usage(
        account=account,
        user=owner,
        operation_type="linking",
        units=3,
        cost_usd=Decimal("0.5"),
        model="m",
        tokens_input=4,
        tokens_output=5,
        reference_id="job",
    )
    reverse_usage(account=account, usage_id=costed.pk, units=1, reason="test", user=owner)
    zero = record_usage(account=account, user=owner, operation_type="clustering", cost_usd=Decimal("0"))
    for log in (plain, costed, zero, *CreditUsageLog.objects.filter(account=account)):
        expected = CreditUsageLogSerializer(log).data
        assert list(usage_log_data(log)) == list(expected)  # every field, in the serializer's order
        assert json.loads(json.dumps(usage_log_data(log))) == json.loads(json.dumps(expected))

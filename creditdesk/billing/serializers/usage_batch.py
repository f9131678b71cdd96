from decimal import Decimal
from typing import Any

from rest_framework import serializers

from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer, RecordUsageSerializer
from creditdesk.billing.services.usage_batch import MAX_EVENTS, NewUsage
from creditdesk.core.money import to_cost
from creditdesk.core.serializers import StrictInputSerializer


class BatchEventSerializer(RecordUsageSerializer):
    """One event: the single POST's fields, with the reference_id that names the job required."""

    reference_id = serializers.CharField(max_length=128)
    account = serializers.CharField(
        max_length=100,
        required=False,
        help_text="Platform keys only: the account (id or slug) this event is metered to; the batch's "
        "account (X-Account or `account`) when omitted. From a member or an account key it is a 400.",
    )


class RecordUsageBatchSerializer(StrictInputSerializer):
    events = serializers.ListField(child=BatchEventSerializer(), min_length=1, max_length=MAX_EVENTS)


class BatchEventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's position in the request, from 0.")
    reference_id = serializers.CharField()
    account = serializers.IntegerField(
        allow_null=True, help_text="The id of the account the event was metered to; null when it named none."
    )
    status = serializers.ChoiceField(choices=["created", "replayed", "refused"])
    reason = serializers.ChoiceField(
        choices=["", "unknown_account", "unknown_operation", "insufficient_credits", "cap", "conflict"],
        help_text="Why a refused event was refused; empty otherwise.",
    )
    message = serializers.CharField()
    usage = CreditUsageLogSerializer(allow_null=True, help_text="The usage log: new, or the replayed one.")


class RecordUsageBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = BatchEventResultSerializer(many=True)


_DATETIME = serializers.DateTimeField()


def new_usage_data(logs: list[NewUsage]) -> list[dict[str, Any]]:
    """What CreditUsageLogSerializer answers for each log, built straight from the batch's values (a
    thousand passes through the serializer's fields cost more than the writes). A test holds the two
    equal."""
    times: dict[Any, str] = {}
    answers = []
    for log in logs:
        created_at = times.get(log.created_at)
        if created_at is None:
            created_at = times[log.created_at] = _DATETIME.to_representation(log.created_at)
        answers.append(
            {
                "id": log.id,
                "operation_type": log.operation_type,
                "units": log.units,
                "credits_used": log.credits_used,
                "cost_usd": str(to_cost(log.cost_usd or Decimal("0"))),
                "cost_reported": log.cost_usd is not None,
                "model": log.model,
                "tokens_input": log.tokens_input,
                "tokens_output": log.tokens_output,
                "reference_id": log.reference_id,
                "created_at": created_at,
                "units_reversed": log.units_reversed,
                "credits_reversed": log.credits_reversed,
            }
        )
    return answers

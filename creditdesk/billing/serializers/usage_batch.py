from rest_framework import serializers

from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer, RecordUsageSerializer
from creditdesk.billing.services.usage_batch import MAX_EVENTS
from creditdesk.core.serializers import StrictInputSerializer


class BatchEventSerializer(RecordUsageSerializer):
    """One event: the single POST's fields, with the reference_id that names the job required."""

    reference_id = serializers.CharField(max_length=128)


class RecordUsageBatchSerializer(StrictInputSerializer):
    events = serializers.ListField(child=BatchEventSerializer(), min_length=1, max_length=MAX_EVENTS)


class BatchEventResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's position in the request, from 0.")
    reference_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["created", "replayed", "refused"])
    reason = serializers.ChoiceField(
        choices=["", "unknown_operation", "insufficient_credits", "cap", "conflict"],
        help_text="Why a refused event was refused; empty otherwise.",
    )
    message = serializers.CharField()
    usage = CreditUsageLogSerializer(allow_null=True, help_text="The usage log: new, or the replayed one.")


class RecordUsageBatchResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    replayed = serializers.IntegerField()
    refused = serializers.IntegerField()
    results = BatchEventResultSerializer(many=True)

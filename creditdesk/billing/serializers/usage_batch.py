from typing import Any

from rest_framework import serializers

from creditdesk.billing.serializers.ledger import (
    CreditUsageLogSerializer,
    RecordUsageSerializer,
    usage_log_data,
)
from creditdesk.billing.services.usage_batch import MAX_EVENTS, NewUsage
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
        answers.append(usage_log_data(log, created_at))
    return answers


# --- the quick path of validation ----------------------------------------------------------------------

_EVENT_FIELDS = BatchEventSerializer().fields
_TEXT = {"operation_type": 32, "reference_id": 128}  # required, not blank
_INTEGERS = {"tokens_input": (0, 2**31 - 1), "tokens_output": (0, 2**31 - 1)}  # optional, nullable
_ALLOWED = frozenset(_EVENT_FIELDS)


def _plain_text(value: Any, max_length: int) -> bool:
    """Text DRF's CharField keeps as it is: no surrounding whitespace to trim, no NUL or surrogate."""
    return (
        type(value) is str
        and len(value) <= max_length
        and value.isascii()
        and "\x00" not in value
        and value == value.strip()
    )


def quick_events(data: Any) -> list[dict[str, Any]] | None:
    """The validated events when every event is plainly valid (what RecordUsageBatchSerializer would
    return, field for field), else None: the caller then runs the serializer, which names the errors.

    A thousand events through DRF's fields cost more than their writes; this accepts only values the
    serializer keeps unchanged (ints as ints, text with nothing to trim) and leaves everything else,
    including every value it would coerce or refuse, to the serializer. cost_usd and metadata, when
    given, go through the serializer's own fields. A test holds the two paths equal."""
    if type(data) is not dict or data.keys() != {"events"}:
        return None
    events = data["events"]
    if type(events) is not list or not 1 <= len(events) <= MAX_EVENTS:
        return None
    out = []
    for event in events:
        if type(event) is not dict or not _ALLOWED.issuperset(event):
            return None
        clean: dict[str, Any] = {}
        for name, max_length in _TEXT.items():
            value = event.get(name)
            if not _plain_text(value, max_length) or not value:
                return None
            clean[name] = value
        units = event.get("units", 1)
        if type(units) is not int or not 1 <= units <= 1_000_000:
            return None
        clean["units"] = units
        model = event.get("model", "")
        if not _plain_text(model, 120):
            return None
        clean["model"] = model
        for name, (low, high) in _INTEGERS.items():
            value = event.get(name)
            if value is not None and (type(value) is not int or not low <= value <= high):
                return None
            clean[name] = value
        try:
            cost = event.get("cost_usd")
            clean["cost_usd"] = None if cost is None else _EVENT_FIELDS["cost_usd"].run_validation(cost)
            metadata = event.get("metadata")
            clean["metadata"] = {} if metadata is None and "metadata" not in event else None
            if clean["metadata"] is None:
                clean["metadata"] = _EVENT_FIELDS["metadata"].run_validation(metadata)
        except serializers.ValidationError:
            return None
        if "account" in event:
            account = event["account"]
            if type(account) is int and account >= 0:
                account = str(account)
            if not _plain_text(account, 100) or not account:
                return None
            clean["account"] = account
        out.append(clean)
    return out

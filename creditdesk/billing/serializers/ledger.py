from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField, empty

from creditdesk.billing.models import CreditCost, CreditGrant, CreditTransaction, CreditUsageLog
from creditdesk.core.money import to_cost
from creditdesk.core.serializers import StrictInputSerializer, validated
from creditdesk.core.validators import BoundedJSONObjectField

if TYPE_CHECKING:
    from creditdesk.billing.services.usage_batch import NewUsage


class SourceCreditsSerializer(serializers.Serializer):
    # A field named like Field.source: the stubs type that attribute, DRF takes it as a field name.
    source = serializers.ChoiceField(choices=CreditGrant.Source.choices)  # type: ignore[assignment]
    credits = serializers.IntegerField()


class NextExpirySerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    expires_at = serializers.DateTimeField()


class CreditBalanceSerializer(serializers.Serializer):
    credits = serializers.IntegerField(help_text="The balance: every unexpired credit, held ones included.")
    plan_credits_per_month = serializers.IntegerField()
    credits_used_this_month = serializers.IntegerField()
    credits_remaining = serializers.IntegerField(help_text="Spendable now: credits minus held.")
    held = serializers.IntegerField(help_text="Reserved by active holds (jobs in flight).")
    breakdown = SourceCreditsSerializer(many=True, help_text="Live credits by source, non-zero only.")
    next_expiry = NextExpirySerializer(allow_null=True, help_text="The soonest-expiring credits, or null.")
    plan_name = serializers.CharField(allow_null=True)
    next_grant_at = serializers.DateTimeField(allow_null=True, help_text="When the next plan credits arrive.")


class CreditTransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransaction
        fields = [
            "id",
            "amount",
            "transaction_type",
            "description",
            "reference",
            "created_at",
            "balance_after",
        ]
        read_only_fields = fields


class CreditUsageLogSerializer(serializers.ModelSerializer):
    """`cost_usd` is always a decimal string a client can format as money. A caller that reported no cost
    leaves it unknown (stored as NULL): it answers "0.0000" with `cost_reported: false`, so a zero that was
    reported (`cost_reported: true`) stays distinguishable from one that was not."""

    cost_usd = serializers.SerializerMethodField(
        help_text='Provider cost in USD, 4 places; "0.0000" with cost_reported=false when none was reported.'
    )
    cost_reported = serializers.SerializerMethodField(
        help_text="Whether the caller reported cost_usd when it metered the operation."
    )

    @extend_schema_field(serializers.DecimalField(max_digits=14, decimal_places=4))
    def get_cost_usd(self, log: CreditUsageLog) -> str:
        return str(to_cost(log.cost_usd or Decimal("0")))

    def get_cost_reported(self, log: CreditUsageLog) -> bool:
        return log.cost_usd is not None

    class Meta:
        model = CreditUsageLog
        fields = [
            "id",
            "operation_type",
            "units",
            "credits_used",
            "cost_usd",
            "cost_reported",
            "model",
            "tokens_input",
            "tokens_output",
            "reference_id",
            "created_at",
            "units_reversed",
            "credits_reversed",
        ]
        read_only_fields = fields


class RecordUsageSerializer(StrictInputSerializer):
    operation_type = serializers.CharField(max_length=32)
    units = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    cost_usd = serializers.DecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0"),
        required=False,
        allow_null=True,
        default=None,
        help_text="The provider's cost in USD; omitted or null means not reported (cost_reported=false).",
    )
    model = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    tokens_input = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    tokens_output = serializers.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, allow_null=True, default=None
    )
    reference_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    metadata = BoundedJSONObjectField(
        max_bytes_setting="USAGE_METADATA_MAX_BYTES",
        max_depth_setting="USAGE_METADATA_MAX_DEPTH",
        required=False,
        default=dict,
        help_text="Free-form JSON object stored with the log: at most USAGE_METADATA_MAX_BYTES (16384) "
        "bytes as compact UTF-8 JSON, USAGE_METADATA_MAX_DEPTH (10) levels deep, no NUL character or "
        "lone surrogate in keys or strings; otherwise a 400 naming `metadata`.",
    )


@cache
def _record_usage_fields() -> list[tuple[str, serializers.Field]]:
    return list(RecordUsageSerializer().fields.items())


def record_usage_input(data: Any) -> dict[str, Any]:
    """RecordUsageSerializer's validated data, for the metering POST (the platform's hot path).

    A serializer builds (deep-copies) its fields on every instance: here one instance's bound fields
    validate every request, each with its own DRF code, so a valid body gives exactly the serializer's
    values. Anything else (an unknown field, a form body, any field error) goes to the serializer itself,
    so every error and its envelope are the serializer's own.
    """
    if type(data) is dict:
        fields = _record_usage_fields()
        if data.keys() <= {name for name, _field in fields}:
            try:
                return {name: field.run_validation(data.get(name, empty)) for name, field in fields}
            except (serializers.ValidationError, DjangoValidationError, SkipField):
                pass
    return validated(RecordUsageSerializer, data)


# What the ModelSerializer builds for created_at; it reads the time zone and format settings per call.
_CREATED_AT = serializers.DateTimeField()


def usage_log_data(log: "CreditUsageLog | NewUsage", created_at: str | None = None) -> dict[str, Any]:
    """CreditUsageLogSerializer(log).data without building a serializer (the metering POST's answer, and
    each log of a batch's, which passes its one `created_at` already formatted); test_metering_input.py and
    test_usage_batch.py hold the two equal, field for field."""
    return {
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
        "created_at": created_at or _CREATED_AT.to_representation(log.created_at),
        "units_reversed": log.units_reversed,
        "credits_reversed": log.credits_reversed,
    }


class CreditCostSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditCost
        fields = ["operation_type", "display_name", "credits_per_unit", "unit", "description", "is_active"]
        read_only_fields = fields


class ReverseUsageSerializer(StrictInputSerializer):
    units = serializers.IntegerField(
        min_value=1,
        max_value=1_000_000,
        required=False,
        allow_null=True,
        default=None,
        help_text="All when omitted.",
    )
    reason = serializers.CharField(max_length=500)


class ReversalSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="transaction.id", help_text="The `reversal` ledger row.")
    usage_log = CreditUsageLogSerializer()
    units = serializers.IntegerField()
    credits = serializers.IntegerField(help_text="Credits returned to the grants they came from.")
    credits_expired = serializers.IntegerField(
        help_text="Of those, credits returned to a grant that had expired: they expired again at once."
    )
    balance_after = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField(source="transaction.created_at")

    def get_balance_after(self, reversal: object) -> int:
        return reversal.transaction.balance_after - reversal.credits_expired  # type: ignore[attr-defined]

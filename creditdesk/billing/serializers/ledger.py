from decimal import Decimal

from rest_framework import serializers

from creditdesk.billing.models import CreditCost, CreditTransaction, CreditUsageLog
from creditdesk.core.serializers import StrictInputSerializer
from creditdesk.core.validators import BoundedJSONObjectField


class CreditBalanceSerializer(serializers.Serializer):
    credits = serializers.IntegerField()
    plan_credits_per_month = serializers.IntegerField()
    credits_used_this_month = serializers.IntegerField()
    credits_remaining = serializers.IntegerField()


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
    class Meta:
        model = CreditUsageLog
        fields = [
            "id",
            "operation_type",
            "units",
            "credits_used",
            "cost_usd",
            "model",
            "tokens_input",
            "tokens_output",
            "reference_id",
            "created_at",
        ]
        read_only_fields = fields


class RecordUsageSerializer(StrictInputSerializer):
    operation_type = serializers.CharField(max_length=32)
    units = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, default=1)
    cost_usd = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=Decimal("0"), required=False, allow_null=True, default=None
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


class CreditCostSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditCost
        fields = ["operation_type", "display_name", "credits_per_unit", "unit", "description", "is_active"]
        read_only_fields = fields

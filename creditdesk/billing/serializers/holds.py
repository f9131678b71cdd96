from decimal import Decimal

from rest_framework import serializers

from creditdesk.billing.models import CreditHold
from creditdesk.core.serializers import StrictInputSerializer

MAX_HOLD_SECONDS = 7 * 24 * 3600


class CreditHoldSerializer(serializers.ModelSerializer):
    credits = serializers.IntegerField(help_text="Credits reserved when the hold was created.")
    settled = serializers.IntegerField(help_text="Credits charged so far by its settles.")
    remaining = serializers.IntegerField(help_text="Credits still reserved (0 once the hold is closed).")

    class Meta:
        model = CreditHold
        fields = [
            "id",
            "operation_type",
            "reference_id",
            "credits",
            "settled",
            "remaining",
            "status",
            "expires_at",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class CreateHoldSerializer(StrictInputSerializer):
    operation_type = serializers.CharField(max_length=32)
    units = serializers.IntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True, default=None
    )
    credits = serializers.IntegerField(
        min_value=1, max_value=10**12, required=False, allow_null=True, default=None
    )
    reference_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    expires_in = serializers.IntegerField(
        min_value=1, max_value=MAX_HOLD_SECONDS, required=False, default=3600, help_text="Seconds."
    )
    metadata = serializers.DictField(required=False, default=dict)


class SettleHoldSerializer(StrictInputSerializer):
    units = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, allow_null=True, default=None
    )
    credits = serializers.IntegerField(
        min_value=0, max_value=10**12, required=False, allow_null=True, default=None
    )
    final = serializers.BooleanField(
        required=False,
        default=True,
        help_text="Close the hold and free the rest (false: more settles follow).",
    )
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
    metadata = serializers.DictField(required=False, default=dict)


class ReleaseHoldSerializer(StrictInputSerializer):
    pass

from rest_framework import serializers

from creditdesk.analytics.selectors import MAX_DAYS
from creditdesk.core.serializers import StrictInputSerializer


class AnalyticsQuerySerializer(StrictInputSerializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text="The last N UTC days, today included (default 30).",
    )
    start = serializers.DateField(required=False, help_text="First UTC day of a custom range (with `end`).")
    end = serializers.DateField(
        required=False, help_text="Last UTC day of a custom range, included (with `start`)."
    )

    def validate(self, attrs: dict) -> dict:
        start, end = attrs.get("start"), attrs.get("end")
        if (start is None) != (end is None):
            missing = "end" if end is None else "start"
            raise serializers.ValidationError({missing: ["Give both start and end for a custom range."]})
        if start is not None and end is not None:
            if "days" in attrs:
                raise serializers.ValidationError(
                    {"days": ["Give either days or a start and end, not both."]}
                )
            if start > end:
                raise serializers.ValidationError(
                    {"start": ["The start date must be on or before the end date."]}
                )
            if (end - start).days + 1 > MAX_DAYS:
                raise serializers.ValidationError({"end": [f"A range covers at most {MAX_DAYS} days."]})
        elif "days" not in attrs:
            attrs["days"] = 30
        return attrs


class UsageByTypeSerializer(serializers.Serializer):
    transaction_type = serializers.CharField()
    total = serializers.IntegerField()
    count = serializers.IntegerField()


class DailyUsageSerializer(serializers.Serializer):
    date = serializers.DateField()
    usage = serializers.IntegerField()
    purchases = serializers.IntegerField()
    grants = serializers.IntegerField(help_text="Monthly plan credits and other grants received that day.")
    net = serializers.IntegerField()


class UsageByOperationSerializer(serializers.Serializer):
    operation_type = serializers.CharField()
    credits = serializers.IntegerField()
    count = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=18, decimal_places=4)


class UsageAnalyticsSerializer(serializers.Serializer):
    period_days = serializers.IntegerField()
    start = serializers.DateField()
    end = serializers.DateField()
    current_balance = serializers.IntegerField()
    usage_by_type = UsageByTypeSerializer(many=True)
    daily_usage = DailyUsageSerializer(many=True)
    total_usage = serializers.IntegerField()
    total_purchases = serializers.IntegerField()
    total_grants = serializers.IntegerField()
    usage_by_operation = UsageByOperationSerializer(many=True)

from rest_framework import serializers

from creditdesk.analytics.selectors import MAX_DAYS
from creditdesk.core.serializers import StrictInputSerializer


class AnalyticsQuerySerializer(StrictInputSerializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False, default=30)


class UsageByTypeSerializer(serializers.Serializer):
    transaction_type = serializers.CharField()
    total = serializers.IntegerField()
    count = serializers.IntegerField()


class DailyUsageSerializer(serializers.Serializer):
    date = serializers.DateField()
    usage = serializers.IntegerField()
    purchases = serializers.IntegerField()
    net = serializers.IntegerField()


class UsageByOperationSerializer(serializers.Serializer):
    operation_type = serializers.CharField()
    credits = serializers.IntegerField()
    count = serializers.IntegerField()
    cost_usd = serializers.DecimalField(max_digits=18, decimal_places=4)


class UsageAnalyticsSerializer(serializers.Serializer):
    period_days = serializers.IntegerField()
    current_balance = serializers.IntegerField()
    usage_by_type = UsageByTypeSerializer(many=True)
    daily_usage = DailyUsageSerializer(many=True)
    total_usage = serializers.IntegerField()
    total_purchases = serializers.IntegerField()
    usage_by_operation = UsageByOperationSerializer(many=True)

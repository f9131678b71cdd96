from rest_framework import serializers

from creditdesk.core.serializers import StrictInputSerializer

MAX_THRESHOLD = 10**12


class NotificationSettingsSerializer(serializers.Serializer):
    low_balance_threshold = serializers.IntegerField(
        help_text="balance.low fires when the balance falls to or below this; 0 turns it off"
    )
    email_low_balance = serializers.BooleanField()
    email_depleted = serializers.BooleanField()
    email_expiring = serializers.BooleanField()
    expiring_notice_days = serializers.IntegerField()


class NotificationSettingsInputSerializer(StrictInputSerializer):
    low_balance_threshold = serializers.IntegerField(min_value=0, max_value=MAX_THRESHOLD, required=False)
    email_low_balance = serializers.BooleanField(required=False)
    email_depleted = serializers.BooleanField(required=False)
    email_expiring = serializers.BooleanField(required=False)
    expiring_notice_days = serializers.IntegerField(min_value=1, max_value=90, required=False)

from decimal import Decimal

from rest_framework import serializers

from creditdesk.billing.serializers.notifications import MAX_THRESHOLD
from creditdesk.core.money import money_serializer_field
from creditdesk.core.serializers import StrictInputSerializer


class AutoTopUpPackageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    price = money_serializer_field()
    currency = serializers.CharField()


class AutoTopUpCardSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="stripe or sandbox")
    brand = serializers.CharField(help_text="e.g. visa; empty when Stripe did not say")
    last4 = serializers.CharField()
    saved_at = serializers.DateTimeField()


class AutoTopUpMonthSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="top-ups started this calendar month (failed ones excluded)")
    amount = money_serializer_field(help_text="their invoice totals")
    currency = serializers.CharField(allow_blank=True)


class AutoTopUpSerializer(serializers.Serializer):
    is_enabled = serializers.BooleanField()
    status = serializers.ChoiceField(
        choices=["active", "paused", "disabled", "no_card"],
        help_text="active: a crossing buys credits; paused: a charge failed (see paused_reason)",
    )
    threshold = serializers.IntegerField(help_text="buy when the balance falls below this many credits")
    package_id = serializers.IntegerField(allow_null=True)
    package = AutoTopUpPackageSerializer(allow_null=True)
    max_per_month = serializers.IntegerField(allow_null=True, help_text="null: no count limit")
    max_amount_per_month = money_serializer_field(allow_null=True, help_text="null: no money limit")
    paused_reason = serializers.CharField(allow_blank=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    card = AutoTopUpCardSerializer(allow_null=True)
    card_methods = serializers.ListField(
        child=serializers.CharField(), help_text="payment methods a card can be saved with here"
    )
    this_month = AutoTopUpMonthSerializer()


class AutoTopUpInputSerializer(StrictInputSerializer):
    is_enabled = serializers.BooleanField(required=False)
    threshold = serializers.IntegerField(min_value=1, max_value=MAX_THRESHOLD, required=False)
    package_id = serializers.IntegerField(min_value=1, required=False)
    max_per_month = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True)
    max_amount_per_month = money_serializer_field(min_value=Decimal("0.01"), required=False, allow_null=True)


class AutoTopUpCardInputSerializer(StrictInputSerializer):
    # A CharField, not a ChoiceField: a second `payment_method` enum would rename the schema's
    # PaymentMethodEnum that the front end's generated types use.
    payment_method = serializers.CharField(
        required=False,
        help_text="stripe or sandbox; defaults to Stripe where it is configured, else the sandbox",
    )

    def validate_payment_method(self, value: str) -> str:
        if value not in ("stripe", "sandbox"):
            raise serializers.ValidationError(f'"{value}" is not a valid choice.')
        return value


class AutoTopUpCardResultSerializer(serializers.Serializer):
    next_action = serializers.DictField(
        help_text='{"type": "redirect", "url": ...} for Stripe Checkout; {"type": "completed"} when saved'
    )
    auto_top_up = AutoTopUpSerializer()

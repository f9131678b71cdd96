from datetime import UTC, datetime

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from creditdesk.billing.models import CreditHold, CreditTransaction, CreditUsageLog


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, moved to UTC: PostgreSQL refuses offsets beyond ±15:59, which must be a 400."""

    def to_python(self, value: str | None) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError("Enter a date and time within range.", code="invalid") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class TransactionFilter(django_filters.FilterSet):
    transaction_type = django_filters.ChoiceFilter(choices=CreditTransaction.Type.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = CreditTransaction
        fields = ["transaction_type", "created_after", "created_before"]


class UsageLogFilter(django_filters.FilterSet):
    operation_type = django_filters.CharFilter()
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = CreditUsageLog
        fields = ["operation_type", "created_after", "created_before"]


class HoldFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CreditHold.Status.choices)

    class Meta:
        model = CreditHold
        fields = ["status"]

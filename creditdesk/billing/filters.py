import django_filters

from creditdesk.billing.models import CreditTransaction, CreditUsageLog


class TransactionFilter(django_filters.FilterSet):
    transaction_type = django_filters.ChoiceFilter(choices=CreditTransaction.Type.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = CreditTransaction
        fields = ["transaction_type", "created_after", "created_before"]


class UsageLogFilter(django_filters.FilterSet):
    operation_type = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = CreditUsageLog
        fields = ["operation_type", "created_after", "created_before"]

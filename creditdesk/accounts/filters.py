import django_filters

from creditdesk.billing.filters import UtcDateTimeFilter
from creditdesk.tenancy.audit import AuditAction
from creditdesk.tenancy.models import AuditLog


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(
        choices=AuditAction.choices,
        help_text="Only entries of this action, e.g. team.invited or payment.refunded; an unknown one is a 400.",
    )
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditLog
        fields = ["action", "created_after", "created_before"]

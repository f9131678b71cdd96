import django_filters

from creditdesk.tenancy.models import AuditLog


class AuditLogFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(
        max_length=64, help_text="Only entries of this action, e.g. member.invited or payment.refunded."
    )

    class Meta:
        model = AuditLog
        fields = ["action"]

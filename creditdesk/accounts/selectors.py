from typing import Any

from django.db.models import QuerySet

from creditdesk.accounts.models import User
from creditdesk.tenancy.models import AuditLog


def team_member_list(*, account: Any) -> QuerySet[User]:
    return User.objects.filter(account=account).order_by("date_joined", "id")


def audit_log_list(*, account: Any) -> QuerySet[AuditLog]:
    return AuditLog.objects.filter(account=account).order_by("-created_at", "-id")

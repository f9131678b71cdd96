from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing.serializers.notifications import (
    NotificationSettingsInputSerializer,
    NotificationSettingsSerializer,
)
from creditdesk.billing.services.alerts import settings_of, update_notification_settings
from creditdesk.core.serializers import validated
from creditdesk.tenancy.permissions import ManagersWriteMembersRead
from creditdesk.tenancy.request import TenantRequest

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


def _body(account: "Account") -> dict[str, Any]:
    current = settings_of(account=account)
    return {
        "low_balance_threshold": account.low_balance_threshold,
        "email_low_balance": current.email_low_balance,
        "email_depleted": current.email_depleted,
        "email_expiring": current.email_expiring,
        "expiring_notice_days": current.expiring_notice_days,
    }


class NotificationSettingsView(APIView):
    permission_classes = [ManagersWriteMembersRead]

    @extend_schema(
        summary="Balance alert settings",
        description="The low-balance threshold (0 = off) and which alerts are mailed to the owners and the "
        "billing email. Webhook endpoints receive the same events whatever these say.",
        responses=NotificationSettingsSerializer,
    )
    def get(self, request: TenantRequest) -> Response:
        return Response(NotificationSettingsSerializer(_body(request.account)).data)

    @extend_schema(
        summary="Change balance alert settings",
        description="Owners and admins. `balance.low` fires once each time the balance falls from above "
        "`low_balance_threshold` to at or below it; `balance.depleted` when it reaches zero; "
        "`credits.expiring` `expiring_notice_days` before granted credits expire.",
        request=NotificationSettingsInputSerializer,
        responses=NotificationSettingsSerializer,
    )
    def patch(self, request: TenantRequest) -> Response:
        update_notification_settings(
            account=request.account, **validated(NotificationSettingsInputSerializer, request.data)
        )
        return Response(NotificationSettingsSerializer(_body(request.account)).data)

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing.serializers.topup import (
    AutoTopUpCardInputSerializer,
    AutoTopUpCardResultSerializer,
    AutoTopUpInputSerializer,
    AutoTopUpSerializer,
)
from creditdesk.billing.services.topup import (
    card_methods_available,
    month_usage,
    rule_of,
    start_card_setup,
    update_rule,
)
from creditdesk.core.serializers import validated
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.permissions import TenantPermission, has_role
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.roles import MANAGERS, Role

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


class OwnersWriteManagersRead(TenantPermission):
    """Auto top-up spends the account's money: owners and admins see it, only owners change it."""

    message = "Only the account's owners may change auto top-up; owners and admins may see it."

    def member_allowed(self, request: Request, view: APIView) -> bool:
        roles = MANAGERS if request.method in SAFE_METHODS else frozenset({Role.OWNER})
        return has_role(request, roles)


def auto_top_up_body(account: "Account") -> dict[str, Any]:
    rule = rule_of(account=account)
    package = rule.package
    usage = month_usage(account_id=account.pk)
    if not rule.has_card:
        status = "no_card"
    elif rule.paused_reason:
        status = "paused"
    elif rule.is_enabled:
        status = "active"
    else:
        status = "disabled"
    return {
        "is_enabled": rule.is_enabled,
        "status": status,
        "threshold": rule.threshold,
        "package_id": rule.package_id,
        "package": None
        if package is None
        else {
            "id": package.pk,
            "name": package.name,
            "credits": package.credits,
            "price": package.price,
            "currency": package.currency,
        },
        "max_per_month": rule.max_per_month,
        "max_amount_per_month": rule.max_amount_per_month,
        "paused_reason": rule.paused_reason,
        "paused_at": rule.paused_at,
        "card": {
            "provider": rule.card_provider,
            "brand": rule.card_brand,
            "last4": rule.card_last4,
            "saved_at": rule.card_saved_at,
        }
        if rule.has_card
        else None,
        "card_methods": card_methods_available(),
        "this_month": {
            "count": usage.count,
            "amount": usage.amount,
            "currency": package.currency if package is not None else "",
        },
    }


class AutoTopUpView(APIView):
    permission_classes = [OwnersWriteManagersRead]

    @extend_schema(
        summary="Auto top-up rule and saved card",
        description="Owners and admins. The rule (below `threshold` credits buy `package`, at most "
        "`max_per_month` times and `max_amount_per_month` money per calendar month), the saved card "
        "(brand and last 4 digits), whether it is active or paused after a failed charge (and why), and "
        "this month's top-ups.",
        responses=AutoTopUpSerializer,
    )
    def get(self, request: TenantRequest) -> Response:
        return Response(AutoTopUpSerializer(auto_top_up_body(request.account)).data)

    @extend_schema(
        summary="Change the auto top-up rule",
        description="Owners only. Every field is optional; null clears a limit. Enabling needs a saved "
        "card, a package on sale and a threshold. Setting `is_enabled` to true on a paused rule resumes "
        "it. A balance falling from at or above the threshold to below it starts one off-session payment.",
        request=AutoTopUpInputSerializer,
        responses=AutoTopUpSerializer,
    )
    def put(self, request: TenantRequest) -> Response:
        update_rule(
            account=request.account,
            actor=request.user,
            ip_address=client_ip(request),
            **validated(AutoTopUpInputSerializer, request.data),
        )
        return Response(AutoTopUpSerializer(auto_top_up_body(request.account)).data)


class AutoTopUpCardView(APIView):
    permission_classes = [OwnersWriteManagersRead]

    @extend_schema(
        summary="Save a card for auto top-up",
        description="Owners only. Stripe: returns `next_action` `{type: redirect, url}` to Stripe Checkout "
        "in setup mode; the card is stored when Stripe's webhook confirms. Sandbox (demo deployments): a "
        "test card is saved at once (`{type: completed}`). Saving a card resumes a paused rule. 502 when "
        "Stripe does not answer.",
        request=AutoTopUpCardInputSerializer,
        responses=AutoTopUpCardResultSerializer,
    )
    def post(self, request: TenantRequest) -> Response:
        data = validated(AutoTopUpCardInputSerializer, request.data)
        next_action = start_card_setup(
            account=request.account,
            actor=request.user,
            payment_method=data.get("payment_method", ""),
            ip_address=client_ip(request),
        )
        body = {"next_action": next_action, "auto_top_up": auto_top_up_body(request.account)}
        return Response(AutoTopUpCardResultSerializer(body).data)

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing import selectors
from creditdesk.billing.filters import TransactionFilter, UsageLogFilter
from creditdesk.billing.serializers.ledger import (
    CreditBalanceSerializer,
    CreditCostSerializer,
    CreditTransactionSerializer,
    CreditUsageLogSerializer,
    RecordUsageSerializer,
    ReversalSerializer,
    ReverseUsageSerializer,
    record_usage_input,
    usage_log_data,
)
from creditdesk.billing.services.reversals import reverse_usage
from creditdesk.billing.services.usage import meter_usage
from creditdesk.core.idempotency import run_idempotently
from creditdesk.core.serializers import validated
from creditdesk.tenancy.authentication import acting_key, acting_member, request_payload
from creditdesk.tenancy.models import ApiKeyScope
from creditdesk.tenancy.permissions import CanSpendCredits
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Repeats with the same key and body replay the first response; another body is a 422.",
)


READ_WITH_KEY = {"GET": ApiKeyScope.BILLING_READ}


class CreditBalanceView(APIView):
    api_key_scopes = READ_WITH_KEY

    @extend_schema(
        summary="The account's credit balance",
        description=(
            "`credits` is the balance, `held` what active holds reserve, `credits_remaining` what may be "
            "spent now (credits - held); `breakdown` the live credits by grant source, `next_expiry` the "
            "soonest-expiring ones, `next_grant_at` when the plan's next monthly credits arrive."
        ),
        responses=CreditBalanceSerializer,
    )
    def get(self, request: TenantRequest) -> Response:
        return Response(balance_json(selectors.credit_balance(account=request.account)))


_DATETIME = serializers.DateTimeField()  # DRF's own representation of a datetime (UTC, "Z")


def balance_json(balance: selectors.CreditBalance) -> dict[str, Any]:
    """What CreditBalanceSerializer documents, built directly: its per-field serializers cost a tenth of
    the request (bench figure 1). test_balance.py holds the two to the same output."""
    expiry = balance.next_expiry
    return {
        "credits": balance.credits,
        "plan_credits_per_month": balance.plan_credits_per_month,
        "credits_used_this_month": balance.credits_used_this_month,
        "credits_remaining": balance.credits_remaining,
        "held": balance.held,
        "breakdown": [{"source": row.source, "credits": row.credits} for row in balance.breakdown],
        "next_expiry": None
        if expiry is None
        else {"credits": expiry.credits, "expires_at": _DATETIME.to_representation(expiry.expires_at)},
        "plan_name": balance.plan_name,
        "next_grant_at": None
        if balance.next_grant_at is None
        else _DATETIME.to_representation(balance.next_grant_at),
    }


@extend_schema_view(
    get=extend_schema(
        summary="Credit transactions",
        description=(
            "The account's ledger, newest first: every grant, purchase, deduction, refund and "
            "adjustment with the balance after it. Filter by `transaction_type` and by `created_after` "
            "/ `created_before` (ISO 8601)."
        ),
    ),
)
class TransactionListView(AccountScopedMixin, ListAPIView):
    api_key_scopes = READ_WITH_KEY
    serializer_class = CreditTransactionSerializer
    filterset_class = TransactionFilter
    selector = selectors.transaction_list


@extend_schema_view(
    get=extend_schema(
        summary="Usage logs",
        description=(
            "Every metered operation, newest first, with the credits it cost. `cost_usd`, `model` and "
            "the token counts are what the platform's provider reported for the call, not a price "
            "charged to the customer. Filter by `operation_type` and dates. Viewers may not read it."
        ),
    ),
    post=extend_schema(
        summary="Record usage (meter credits)",
        description=(
            "Deducts the price list's credits for `units` of `operation_type` and writes the usage log, "
            "in one transaction. A short balance is a 402 with `detail: {needed, available}` and "
            "nothing written. `Idempotency-Key` replays the first answer. Any member but a viewer."
        ),
    ),
)
class UsageLogView(AccountScopedMixin, ListAPIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = {**READ_WITH_KEY, "POST": ApiKeyScope.USAGE_WRITE}
    serializer_class = CreditUsageLogSerializer
    filterset_class = UsageLogFilter
    selector = selectors.usage_log_list

    @extend_schema(
        summary="Meter an operation",
        description=(
            "Charges the price list's credits for `units` of `operation_type` and logs the usage; 402 "
            "(with `needed` and `available`) when the spendable balance is short. A job is charged once: "
            "with a `reference_id` already metered in this account, the same body answers 200 with the first "
            "usage log, another body 409 naming the fields that differ (no Idempotency-Key needed)."
        ),
        request=RecordUsageSerializer,
        responses={201: CreditUsageLogSerializer, 200: CreditUsageLogSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest) -> Response:
        def meter() -> Response:
            usage = record_usage_input(request_payload(request))
            metered = meter_usage(
                account=request.account, user=acting_member(request), api_key=acting_key(request), **usage
            )
            answer = status.HTTP_200_OK if metered.replayed else status.HTTP_201_CREATED
            return Response(usage_log_data(metered.log), status=answer)

        return run_idempotently(request, account_id=request.account.pk, action=meter)


@extend_schema_view(
    get=extend_schema(
        summary="Price list",
        description=(
            "Credits per unit of each operation the platform meters, with the display name the pages "
            "use for it."
        ),
    ),
)
class CreditCostListView(ListAPIView):
    api_key_scopes = READ_WITH_KEY
    serializer_class = CreditCostSerializer

    def get_queryset(self):
        return selectors.active_credit_costs()


class UsageReverseView(AccountScopedMixin, GenericAPIView):
    permission_classes = [CanSpendCredits]
    serializer_class = CreditUsageLogSerializer
    selector = selectors.usage_log_list

    @extend_schema(
        summary="Reverse metered usage",
        description=(
            "Gives the credits of `units` of this usage (all that is left when omitted) back to the grants "
            "they were drawn from, as a `reversal` ledger row, within USAGE_REVERSAL_DAYS (default 30) "
            "of the usage. Credits that return to a grant that has already expired expire again at once "
            "(`credits_expired`). 409 past the window or beyond what is left to reverse: never more than "
            "was charged."
        ),
        request=ReverseUsageSerializer,
        responses={201: ReversalSerializer, 409: OpenApiResponse(description="Not reversible.")},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest, pk: int) -> Response:
        usage = self.get_object()

        def reverse() -> Response:
            reversal = reverse_usage(
                account=request.account,
                usage_id=usage.pk,
                user=request.user,
                **validated(ReverseUsageSerializer, request.data),
            )
            return Response(ReversalSerializer(reversal).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, account_id=request.account.pk, action=reverse)

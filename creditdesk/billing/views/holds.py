from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView, ListAPIView, RetrieveAPIView
from rest_framework.response import Response

from creditdesk.billing import selectors
from creditdesk.billing.filters import HoldFilter
from creditdesk.billing.serializers.holds import (
    CreateHoldSerializer,
    CreditHoldSerializer,
    ReleaseHoldSerializer,
    SettleHoldSerializer,
)
from creditdesk.billing.services.holds import create_hold, release_hold, settle_hold
from creditdesk.billing.views.ledger import IDEMPOTENCY_HEADER
from creditdesk.core.idempotency import run_idempotently
from creditdesk.core.serializers import validated
from creditdesk.tenancy.authentication import acting_key, acting_member, request_payload
from creditdesk.tenancy.models import ApiKeyScope
from creditdesk.tenancy.permissions import CanSpendCredits
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin

SHORT = OpenApiResponse(description="Insufficient credits: `needed` and `available` (spendable) in the body.")
# Services hold and settle with a `usage:write` key, and read holds with `billing:read`.
WITH_KEY = {"GET": ApiKeyScope.BILLING_READ, "POST": ApiKeyScope.USAGE_WRITE}
CLOSED = OpenApiResponse(description="The hold is closed, or its reference_id names another job's body.")


@extend_schema_view(
    get=extend_schema(
        summary="List credit holds", description="The account's holds, newest first; `?status=`."
    )
)
class HoldListView(AccountScopedMixin, ListAPIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = WITH_KEY
    serializer_class = CreditHoldSerializer
    filterset_class = HoldFilter
    selector = selectors.hold_list

    @extend_schema(
        summary="Reserve credits for a running job",
        description=(
            "Reserves `credits`, or the price of `units` of `operation_type`, from the spendable balance "
            "(credits minus active holds) for `expires_in` seconds; after that the hold is released. 402 "
            "when the spendable balance is short. A `reference_id` held before answers 200 with that hold "
            "(same body) or 409 naming the fields that differ."
        ),
        request=CreateHoldSerializer,
        responses={201: CreditHoldSerializer, 200: CreditHoldSerializer, 402: SHORT, 409: CLOSED},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest) -> Response:
        def hold() -> Response:
            result = create_hold(
                account=request.account,
                user=acting_member(request),
                api_key=acting_key(request),
                **validated(CreateHoldSerializer, request_payload(request)),
            )
            answer = status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED
            return Response(CreditHoldSerializer(result.hold).data, status=answer)

        return run_idempotently(request, account_id=request.account.pk, action=hold)


@extend_schema_view(
    get=extend_schema(
        summary="One credit hold",
        description=(
            "A hold of the account by id: the credits reserved, settled and still remaining, its status "
            "and when it expires or closed. Another account's hold is a 404."
        ),
    )
)
class HoldDetailView(AccountScopedMixin, RetrieveAPIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = WITH_KEY
    serializer_class = CreditHoldSerializer
    selector = selectors.hold_list


class HoldSettleView(AccountScopedMixin, GenericAPIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = WITH_KEY
    serializer_class = CreditHoldSerializer
    selector = selectors.hold_list

    @extend_schema(
        summary="Charge a job's actual use against its hold",
        description=(
            "Charges `units` (through the price list) or `credits` against the hold, as a deduction with "
            "a usage log. `final` (default true) closes the hold as `settled` and frees what it still "
            "holds; with `final: false` more settles may follow. Beyond what the hold still reserves, the "
            "difference is charged if the spendable balance allows, else 402 and the hold is unchanged. "
            "409 when the hold is closed."
        ),
        request=SettleHoldSerializer,
        responses={200: CreditHoldSerializer, 402: SHORT, 409: CLOSED},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest, pk: int) -> Response:
        hold = self.get_object()

        def settle() -> Response:
            result = settle_hold(
                account=request.account,
                hold_id=hold.pk,
                user=acting_member(request),
                api_key=acting_key(request),
                **validated(SettleHoldSerializer, request_payload(request)),
            )
            return Response(CreditHoldSerializer(result.hold).data)

        return run_idempotently(request, account_id=request.account.pk, action=settle)


class HoldReleaseView(AccountScopedMixin, GenericAPIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = WITH_KEY
    serializer_class = CreditHoldSerializer
    selector = selectors.hold_list

    @extend_schema(
        summary="Release what a hold still reserves",
        description="Closes the hold as `released`, its remaining credits spendable again. A closed hold "
        "is answered as it is (idempotent).",
        request=ReleaseHoldSerializer,
        responses={200: CreditHoldSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest, pk: int) -> Response:
        hold = self.get_object()

        def release() -> Response:
            validated(ReleaseHoldSerializer, request_payload(request))
            return Response(CreditHoldSerializer(release_hold(account=request.account, hold_id=hold.pk)).data)

        return run_idempotently(request, account_id=request.account.pk, action=release)

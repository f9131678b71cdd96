from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView, ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing import selectors
from creditdesk.billing.pdf import render_invoice_pdf
from creditdesk.billing.serializers.purchases import (
    ConfirmBankTransferSerializer,
    CreditPackageSerializer,
    InvoiceSerializer,
    PaymentMethodConfigSerializer,
    PaymentSerializer,
    PurchaseInputSerializer,
    PurchaseResultSerializer,
)
from creditdesk.billing.services.payments import confirm_bank_transfer
from creditdesk.billing.services.purchases import purchase_package
from creditdesk.billing.views.ledger import IDEMPOTENCY_HEADER
from creditdesk.core.idempotency import run_idempotently
from creditdesk.core.serializers import validated
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.permissions import IsAccountManager
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin


class CreditPackageListView(ListAPIView):
    serializer_class = CreditPackageSerializer

    def get_queryset(self):
        return selectors.active_credit_packages()


class PaymentMethodListView(ListAPIView):
    serializer_class = PaymentMethodConfigSerializer

    def get_queryset(self):
        return selectors.payment_method_configs()


class PurchaseView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(
        request=PurchaseInputSerializer,
        responses={201: PurchaseResultSerializer, 502: OpenApiResponse(description="Payment provider error")},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest, package_id: int) -> Response:
        def purchase() -> Response:
            result = purchase_package(
                account=request.account,
                package_id=package_id,
                payment_method=validated(PurchaseInputSerializer, request.data)["payment_method"],
                actor=request.user,
                ip_address=client_ip(request),
            )
            body = PurchaseResultSerializer(result, context={"request": request}).data
            return Response(body, status=status.HTTP_201_CREATED)

        # Not atomic: no transaction may stay open while a payment provider answers.
        return run_idempotently(request, account_id=request.account.pk, action=purchase, atomic=False)


class InvoiceListView(AccountScopedMixin, ListAPIView):
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list


class InvoiceDetailView(AccountScopedMixin, RetrieveAPIView):
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list


class InvoicePdfView(AccountScopedMixin, GenericAPIView):
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # Clients ask for application/pdf; errors still answer in the JSON envelope.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> HttpResponse:
        invoice = self.get_object()
        response = HttpResponse(render_invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice.invoice_number}.pdf"'
        return response


class PaymentListView(AccountScopedMixin, ListAPIView):
    serializer_class = PaymentSerializer
    selector = selectors.payment_list


class PaymentDetailView(AccountScopedMixin, RetrieveAPIView):
    serializer_class = PaymentSerializer
    selector = selectors.payment_list


class ConfirmBankTransferView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(request=ConfirmBankTransferSerializer, responses=PaymentSerializer)
    def post(self, request: TenantRequest, pk: int) -> Response:
        payment = confirm_bank_transfer(
            account=request.account,
            payment_id=pk,
            transfer_reference=validated(ConfirmBankTransferSerializer, request.data)["transfer_reference"],
            actor=request.user,
            ip_address=client_ip(request),
        )
        return Response(PaymentSerializer(payment, context={"request": request}).data)

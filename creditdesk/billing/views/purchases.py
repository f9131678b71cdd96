from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
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
from creditdesk.billing.services.payments import cancel_bank_transfer, confirm_bank_transfer
from creditdesk.billing.services.purchases import Purchase, PurchaseHooks, purchase_package
from creditdesk.billing.views.ledger import IDEMPOTENCY_HEADER
from creditdesk.core.idempotency import ResumableKey, run_idempotently_outside_transaction
from creditdesk.core.serializers import validated
from creditdesk.tenancy.audit import client_ip
from creditdesk.tenancy.permissions import IsAccountManager
from creditdesk.tenancy.request import TenantRequest
from creditdesk.tenancy.views import AccountScopedMixin


@extend_schema_view(
    get=extend_schema(
        summary="Credit packages",
        description=(
            "The packages on sale: credits, price and currency, in display order; `is_featured` marks "
            "the recommended one."
        ),
    ),
)
class CreditPackageListView(ListAPIView):
    serializer_class = CreditPackageSerializer

    def get_queryset(self):
        return selectors.active_credit_packages()


@extend_schema_view(
    get=extend_schema(
        summary="Payment methods",
        description=(
            "Every payment method with `is_enabled` (switched on by an operator and configured here) "
            "and the instructions the customer sees."
        ),
    ),
)
class PaymentMethodListView(ListAPIView):
    serializer_class = PaymentMethodConfigSerializer

    def get_queryset(self):
        return selectors.payment_method_configs()


@extend_schema_view(
    post=extend_schema(
        summary="Buy a credit package",
        description=(
            "Owners and admins buy a package with a payment method: a pending invoice and its payment "
            "are created, and `next_action` says what comes next (`redirect` to Stripe Checkout, "
            "`bank_transfer` instructions with a reference, or `completed`). Credits arrive once, when "
            "the money does. `Idempotency-Key` replays the first answer."
        ),
    ),
)
class PurchaseView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(
        request=PurchaseInputSerializer,
        responses={201: PurchaseResultSerializer, 502: OpenApiResponse(description="Payment provider error")},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest, package_id: int) -> Response:
        def answer(result: Purchase) -> Response:
            body = PurchaseResultSerializer(result, context={"request": request}).data
            return Response(body, status=status.HTTP_201_CREATED)

        def purchase(key: ResumableKey | None) -> Response:
            payment_method = validated(PurchaseInputSerializer, request.data)["payment_method"]
            answered: list[Response] = []
            hooks = PurchaseHooks()
            if key is not None:

                def store_answer(result: Purchase) -> None:
                    answered.append(answer(result))
                    key.store(answered[0])

                hooks = PurchaseHooks(
                    resume_payment_id=payment_id_of(key.resource),
                    on_draft=lambda payment: key.link(payment_resource(payment.pk)),
                    on_started=store_answer,
                )
            result = purchase_package(
                account=request.account,
                package_id=package_id,
                payment_method=payment_method,
                actor=request.user,
                ip_address=client_ip(request),
                hooks=hooks,
            )
            return answered[0] if answered else answer(result)

        # No transaction is open while the payment provider answers; the key's answer is stored in the
        # purchase's last transaction, and a retry after a crash resumes the purchase the key links to.
        return run_idempotently_outside_transaction(request, account_id=request.account.pk, action=purchase)


def payment_resource(payment_id: int) -> str:
    return f"payment:{payment_id}"


def payment_id_of(resource: str) -> int | None:
    prefix, _, payment_id = resource.partition(":")
    return int(payment_id) if prefix == "payment" and payment_id.isdigit() else None


@extend_schema_view(
    get=extend_schema(
        summary="Invoices",
        description=(
            "The account's invoices, newest first, with status, totals, line items and a link to the PDF."
        ),
    ),
)
class InvoiceListView(AccountScopedMixin, ListAPIView):
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list


@extend_schema_view(
    get=extend_schema(
        summary="An invoice",
        description=("One invoice of the account; another account's invoice is a 404."),
    ),
)
class InvoiceDetailView(AccountScopedMixin, RetrieveAPIView):
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list


@extend_schema_view(
    get=extend_schema(
        summary="Download an invoice PDF",
        description=(
            "The invoice as a PDF: seller, buyer, lines, tax, total and status; a pending bank-transfer "
            "invoice also carries the bank details and the reference to quote."
        ),
    ),
)
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


@extend_schema_view(
    get=extend_schema(
        summary="Payments",
        description=(
            "The account's payments, newest first. A bank transfer awaiting approval carries its "
            "`reference_code`, `instructions` and `expires_at`, so it can be paid from the billing "
            "page."
        ),
    ),
)
class PaymentListView(AccountScopedMixin, ListAPIView):
    serializer_class = PaymentSerializer
    selector = selectors.payment_list


@extend_schema_view(
    get=extend_schema(
        summary="A payment",
        description=("One payment of the account; another account's payment is a 404."),
    ),
)
class PaymentDetailView(AccountScopedMixin, RetrieveAPIView):
    serializer_class = PaymentSerializer
    selector = selectors.payment_list


@extend_schema_view(
    post=extend_schema(
        summary="Tell us a bank transfer was sent",
        description=(
            "Owners and admins record the reference their bank gave the transfer, which helps staff "
            "match the money. Only a bank transfer awaiting approval; staff still approve it before "
            "credits arrive."
        ),
    ),
)
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


class CancelBankTransferView(APIView):
    permission_classes = [IsAccountManager]

    @extend_schema(
        summary="Cancel a pending bank transfer",
        description=(
            "Owners and admins cancel a bank transfer they will not send: the payment fails "
            "(`failure_reason` 'Cancelled by the customer.') and its invoice becomes void. Only a transfer "
            "in `pending_approval` can be cancelled (400 otherwise); another account's payment is a 404."
        ),
        request=None,
        responses=PaymentSerializer,
    )
    def post(self, request: TenantRequest, pk: int) -> Response:
        payment = cancel_bank_transfer(
            account=request.account, payment_id=pk, actor=request.user, ip_address=client_ip(request)
        )
        return Response(PaymentSerializer(payment, context={"request": request}).data)

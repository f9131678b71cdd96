from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethod, PaymentMethodConfig
from creditdesk.billing.providers import PROVIDERS, method_is_available
from creditdesk.billing.selectors import bank_transfer_instructions
from creditdesk.core.money import money_serializer_field
from creditdesk.core.serializers import StrictInputSerializer


class CreditPackageSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditPackage
        fields = [
            "id",
            "name",
            "slug",
            "credits",
            "price",
            "currency",
            "description",
            "is_active",
            "is_featured",
            "sort_order",
        ]
        read_only_fields = fields


class PaymentMethodConfigSerializer(serializers.ModelSerializer):
    # Enabled by an operator AND configured in this environment: what the customer may actually use.
    is_enabled = serializers.SerializerMethodField()
    instructions = serializers.SerializerMethodField()

    class Meta:
        model = PaymentMethodConfig
        fields = ["payment_method", "display_name", "is_enabled", "instructions", "sort_order"]
        read_only_fields = fields

    def get_is_enabled(self, config: PaymentMethodConfig) -> bool:
        return method_is_available(config)

    def get_instructions(self, config: PaymentMethodConfig) -> str:
        provider = PROVIDERS.get(config.payment_method)
        return provider.instructions(config) if provider else config.instructions


class InvoiceLineItemSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = money_serializer_field()
    amount = money_serializer_field()


class InvoiceSerializer(serializers.ModelSerializer):
    line_items = InvoiceLineItemSerializer(many=True, read_only=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "invoice_number",
            "status",
            "subtotal",
            "tax_amount",
            "total_amount",
            "currency",
            "line_items",
            "billing_details",
            "due_date",
            "paid_at",
            "created_at",
            "pdf_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf_url(self, invoice: Invoice) -> str:
        return reverse("invoice-pdf", args=[invoice.pk], request=self.context.get("request"))


class PaymentSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.invoice_number", read_only=True)
    instructions = serializers.SerializerMethodField(
        help_text="For a bank transfer awaiting approval: where to send the money (quote `reference_code`)."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "amount",
            "currency",
            "status",
            "payment_method",
            "provider_reference",
            "transfer_reference",
            "failure_reason",
            "reference_code",
            "instructions",
            "expires_at",
            "created_at",
            "approved_at",
        ]
        read_only_fields = fields

    def get_instructions(self, payment: Payment) -> str:
        if (
            payment.payment_method != PaymentMethod.BANK_TRANSFER
            or payment.status != Payment.Status.PENDING_APPROVAL
        ):
            return ""
        # One lookup per response, however many pending transfers the page lists.
        cache = self.context.setdefault("_bank_transfer_instructions", {})  # type: ignore[attr-defined]
        if "text" not in cache:
            cache["text"] = bank_transfer_instructions()
        return cache["text"]


class PurchaseInputSerializer(StrictInputSerializer):
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)


class NextActionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["completed", "redirect", "bank_transfer"])
    url = serializers.URLField(required=False, help_text="redirect: where the customer pays")
    reference = serializers.CharField(required=False, help_text="bank_transfer: quote it in the transfer")
    instructions = serializers.CharField(required=False)
    amount = money_serializer_field(required=False)
    currency = serializers.CharField(required=False)


class PurchaseResultSerializer(serializers.Serializer):
    invoice = InvoiceSerializer()
    payment = PaymentSerializer()
    next_action = serializers.SerializerMethodField()

    @extend_schema_field(NextActionSerializer)
    def get_next_action(self, purchase: object) -> dict:
        return dict(purchase.next_action)  # type: ignore[attr-defined]


class ConfirmBankTransferSerializer(StrictInputSerializer):
    transfer_reference = serializers.CharField(max_length=255, trim_whitespace=True)

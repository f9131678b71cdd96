"""The demo method: the money is there at once. Only where the environment sets BILLING_SANDBOX."""

from django.conf import settings

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethod, PaymentMethodConfig
from creditdesk.billing.providers.base import PaymentProvider, PaymentStart


class SandboxProvider(PaymentProvider):
    method = PaymentMethod.SANDBOX

    def environment_allows(self) -> bool:
        return bool(settings.BILLING_SANDBOX)

    def start(
        self,
        *,
        payment: Payment,
        invoice: Invoice,
        package: CreditPackage,
        config: PaymentMethodConfig,
        customer_email: str,
    ) -> PaymentStart:
        return PaymentStart(
            status=Payment.Status.PENDING,
            provider_reference=f"sandbox_{payment.pk}",
            next_action={"type": "completed"},
            succeeded=True,
        )

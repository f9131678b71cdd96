"""Bank transfer: the customer pays by wire quoting a reference code; staff approve when the money arrives."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethod, PaymentMethodConfig
from creditdesk.billing.providers.base import PaymentProvider, PaymentStart

# No 0/O or 1/I: people type this code into their bank's form.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference_code() -> str:
    return "CD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class BankTransferProvider(PaymentProvider):
    method = PaymentMethod.BANK_TRANSFER

    def environment_allows(self) -> bool:
        return True

    def instructions(self, config: PaymentMethodConfig) -> str:
        return config.instructions or settings.BANK_TRANSFER_INSTRUCTIONS

    def start(
        self,
        *,
        payment: Payment,
        invoice: Invoice,
        package: CreditPackage,
        config: PaymentMethodConfig,
        customer_email: str,
    ) -> PaymentStart:
        code = new_reference_code()
        return PaymentStart(
            status=Payment.Status.PENDING_APPROVAL,
            provider_reference=code,
            reference_code=code,
            expires_at=timezone.now() + timedelta(days=settings.BANK_TRANSFER_EXPIRY_DAYS),
            next_action={
                "type": "bank_transfer",
                "reference": code,
                "instructions": self.instructions(config),
                "amount": str(invoice.total_amount),
                "currency": invoice.currency,
            },
        )

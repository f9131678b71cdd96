"""The one interface every payment method implements: may it be offered, and how does a payment start."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from creditdesk.billing.models import CreditPackage, Invoice, Payment, PaymentMethodConfig
from creditdesk.core.errors import ApplicationError, ErrorCode


class PaymentProviderError(ApplicationError):
    """The provider refused or could not be reached; the purchase fails its payment and issues nothing."""

    status_code = 502
    code = ErrorCode.PAYMENT_PROVIDER


@dataclass(frozen=True)
class PaymentStart:
    """What a provider did when a payment started, and what the customer must do next."""

    status: str  # the payment's status once started (Payment.Status)
    next_action: dict[str, Any]
    provider_reference: str = ""
    reference_code: str = ""
    expires_at: datetime | None = None
    # True when the money is already there (sandbox): the purchase then runs the success path at once.
    succeeded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(ABC):
    method: str

    @abstractmethod
    def environment_allows(self) -> bool:
        """Whether the deployment is configured for this method (keys, flags), whatever the admin says."""

    def is_available(self, config: PaymentMethodConfig | None) -> bool:
        return config is not None and config.is_enabled and self.environment_allows()

    def instructions(self, config: PaymentMethodConfig) -> str:
        return config.instructions

    @abstractmethod
    def start(
        self,
        *,
        payment: Payment,
        invoice: Invoice,
        package: CreditPackage,
        config: PaymentMethodConfig,
        customer_email: str,
    ) -> PaymentStart:
        """Starts collecting `payment`, which is committed already; no transaction is open meanwhile.

        May run twice for one payment (a purchase resumed after its server died before recording the
        answer): a provider with a remote side must make the second call return the first's result
        (Stripe: an idempotency key derived from the payment), so one payment has one provider session."""

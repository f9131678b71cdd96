"""The payment methods, one provider each, behind the interface in base.py."""

from creditdesk.billing.models import PaymentMethod, PaymentMethodConfig
from creditdesk.billing.providers.bank_transfer import BankTransferProvider
from creditdesk.billing.providers.base import PaymentProvider, PaymentProviderError, PaymentStart
from creditdesk.billing.providers.sandbox import SandboxProvider
from creditdesk.billing.providers.stripe import StripeProvider

PROVIDERS: dict[str, PaymentProvider] = {
    PaymentMethod.STRIPE: StripeProvider(),
    PaymentMethod.BANK_TRANSFER: BankTransferProvider(),
    PaymentMethod.SANDBOX: SandboxProvider(),
}


def provider_for(method: str) -> PaymentProvider:
    return PROVIDERS[method]


def method_is_available(config: PaymentMethodConfig) -> bool:
    """Offered iff an operator enabled it and the environment is configured for it."""
    provider = PROVIDERS.get(config.payment_method)
    return provider is not None and provider.is_available(config)


__all__ = [
    "PROVIDERS",
    "PaymentProvider",
    "PaymentProviderError",
    "PaymentStart",
    "method_is_available",
    "provider_for",
]

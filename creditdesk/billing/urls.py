from django.urls import path

from creditdesk.billing import webhooks
from creditdesk.billing.views import (
    exports,
    holds,
    ledger,
    margin,
    notifications,
    purchases,
    topup,
    usage_batch,
)

urlpatterns = [
    path("margin/", margin.PlatformMarginView.as_view(), name="platform-margin"),
    path("credits/balance/balance/", ledger.CreditBalanceView.as_view(), name="credit-balance"),
    path("credits/balance/", ledger.CreditBalanceView.as_view(), name="credit-balance-short"),
    path("credits/usage/", ledger.UsageLogView.as_view(), name="credit-usage"),
    path("credits/usage/export/", exports.UsageLogExportView.as_view(), name="credit-usage-export"),
    path("credits/usage/<int:pk>/reverse/", ledger.UsageReverseView.as_view(), name="credit-usage-reverse"),
    path("credits/holds/", holds.HoldListView.as_view(), name="credit-holds"),
    path("credits/holds/<int:pk>/", holds.HoldDetailView.as_view(), name="credit-hold-detail"),
    path("credits/holds/<int:pk>/settle/", holds.HoldSettleView.as_view(), name="credit-hold-settle"),
    path("credits/holds/<int:pk>/release/", holds.HoldReleaseView.as_view(), name="credit-hold-release"),
    path("credits/usage/batch/", usage_batch.UsageBatchView.as_view(), name="credit-usage-batch"),
    path("transactions/", ledger.TransactionListView.as_view(), name="credit-transactions"),
    path("transactions/export/", exports.TransactionExportView.as_view(), name="credit-transactions-export"),
    path("credit-costs/", ledger.CreditCostListView.as_view(), name="credit-costs"),
    path("credit-packages/", purchases.CreditPackageListView.as_view(), name="credit-packages"),
    path(
        "credit-packages/<int:package_id>/purchase/",
        purchases.PurchaseView.as_view(),
        name="credit-package-purchase",
    ),
    path("payment-methods/", purchases.PaymentMethodListView.as_view(), name="payment-methods"),
    path("invoices/", purchases.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", purchases.InvoiceDetailView.as_view(), name="invoice-detail"),
    path("invoices/<int:pk>/pdf/", purchases.InvoicePdfView.as_view(), name="invoice-pdf"),
    path("payments/", purchases.PaymentListView.as_view(), name="payments"),
    path("payments/<int:pk>/", purchases.PaymentDetailView.as_view(), name="payment-detail"),
    path("payments/<int:pk>/confirm/", purchases.ConfirmBankTransferView.as_view(), name="payment-confirm"),
    path("notifications/", notifications.NotificationSettingsView.as_view(), name="notification-settings"),
    path("payments/<int:pk>/cancel/", purchases.CancelBankTransferView.as_view(), name="payment-cancel"),
    path("auto-top-up/", topup.AutoTopUpView.as_view(), name="auto-top-up"),
    path("auto-top-up/card/", topup.AutoTopUpCardView.as_view(), name="auto-top-up-card"),
    path("webhooks/stripe/", webhooks.stripe_webhook, name="stripe-webhook"),
]

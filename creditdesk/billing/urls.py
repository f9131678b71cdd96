from django.urls import path

from creditdesk.billing.views import ledger

urlpatterns = [
    path("credits/balance/balance/", ledger.CreditBalanceView.as_view(), name="credit-balance"),
    path("credits/balance/", ledger.CreditBalanceView.as_view(), name="credit-balance-short"),
    path("credits/usage/", ledger.UsageLogView.as_view(), name="credit-usage"),
    path("transactions/", ledger.TransactionListView.as_view(), name="credit-transactions"),
    path("credit-costs/", ledger.CreditCostListView.as_view(), name="credit-costs"),
]

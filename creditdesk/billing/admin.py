from django.contrib import admin

from creditdesk.billing.models import (
    CreditCost,
    CreditPackage,
    CreditTransaction,
    CreditUsageLog,
    Invoice,
    Payment,
    PaymentMethodConfig,
    Plan,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger and its usage logs are append-only: visible to staff, never edited here."""

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "transaction_type", "amount", "balance_after", "description"]
    list_filter = ["transaction_type"]
    search_fields = ["account__name", "reference", "description"]


@admin.register(CreditUsageLog)
class CreditUsageLogAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "operation_type", "credits_used", "cost_usd", "model"]
    list_filter = ["operation_type"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "price_monthly",
        "credits_per_month",
        "max_users",
        "is_active",
        "is_default",
    ]


@admin.register(CreditCost)
class CreditCostAdmin(admin.ModelAdmin):
    list_display = ["operation_type", "display_name", "credits_per_unit", "unit", "is_active"]
    list_editable = ["credits_per_unit", "is_active"]


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = ["name", "credits", "price", "currency", "is_active", "is_featured", "sort_order"]


@admin.register(PaymentMethodConfig)
class PaymentMethodConfigAdmin(admin.ModelAdmin):
    list_display = ["payment_method", "display_name", "is_enabled", "sort_order"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["invoice_number", "account", "status", "total_amount", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["invoice_number", "account__name"]


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "invoice", "payment_method", "status", "amount", "created_at"]
    list_filter = ["status", "payment_method"]

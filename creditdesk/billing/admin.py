from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from creditdesk.billing.models import (
    CreditCost,
    CreditGrant,
    CreditHold,
    CreditPackage,
    CreditTransaction,
    CreditUsageLog,
    Invoice,
    MarginReport,
    Payment,
    PaymentMethodConfig,
    Plan,
)
from creditdesk.billing.selectors import MARGIN_GROUPS, margin_report
from creditdesk.billing.services.payments import approve_bank_transfer, reject_bank_transfer
from creditdesk.core.errors import ApplicationError
from creditdesk.core.money import format_money
from creditdesk.tenancy.audit import client_ip

if TYPE_CHECKING:
    from creditdesk.accounts.models import User


def money(amount: Decimal | None, currency: str) -> str:
    """An amount with its currency code, as the PDFs print it: 9.00 USD."""
    return "-" if amount is None else format_money(amount, currency)


def _staff(request: HttpRequest) -> "User":
    """The signed-in user of an admin page: the admin site serves active staff only."""
    return cast("User", request.user)


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
    list_display = ["created_at", "account", "operation_type", "credits_used", "provider_cost", "model"]
    list_filter = ["operation_type"]
    search_fields = ["account__name", "reference_id"]

    @admin.display(description="Provider cost", ordering="cost_usd")
    def provider_cost(self, log: CreditUsageLog) -> str:
        return money(log.cost_usd, "USD")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "monthly_price",
        "credits_per_month",
        "max_users",
        "is_active",
        "is_default",
    ]

    @admin.display(description="Monthly price", ordering="price_monthly")
    def monthly_price(self, plan: Plan) -> str:
        return money(plan.price_monthly, settings.BILLING_CURRENCY)


@admin.register(CreditCost)
class CreditCostAdmin(admin.ModelAdmin):
    list_display = ["operation_type", "display_name", "credits_per_unit", "unit", "margin_floor", "is_active"]
    list_editable = ["credits_per_unit", "margin_floor", "is_active"]


@admin.register(CreditGrant)
class CreditGrantAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "source",
        "amount",
        "remaining",
        "expires_at",
        "priority",
        "cost_basis",
        "reference",
    ]
    list_filter = ["source"]
    search_fields = ["account__name", "reference"]
    list_select_related = ["account"]


@admin.register(CreditHold)
class CreditHoldAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "operation_type",
        "credits",
        "settled",
        "remaining",
        "status",
        "expires_at",
        "reference_id",
    ]
    list_filter = ["status", "operation_type"]
    search_fields = ["account__name", "reference_id"]
    list_select_related = ["account"]


class MarginFilterForm(forms.Form):
    group_by = forms.MultipleChoiceField(
        choices=[(g, g.replace("_", " ")) for g in MARGIN_GROUPS],
        initial=["operation_type"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    account = forms.IntegerField(required=False, min_value=1, label="Account id")
    since = forms.DateField(required=False, help_text="YYYY-MM-DD, UTC")
    until = forms.DateField(required=False, help_text="YYYY-MM-DD, UTC, excluded")


def _utc_midnight(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


@admin.register(MarginReport)
class MarginReportAdmin(ReadOnlyAdmin):
    """Revenue (the cost basis of the credits consumed), provider cost and margin per operation type,
    account and month; operation types below their staff-set margin floor are flagged."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        form = MarginFilterForm(request.GET or None)
        rows: list = []
        if not request.GET or form.is_valid():
            data = form.cleaned_data if request.GET else {}
            rows = margin_report(
                group_by=data.get("group_by") or ["operation_type"],
                account_id=data.get("account"),
                since=_utc_midnight(data.get("since")),
                until=_utc_midnight(data.get("until")),
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Margin report",
            "opts": self.model._meta,
            "form": form,
            "rows": rows,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/billing/margin_report.html", context)


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    list_display = ["name", "credits", "package_price", "is_active", "is_featured", "sort_order"]

    @admin.display(description="Price", ordering="price")
    def package_price(self, package: CreditPackage) -> str:
        return money(package.price, package.currency)


@admin.register(PaymentMethodConfig)
class PaymentMethodConfigAdmin(admin.ModelAdmin):
    list_display = ["payment_method", "display_name", "is_enabled", "sort_order"]


class MoneyRecordAdmin(admin.ModelAdmin):
    """Invoices and payments change only through the billing services (the actions below), never by hand."""

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(MoneyRecordAdmin):
    list_display = [
        "invoice_number",
        "account",
        "status",
        "total",
        "needs_review",
        "review_reason",
        "created_at",
    ]
    list_filter = ["status", "needs_review"]
    search_fields = ["invoice_number", "account__name", "account__slug", "account__billing_email"]

    @admin.display(description="Total", ordering="total_amount")
    def total(self, invoice: Invoice) -> str:
        return money(invoice.total_amount, invoice.currency)


@admin.register(Payment)
class PaymentAdmin(MoneyRecordAdmin):
    list_display = [
        "id",
        "account",
        "invoice",
        "payment_method",
        "status",
        "amount_with_currency",
        "reference_code",
        "transfer_reference",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", "payment_method", "invoice__needs_review"]
    search_fields = [
        "reference_code",
        "transfer_reference",
        "provider_reference",
        "provider_payment_id",
        "invoice__invoice_number",
        "account__name",
        "account__slug",
        "account__billing_email",
    ]
    list_select_related = ["account", "invoice"]
    actions = ["approve_bank_transfers", "reject_bank_transfers"]

    @admin.display(description="Amount", ordering="amount")
    def amount_with_currency(self, payment: Payment) -> str:
        return money(payment.amount, payment.currency)

    @admin.action(description="Approve selected bank transfers (grants the credits)", permissions=["change"])
    def approve_bank_transfers(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        approved = skipped = 0
        for payment_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                done = approve_bank_transfer(
                    payment_id=payment_id, actor=_staff(request), ip_address=client_ip(request)
                )
            except ApplicationError:
                done = False
            approved += done
            skipped += not done
        self._report(request, "Approved", approved, skipped)

    @admin.action(description="Reject selected bank transfers (voids the invoices)", permissions=["change"])
    def reject_bank_transfers(self, request: HttpRequest, queryset: QuerySet[Payment]) -> None:
        rejected = skipped = 0
        reason = f"Rejected by {request.user}: the transfer was not received."
        for payment_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                done = reject_bank_transfer(
                    payment_id=payment_id,
                    actor=_staff(request),
                    reason=reason,
                    ip_address=client_ip(request),
                )
            except ApplicationError:
                done = False
            rejected += done
            skipped += not done
        self._report(request, "Rejected", rejected, skipped)

    def _report(self, request: HttpRequest, verb: str, done: int, skipped: int) -> None:
        self.message_user(
            request, f"{verb} {done} bank transfer(s).", messages.SUCCESS if done else messages.INFO
        )
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped}: only bank transfers awaiting approval can be approved or rejected.",
                messages.WARNING,
            )

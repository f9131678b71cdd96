from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request

from creditdesk.billing import exports, selectors
from creditdesk.billing.filters import TransactionFilter, UsageLogFilter
from creditdesk.tenancy.permissions import CanSpendCredits
from creditdesk.tenancy.views import AccountScopedMixin


class CsvExportView(AccountScopedMixin, GenericAPIView):
    """The list's own selector and filters (a bad filter is the list's 400), streamed as CSV."""

    pagination_class = None

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # Clients ask for text/csv; errors still answer in the JSON envelope.
        return super().perform_content_negotiation(request, force=True)


CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV with a header row")}


class TransactionExportView(CsvExportView):
    filterset_class = TransactionFilter
    selector = selectors.transaction_list

    @extend_schema(
        summary="Download the ledger as CSV",
        description="Every transaction of the account matching the list's filters, newest first, as a "
        "streamed CSV attachment (columns: " + ", ".join(exports.TRANSACTION_COLUMNS) + "). Text a caller "
        "chose that starts like a spreadsheet formula is prefixed with an apostrophe.",
        filters=True,
        responses=CSV_RESPONSE,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return exports.transactions_csv(self.filter_queryset(self.get_queryset()))


class UsageLogExportView(CsvExportView):
    permission_classes = [CanSpendCredits]
    filterset_class = UsageLogFilter
    selector = selectors.usage_log_list

    @extend_schema(
        summary="Download the usage logs as CSV",
        description="Every usage log of the account matching the list's filters, newest first, as a "
        "streamed CSV attachment (columns: " + ", ".join(exports.USAGE_COLUMNS) + "). cost_usd is "
        '"0.0000" with cost_reported=False when the caller reported no cost.',
        filters=True,
        responses=CSV_RESPONSE,
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return exports.usage_logs_csv(self.filter_queryset(self.get_queryset()))

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.analytics.selectors import usage_analytics
from creditdesk.analytics.serializers import AnalyticsQuerySerializer, UsageAnalyticsSerializer
from creditdesk.core.db_router import replica_reads
from creditdesk.core.money import to_cost
from creditdesk.core.serializers import validated
from creditdesk.tenancy.request import TenantRequest


@extend_schema_view(
    get=extend_schema(
        summary="Usage analytics",
        description=(
            "Credits used, purchased and granted per UTC day over the last `days` days (default 30, at "
            "most 365) or a custom `start`..`end` range, with totals by transaction type and by "
            "operation. Read from daily rollups: the cost does not grow with the history."
        ),
    ),
)
class UsageAnalyticsView(APIView):
    @extend_schema(parameters=[AnalyticsQuerySerializer], responses=UsageAnalyticsSerializer)
    def get(self, request: TenantRequest) -> Response:
        query = validated(AnalyticsQuerySerializer, request.query_params.dict())
        with replica_reads():  # the chart may trail the primary by the replication lag (ms)
            analytics = usage_analytics(account=request.account, **query)
        return Response(as_json(analytics))


def as_json(analytics: dict[str, Any]) -> dict[str, Any]:
    """The shape UsageAnalyticsSerializer documents, built directly (in place: the selector's dict is the
    view's own): DRF's per-field serializers cost more than the query for a year of daily rows (bench
    figure 1). test_usage_analytics.py holds the two to the same output."""
    analytics["start"] = analytics["start"].isoformat()
    analytics["end"] = analytics["end"].isoformat()
    for day in analytics["daily_usage"]:
        day["date"] = day["date"].isoformat()
    for row in analytics["usage_by_operation"]:
        row["cost_usd"] = str(to_cost(row["cost_usd"]))
    return analytics

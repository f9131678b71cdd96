from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.analytics.selectors import usage_analytics
from creditdesk.analytics.serializers import AnalyticsQuerySerializer, UsageAnalyticsSerializer
from creditdesk.core.money import to_cost
from creditdesk.core.serializers import validated
from creditdesk.tenancy.request import TenantRequest


class UsageAnalyticsView(APIView):
    @extend_schema(parameters=[AnalyticsQuerySerializer], responses=UsageAnalyticsSerializer)
    def get(self, request: TenantRequest) -> Response:
        days = validated(AnalyticsQuerySerializer, request.query_params.dict())["days"]
        analytics = usage_analytics(account=request.account, days=days)
        return Response(as_json(analytics))


def as_json(analytics: dict[str, Any]) -> dict[str, Any]:
    """The shape UsageAnalyticsSerializer documents, built directly: DRF's per-field serializers cost
    more than the query for a year of daily rows (bench figure 1)."""
    return {
        **analytics,
        "daily_usage": [{**day, "date": day["date"].isoformat()} for day in analytics["daily_usage"]],
        "usage_by_operation": [
            {**row, "cost_usd": str(to_cost(row["cost_usd"]))} for row in analytics["usage_by_operation"]
        ],
    }

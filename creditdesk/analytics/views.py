from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.analytics.selectors import usage_analytics
from creditdesk.analytics.serializers import AnalyticsQuerySerializer, UsageAnalyticsSerializer


class UsageAnalyticsView(APIView):
    @extend_schema(parameters=[AnalyticsQuerySerializer], responses=UsageAnalyticsSerializer)
    def get(self, request: Request) -> Response:
        query = AnalyticsQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        analytics = usage_analytics(account=request.account, days=query.validated_data["days"])
        return Response(UsageAnalyticsSerializer(analytics).data)

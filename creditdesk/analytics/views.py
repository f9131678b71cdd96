from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.analytics.selectors import (
    ANALYTICS_CACHE_SECONDS,
    MAX_DAYS,
    analytics_cache_key,
    analytics_period,
    ledger_replicated,
    usage_analytics,
)
from creditdesk.analytics.serializers import AnalyticsQuerySerializer, UsageAnalyticsSerializer
from creditdesk.core.db_router import replica_reads
from creditdesk.core.money import to_cost
from creditdesk.core.renderers import EnvelopeJSONRenderer
from creditdesk.core.serializers import validated
from creditdesk.tenancy.request import TenantRequest

if TYPE_CHECKING:
    from creditdesk.accounts.models import Account


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
    def get(self, request: TenantRequest) -> HttpResponseBase:
        query = plain_days(request.query_params.dict()) or validated(
            AnalyticsQuerySerializer, request.query_params.dict()
        )
        start, end = analytics_period(**query)
        if not isinstance(request.accepted_renderer, EnvelopeJSONRenderer):  # DEBUG's browsable API
            return Response(_read(account=request.account, start=start, end=end)[0])
        body = analytics_body(account=request.account, start=start, end=end)
        return HttpResponse(body, content_type=EnvelopeJSONRenderer.media_type)


def analytics_body(*, account: "Account", start: date, end: date) -> bytes:
    """The rendered answer for start..end (envelope included), cached until the account's ledger moves:
    every write the analytics read (ledger rows, their daily rollups, usage logs, the balance) advances
    the account's `ledger_seq` in its transaction, and authentication has just read that seq from the
    primary. An answer read from a replica is cached only when the replica had caught up with that seq,
    so a lagging chart is never kept. The bytes are cached, not the dict: a year of daily rows costs more
    to unpickle and encode again than the query did."""
    key = analytics_cache_key(account=account, start=start, end=end)
    body = cache.get(key)
    if body is None:
        analytics, caught_up = _read(account=account, start=start, end=end)
        body = _RENDERER.render(analytics, renderer_context={"response": Response(status=200)})
        if caught_up:
            cache.set(key, body, ANALYTICS_CACHE_SECONDS)
    return body


def _read(*, account: "Account", start: date, end: date) -> tuple[dict[str, Any], bool]:
    with replica_reads():  # the chart may trail the primary by the replication lag (ms)
        caught_up = ledger_replicated(account=account)
        return as_json(usage_analytics(account=account, start=start, end=end)), caught_up


_RENDERER = EnvelopeJSONRenderer()


def plain_days(params: dict[str, str]) -> dict[str, int] | None:
    """`?days=N` with N in 1..MAX_DAYS, or no parameters: what AnalyticsQuerySerializer would make of it,
    without its cost (bench figure 1). Anything else (None) goes through the serializer and its errors."""
    if not params:
        return {"days": 30}
    value = params.get("days")
    if len(params) == 1 and value is not None and value.isascii() and value.isdigit():
        days = int(value)
        if 1 <= days <= MAX_DAYS:
            return {"days": days}
    return None


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

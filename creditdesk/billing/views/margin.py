"""The platform's margin per operation type, account and month: for its own services (platform keys)."""

from datetime import UTC, date, datetime, time
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing.selectors import MARGIN_GROUPS, margin_report
from creditdesk.core.serializers import StrictInputSerializer, validated
from creditdesk.tenancy.permissions import IsPlatformKey
from creditdesk.tenancy.request import TenantRequest


class MarginQuerySerializer(StrictInputSerializer):
    group_by = serializers.CharField(required=False, default="operation_type")
    operation_type = serializers.CharField(required=False, max_length=64)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)

    def validate_group_by(self, value: str) -> list[str]:
        groups = [group.strip() for group in value.split(",") if group.strip()]
        unknown = sorted(set(groups) - set(MARGIN_GROUPS))
        if not groups or unknown:
            raise serializers.ValidationError(f"Group by some of {', '.join(MARGIN_GROUPS)}.")
        return groups

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"until": ["The end comes before the start."]})
        return attrs


class MarginRowSerializer(serializers.Serializer):
    operation_type = serializers.CharField(allow_null=True)
    account_id = serializers.IntegerField(allow_null=True)
    account_name = serializers.CharField(allow_null=True)
    period = serializers.DateField(allow_null=True)
    calls = serializers.IntegerField()
    credits = serializers.IntegerField()
    revenue = serializers.DecimalField(max_digits=18, decimal_places=4)
    provider_cost = serializers.DecimalField(max_digits=18, decimal_places=4)
    margin = serializers.DecimalField(max_digits=18, decimal_places=4)
    margin_pct = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    floor = serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True)
    below_floor = serializers.BooleanField()


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


class PlatformMarginView(APIView):
    permission_classes = [IsPlatformKey]
    platform_wide = True  # a platform key may leave the account out (every account) or name one to filter

    @extend_schema(
        summary="Margin per operation type, account and month (platform keys only)",
        description="Revenue (the cost basis of the credits consumed, net of reversals), provider cost "
        "(the callers' `cost_usd`) and margin, grouped by `group_by` (any of operation_type, account, period "
        "as a comma list), for one account when X-Account names it, and days [since, until]. An operation "
        "type whose margin falls below the floor staff set is flagged `below_floor`. Members and account "
        "keys get 403: tenants never see the platform's costs.",
        parameters=[MarginQuerySerializer],
        responses=MarginRowSerializer(many=True),
    )
    def get(self, request: TenantRequest) -> Response:
        query = validated(MarginQuerySerializer, request.query_params.dict())
        until = query.get("until")
        rows = margin_report(
            group_by=query["group_by"],
            account_id=request.account.pk if request.account is not None else None,
            operation_type=query.get("operation_type"),
            since=_start_of(query.get("since")),
            until=_start_of(until.fromordinal(until.toordinal() + 1)) if until else None,
        )
        return Response(MarginRowSerializer(rows, many=True).data)

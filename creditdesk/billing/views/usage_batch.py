from collections import Counter
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer
from creditdesk.billing.serializers.usage_batch import (
    RecordUsageBatchResultSerializer,
    RecordUsageBatchSerializer,
)
from creditdesk.billing.services.usage_batch import record_usage_batch
from creditdesk.billing.views.ledger import IDEMPOTENCY_HEADER
from creditdesk.core.errors import ValidationFailed
from creditdesk.core.idempotency import run_idempotently
from creditdesk.tenancy.authentication import acting_key, acting_member, request_payload
from creditdesk.tenancy.models import ApiKeyScope
from creditdesk.tenancy.permissions import CanSpendCredits
from creditdesk.tenancy.request import TenantRequest


class UsageBatchView(APIView):
    permission_classes = [CanSpendCredits]
    api_key_scopes = {"POST": ApiKeyScope.USAGE_WRITE}

    @extend_schema(
        summary="Meter up to 1,000 usage events at once",
        description=(
            "Each event takes the single POST's fields and a required `reference_id` naming the job. The "
            "events are metered in order under one lock of the account and in one transaction, and each "
            "gets the answer it would have got alone: `created`, `replayed` (the reference_id was metered "
            "before with the same values; nothing is charged) or `refused` with a `reason`: "
            "`unknown_operation`, `insufficient_credits` (the events before it took the credits; later "
            "events are still tried), `cap` (a spending cap of the API key or the member would be passed) "
            "or `conflict` (the reference_id was metered with other values). Works with a member's JWT, an "
            "account API key (scope usage:write) and a platform key naming the account (X-Account or "
            "`account` in the body); one batch is for one account. "
            "Refused events leave no trace. A malformed event (a missing or invalid field) is a 400 for the "
            "whole batch, naming `events[i].field`, and nothing is written."
        ),
        request=RecordUsageBatchSerializer,
        responses={200: RecordUsageBatchResultSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest) -> Response:
        def meter() -> Response:
            events = validated_events(request_payload(request))
            results = record_usage_batch(
                account=request.account,
                user=acting_member(request),
                api_key=acting_key(request),
                events=events,
            )
            counts = Counter(result.status for result in results)
            # One list serializer for every log: a serializer per event builds its fields a thousand times.
            logs = [result.log for result in results if result.log is not None]
            usage = iter(CreditUsageLogSerializer(logs, many=True).data)
            return Response(
                {
                    "created": counts["created"],
                    "replayed": counts["replayed"],
                    "refused": counts["refused"],
                    "results": [
                        {
                            "index": result.index,
                            "reference_id": result.reference_id,
                            "status": result.status,
                            "reason": result.reason,
                            "message": result.message,
                            "usage": next(usage) if result.log is not None else None,
                        }
                        for result in results
                    ],
                }
            )

        return run_idempotently(request, account_id=request.account.pk, action=meter)


def validated_events(data: Any) -> list[dict[str, Any]]:
    """The batch's events, or a 400 whose errors name each bad field as `events[i].field`."""
    serializer = RecordUsageBatchSerializer(data=data)
    if serializer.is_valid():
        return list(serializer.validated_data["events"])
    errors: dict[str, list[str]] = {}
    for field, detail in serializer.errors.items():
        if field == "events" and isinstance(detail, dict):  # per event: {index: {field: [messages]}}
            for index, event_errors in detail.items():
                for name, messages in event_errors.items():
                    errors[f"events[{index}].{name}"] = [str(message) for message in messages]
        else:
            errors[field] = [str(message) for message in detail]
    first = next(iter(errors.items()))
    raise ValidationFailed(f"{first[0]}: {first[1][0]}", errors=errors)

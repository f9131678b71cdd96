from collections import Counter
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.billing.serializers.ledger import CreditUsageLogSerializer
from creditdesk.billing.serializers.usage_batch import (
    RecordUsageBatchResultSerializer,
    RecordUsageBatchSerializer,
    new_usage_data,
    quick_events,
)
from creditdesk.billing.services.usage_batch import NewUsage, record_usage_batch
from creditdesk.billing.views.ledger import IDEMPOTENCY_HEADER
from creditdesk.core.errors import ValidationFailed
from creditdesk.core.idempotency import run_idempotently
from creditdesk.tenancy.authentication import acting_key, acting_member, request_payload
from creditdesk.tenancy.models import ApiKey, ApiKeyScope
from creditdesk.tenancy.permissions import CanSpendCredits
from creditdesk.tenancy.request import TenantRequest


class CanMeterBatch(CanSpendCredits):
    """CanSpendCredits; besides, a platform key with usage:write may name no account for the whole batch
    (then each event names its own)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        auth = getattr(request, "auth", None)
        if isinstance(auth, ApiKey) and auth.is_platform and getattr(request, "account", None) is None:
            if ApiKeyScope.USAGE_WRITE in auth.scopes:
                return True
            self.message = f"This API key lacks the scope {str(ApiKeyScope.USAGE_WRITE)!r}."
            return False
        return super().has_permission(request, view)


class UsageBatchView(APIView):
    permission_classes = [CanMeterBatch]
    api_key_scopes = {"POST": ApiKeyScope.USAGE_WRITE}
    platform_wide = True  # a platform key may leave the batch's account out: each event names its own

    @extend_schema(
        summary="Meter up to 1,000 usage events at once",
        description=(
            "Each event takes the single POST's fields and a required `reference_id` naming the job. The "
            "events are metered in order in one transaction, under one lock of each account, and each "
            "gets the answer it would have got alone, with the `account` it was metered to: `created`, "
            "`replayed` (the reference_id was metered before in that account with the same values; nothing "
            "is charged) or `refused` with a `reason`: `unknown_account` (a platform key's event naming no "
            "active account), `unknown_operation`, `insufficient_credits` (the events before it took the "
            "credits; later events are still tried), `cap` (a spending cap of the API key or the member "
            "would be passed) or `conflict` (the reference_id was metered with other values). Works with a "
            "member's JWT and an account API key (scope usage:write), for their account, and with a "
            "platform key, whose batch may span accounts: each event may name its own `account` (id or "
            "slug), the batch's account (X-Account or `account` in the body) being the default; with "
            "neither, that event is a 400. An event's `account` from a member or an account key is a 400. "
            "A platform key's Idempotency-Key is scoped to the batch's account, or to the key when the "
            "batch names none. Refused events leave no trace. A malformed event (a missing or invalid "
            "field) is a 400 for the whole batch, naming `events[i].field`, and nothing is written."
        ),
        request=RecordUsageBatchSerializer,
        responses={200: RecordUsageBatchResultSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request: TenantRequest) -> Response:
        api_key = acting_key(request)
        platform = api_key is not None and api_key.is_platform

        def meter() -> Response:
            events = validated_events(
                request_payload(request), platform=platform, batch_account=request.account is not None
            )
            results = record_usage_batch(
                account=request.account,
                user=acting_member(request),
                api_key=api_key,
                events=events,
            )
            counts = Counter(result.status for result in results)
            # Built once for all: a serializer per event builds its fields a thousand times. New logs are
            # answered from the values written; replayed ones through the serializer.
            new = [result.log for result in results if isinstance(result.log, NewUsage)]
            old = [
                result.log
                for result in results
                if result.log is not None and not isinstance(result.log, NewUsage)
            ]
            usage = dict(zip(map(id, new), new_usage_data(new), strict=True))
            usage.update(zip(map(id, old), CreditUsageLogSerializer(old, many=True).data, strict=True))
            return Response(
                {
                    "created": counts["created"],
                    "replayed": counts["replayed"],
                    "refused": counts["refused"],
                    "results": [
                        {
                            "index": result.index,
                            "reference_id": result.reference_id,
                            "account": result.account_id,
                            "status": result.status,
                            "reason": result.reason,
                            "message": result.message,
                            "usage": usage[id(result.log)] if result.log is not None else None,
                        }
                        for result in results
                    ],
                }
            )

        # Keys are scoped per account; a platform key's batch that names no account scopes them to the key
        # (a negative id, never an account's).
        scope = request.account.pk if request.account is not None else -api_key.pk  # type: ignore[union-attr]
        return run_idempotently(request, account_id=scope, action=meter)


def validated_events(
    data: Any, *, platform: bool = False, batch_account: bool = True
) -> list[dict[str, Any]]:
    """The batch's events, or a 400 whose errors name each bad field as `events[i].field`. Only a platform
    key's events may name their account; when its batch names none, each event must."""
    quick = quick_events(data)
    serializer = RecordUsageBatchSerializer(data=data)
    errors: dict[str, list[str]] = {}
    if quick is not None or serializer.is_valid():
        events = quick if quick is not None else list(serializer.validated_data["events"])
        for index, event in enumerate(events):
            if "account" in event and not platform:
                errors[f"events[{index}].account"] = [
                    "Only a platform key may name an event's account: a batch is for the caller's account."
                ]
            elif "account" not in event and platform and not batch_account:
                errors[f"events[{index}].account"] = [
                    "Name the event's account: the batch names none (X-Account or `account`)."
                ]
        if not errors:
            return events
    for field, detail in (serializer.errors if quick is None else {}).items():
        if field == "events" and isinstance(detail, dict):  # per event: {index: {field: [messages]}}
            for index, event_errors in detail.items():
                for name, messages in event_errors.items():
                    errors[f"events[{index}].{name}"] = [str(message) for message in messages]
        else:
            errors[field] = [str(message) for message in detail]
    first = next(iter(errors.items()))
    raise ValidationFailed(f"{first[0]}: {first[1][0]}", errors=errors)

"""The Idempotency-Key mechanism for POSTs that move credits or money."""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from creditdesk.core.errors import ApplicationError, ErrorCode, ValidationFailed
from creditdesk.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"


class IdempotencyKeyMismatch(ApplicationError):
    status_code = 422
    code = ErrorCode.IDEMPOTENCY_MISMATCH


class IdempotencyKeyInProgress(ApplicationError):
    status_code = 409
    code = ErrorCode.IDEMPOTENCY_IN_PROGRESS


def request_fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _read_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 255:
        raise ValidationFailed.on_field(HEADER, "Idempotency-Key must be 1 to 255 characters.")
    return key


def run_idempotently(request: Request, *, account_id: int, action: Callable[[], Response]) -> Response:
    """Runs `action` once per key: repeats with the same body replay its response, another body is a 422."""
    key = _read_key(request)
    if key is None:
        return action()
    fingerprint = request_fingerprint(request)
    with transaction.atomic():
        _forget_expired(account_id=account_id, key=key)
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    account_id=account_id, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return _replay(account_id=account_id, key=key, fingerprint=fingerprint)
        response = action()
        record.response_status = response.status_code
        record.response_body = json.dumps(response.data, cls=DjangoJSONEncoder)
        record.save(update_fields=["response_status", "response_body"])
    return response


def _forget_expired(*, account_id: int, key: str) -> None:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    IdempotencyKey.objects.filter(account_id=account_id, key=key, created_at__lt=cutoff).delete()


def _replay(*, account_id: int, key: str, fingerprint: str) -> Response:
    record = IdempotencyKey.objects.get(account_id=account_id, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyMismatch(
            "This Idempotency-Key was already used with a different request.",
            errors={HEADER: ["Already used with a different request body."]},
        )
    if record.response_status is None:
        raise IdempotencyKeyInProgress("A request with this Idempotency-Key is still being processed.")
    body = json.loads(record.response_body or "null")
    return Response(body, status=record.response_status, headers={REPLAY_HEADER: "true"})


def purge_expired_keys() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted

"""The Idempotency-Key mechanism for POSTs that move credits or money.

Two ways to run an action under a key:

- `run_idempotently`: the key row, the action's writes and its stored answer commit in one transaction
  (usage, batches). A concurrent repeat waits on the key's unique index, then replays.
- `run_idempotently_outside_transaction`: for an action that calls the network (a purchase calls its
  payment provider), which must not hold a transaction open meanwhile. The key is committed first, in
  progress; the action links it to what it creates (`ResumableKey.link`, in its first transaction) and
  stores its answer in its last (`ResumableKey.store`). A repeat waits for the request working on the key
  (PostgreSQL: a session advisory lock, released by a finished request and by a dead one alike); a key
  still in progress once nobody works on it belonged to a request that died mid-way, and the repeat
  resumes the action from what the key links to instead of answering 409 for ever.
"""

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, connection, transaction
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
        _store_response(record, response)
    return response


def _store_response(record: IdempotencyKey, response: Response) -> None:
    record.response_status = response.status_code
    record.response_body = json.dumps(response.data, cls=DjangoJSONEncoder)
    record.save(update_fields=["response_status", "response_body"])


@dataclass
class ResumableKey:
    """The key an action run by `run_idempotently_outside_transaction` works under.

    `resource` is what an earlier attempt with this key linked before it died ("" for a fresh key): the
    action resumes from it when it can (a draft purchase), or starts afresh and links what it creates.
    """

    record: IdempotencyKey

    @property
    def resource(self) -> str:
        return self.record.resource

    def link(self, resource: str) -> None:
        """Call in the transaction that creates `resource`: a repeat after a crash resumes from it."""
        self.record.resource = resource
        self.record.save(update_fields=["resource"])

    def store(self, response: Response) -> None:
        """Call in the action's last transaction, the one that writes its outcome: the answer commits
        with it, so a repeat either finds the outcome with its answer or neither."""
        _store_response(self.record, response)


def run_idempotently_outside_transaction(
    request: Request, *, account_id: int, action: Callable[[ResumableKey | None], Response]
) -> Response:
    """Runs `action` once per key, as `run_idempotently`, without a transaction around it (see the module
    docstring). `action` gets None when the request has no key. An action that fails with an answer for
    the client (an ApplicationError: 4xx, 502) forgets its key, so a retry really retries; one that fails
    otherwise (the database went away) keeps a linked key, which the retry resumes."""
    key = _read_key(request)
    if key is None:
        return action(None)
    fingerprint = request_fingerprint(request)
    with _working_on(account_id=account_id, key=key) as exclusive:
        claimed = _claim(account_id=account_id, key=key, fingerprint=fingerprint, exclusive=exclusive)
        if isinstance(claimed, Response):
            return claimed
        try:
            response = action(claimed)
        except Exception as exc:
            if isinstance(exc, ApplicationError) or not claimed.resource:
                with contextlib.suppress(DatabaseError):  # a dead connection: the retry resumes instead
                    IdempotencyKey.objects.filter(pk=claimed.record.pk, response_status=None).delete()
            raise
        if claimed.record.response_status is None:
            _store_response(claimed.record, response)
        return response


def _lock_id(*, account_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency-key:{account_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _working_on(*, account_id: int, key: str) -> Iterator[bool]:
    """While inside, no other request works on this key. PostgreSQL: a session-level advisory lock (no
    transaction stays open; a killed server's connection closes and frees it at once), waited for up to
    IDEMPOTENCY_WAIT_SECONDS, then 409. Yields True then; elsewhere False (the lease decides, `_claim`)."""
    if connection.vendor != "postgresql":
        yield False
        return
    lock_id = _lock_id(account_id=account_id, key=key)
    deadline = time.monotonic() + settings.IDEMPOTENCY_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise IdempotencyKeyInProgress(
                    "A request with this Idempotency-Key is still being processed."
                )
            time.sleep(0.05)
    try:
        yield True
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def _claim(*, account_id: int, key: str, fingerprint: str, exclusive: bool) -> ResumableKey | Response:
    """The key, new or taken over from a request that died; or the stored answer to replay."""
    now = timezone.now()
    with transaction.atomic():
        _forget_expired(account_id=account_id, key=key)
        record = IdempotencyKey.objects.select_for_update().filter(account_id=account_id, key=key).first()
        if record is None:
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        account_id=account_id, key=key, fingerprint=fingerprint, claimed_at=now
                    )
                return ResumableKey(record=record)
            except IntegrityError:  # without the advisory lock, another request inserted it meanwhile
                record = IdempotencyKey.objects.select_for_update().get(account_id=account_id, key=key)
        if record.fingerprint != fingerprint or record.response_status is not None:
            return _replay(account_id=account_id, key=key, fingerprint=fingerprint)
        lease = timedelta(seconds=settings.IDEMPOTENCY_LEASE_SECONDS)
        if not exclusive and record.claimed_at is not None and record.claimed_at > now - lease:
            raise IdempotencyKeyInProgress("A request with this Idempotency-Key is still being processed.")
        # Nobody works on it (PostgreSQL: we hold its lock), or its lease ran out: the request died.
        record.claimed_at = now
        record.save(update_fields=["claimed_at"])
        return ResumableKey(record=record)


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

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """One row per (account, Idempotency-Key): the first response, replayed for repeats of the request.

    For most actions the row is inserted before the action runs and committed with it, so a concurrent
    repeat waits on the unique index and then replays; a failed action rolls the key back and may be
    retried. An action that calls the network (a purchase) commits the row first, in progress, links it to
    what it created (`resource`) and stores its answer in its own last transaction; a repeat of a request
    that died in between resumes from `resource` (core/idempotency.py: run_idempotently_outside_transaction).
    """

    account_id = models.BigIntegerField()  # the tenant; core knows no app, so no foreign key
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and canonical body
    response_status = models.PositiveSmallIntegerField(null=True)
    # Kept as text, not jsonb (which reorders keys), so a replay is byte-identical to the first answer.
    response_body = models.TextField(null=True)
    # What a resumable action created under this key, named by the action (e.g. "payment:42"); core
    # knows no app, so it is an opaque string. Empty until the action's first transaction links it.
    resource = models.CharField(max_length=64, blank=True, default="")
    # When the request working on the key took it (first attempt or a takeover); without PostgreSQL's
    # advisory lock, a key in progress for longer than IDEMPOTENCY_LEASE_SECONDS counts as abandoned.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "key"], name="uniq_idempotency_key_per_account")
        ]

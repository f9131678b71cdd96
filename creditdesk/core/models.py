from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class IdempotencyKey(models.Model):
    """One row per (account, Idempotency-Key): the first response, replayed for repeats of the request.

    The row is inserted before the action runs and committed with it, so a concurrent repeat waits on
    the unique index and then replays; a failed action rolls the key back and may be retried.
    """

    account_id = models.BigIntegerField()  # the tenant; core knows no app, so no foreign key
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and canonical body
    response_status = models.PositiveSmallIntegerField(null=True)
    # Kept as text, not jsonb (which reorders keys), so a replay is byte-identical to the first answer.
    response_body = models.TextField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account_id", "key"], name="uniq_idempotency_key_per_account")
        ]

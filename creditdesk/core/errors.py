"""Application errors: raised by services, turned into the error envelope by the exception handler."""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION = "validation_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    SPENDING_CAP_EXCEEDED = "spending_cap_exceeded"
    IDEMPOTENCY_MISMATCH = "idempotency_key_mismatch"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_key_in_progress"
    CONFLICT = "conflict"
    PAYMENT_PROVIDER = "payment_provider_error"


class ApplicationError(Exception):
    status_code = 400
    code = ErrorCode.VALIDATION

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, extra: Any = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra


class ValidationFailed(ApplicationError):
    status_code = 400
    code = ErrorCode.VALIDATION

    @classmethod
    def on_field(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, errors={field: [message]})


class NotFound(ApplicationError):
    status_code = 404
    code = ErrorCode.NOT_FOUND


class PermissionDenied(ApplicationError):
    status_code = 403
    code = ErrorCode.PERMISSION_DENIED


class Conflict(ApplicationError):
    status_code = 409
    code = ErrorCode.CONFLICT

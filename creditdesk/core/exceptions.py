"""Every API error, whatever raised it, leaves as the error envelope with the right status."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from creditdesk.core.errors import ApplicationError
from creditdesk.core.middleware import request_id_for

logger = logging.getLogger(__name__)

NON_FIELD = "non_field_errors"


def error_body(request: HttpRequest | None, message: str, errors: dict | None = None, **extra: Any) -> dict:
    body = {
        "success": False,
        "error": message,
        "errors": errors or {},
        "request_id": request_id_for(request) if request is not None else "",
    }
    body.update(extra)
    return body


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [msg for value in detail.values() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _field_errors(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(field): _flatten(value) for field, value in detail.items()}
    return {NON_FIELD: _flatten(detail)}


def _validation_message(errors: dict[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()), (NON_FIELD, ["Invalid input."]))
    first = messages[0] if messages else "Invalid input."
    return first if field == NON_FIELD else f"{field}: {first}"


def envelope_exception_handler(exc: Exception, context: dict) -> Response | None:
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        set_rollback()
        extra = {"code": str(exc.code)}
        if exc.extra:
            extra["detail"] = exc.extra
        body = error_body(django_request, exc.message, exc.errors, **extra)
        return Response(body, status=exc.status_code)

    if isinstance(exc, drf_exceptions.APIException):
        set_rollback()
        headers = {}
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        wait = getattr(exc, "wait", None)
        if wait:
            headers["Retry-After"] = str(int(wait))
        if isinstance(exc, drf_exceptions.ValidationError):
            errors = _field_errors(exc.detail)
            message = _validation_message(errors)
        else:
            errors = {}
            message = _flatten(exc.detail)[0] if exc.detail else "Error."
        code = "invalid" if errors else exc.get_codes()
        body = error_body(django_request, message, errors, code=code if isinstance(code, str) else "invalid")
        return Response(body, status=exc.status_code, headers=headers)
    return None


def json_error_response(request: HttpRequest, status: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(request, message), status=status)


def json_data_response(data: Any, status: int = 200) -> JsonResponse:
    """The success envelope for a plain Django view (DRF views get it from the renderer)."""
    return JsonResponse({"success": True, "data": data}, status=status)

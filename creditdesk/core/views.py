import logging

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import connection
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import bad_request as default_bad_request
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from creditdesk.core.exceptions import error_body, json_error_response
from creditdesk.core.parsers import too_large_message

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any driver error means the database is not answering
        logger.exception("health check: database did not answer")
        return False


@extend_schema_view(
    get=extend_schema(
        summary="Health check",
        description=("Answers 200 when the service and its database respond; needs no authentication."),
    ),
)
class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        responses=inline_serializer(
            "Health", {"status": serializers.CharField(), "database": serializers.CharField()}
        )
    )
    def get(self, request: Request) -> Response:
        if not database_answers():
            body = error_body(request._request, "The database is not answering.")
            body["data"] = {"status": "degraded", "database": "unavailable"}
            return Response(body, status=503)
        return Response({"status": "ok", "database": "ok"})


def spa_index(request: HttpRequest) -> HttpResponseBase:
    """Serves the built front end for every non-API path, so client-side routes survive a reload."""
    index = settings.FRONTEND_DIST / "index.html"
    if not index.exists():
        return HttpResponse(
            "The front end is not built. Run `make run` (or `cd frontend && npm ci && npm run build`).",
            status=503,
            content_type="text/plain",
        )
    return FileResponse(index.open("rb"), content_type="text/html")


@csrf_exempt  # an unknown URL answers 404 whatever the method, before any CSRF check
def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error_response(request, 404, "Not found.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request)
    return page_not_found(request, exception or Http404())


@csrf_exempt
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What Django refuses before any view (SuspiciousOperation): a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    a Host not in ALLOWED_HOSTS. Under /api/ the answer is the JSON envelope like every other error."""
    if not request.path.startswith("/api/"):
        return default_bad_request(request, exception or Exception())
    if isinstance(exception, RequestDataTooBig):
        return json_error_response(request, 413, too_large_message())
    if isinstance(exception, DisallowedHost):
        return json_error_response(request, 400, "Invalid Host header: this server does not answer for it.")
    return json_error_response(request, 400, "Bad request.")


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error_response(request, 500, "Internal server error.")
    return default_server_error(request)

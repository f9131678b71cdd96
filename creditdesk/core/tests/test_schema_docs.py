"""The API docs: every operation says what it does, in words written for the API's users."""

import pytest
from rest_framework.generics import ListAPIView
from rest_framework.test import APIClient
from rest_framework.views import APIView

from creditdesk.accounts.views import NeverStoredMixin
from creditdesk.tenancy.views import AccountScopedMixin

pytestmark = pytest.mark.django_db


def operations(client: APIClient) -> list[tuple[str, str, dict]]:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/api/")
    ]


def test_every_operation_has_a_summary_and_a_description(api_client: APIClient) -> None:
    found = operations(api_client)
    assert len(found) >= 30
    undocumented = [
        f"{method} {path}"
        for method, path, operation in found
        if len(operation.get("summary", "").strip()) < 5 or len(operation.get("description", "").strip()) < 30
    ]
    assert undocumented == []


def test_no_operation_shows_an_internal_docstring_as_its_description(api_client: APIClient) -> None:
    # drf-spectacular falls back to the view's docstring, which for a bare view is a mixin's: for developers.
    internal = [
        " ".join(cls.__doc__.split())[:60]
        for cls in (AccountScopedMixin, NeverStoredMixin, APIView, ListAPIView)
        if cls.__doc__
    ]
    leaked = [
        f"{method} {path}"
        for method, path, operation in operations(api_client)
        if any(" ".join(operation.get("description", "").split()).startswith(doc) for doc in internal)
        or "get_queryset" in operation.get("description", "")
    ]
    assert leaked == []

"""The API docs: every operation says what it does, in words written for the API's users."""

import pytest
from rest_framework.test import APIClient

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
    leaked = [
        f"{method} {path}"
        for method, path, operation in operations(api_client)
        if "Subclasses" in operation.get("description", "")
        or "get_queryset" in operation.get("description", "")
    ]
    assert leaked == []

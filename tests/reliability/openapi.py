"""The API's operations, read from the server's own OpenAPI schema, so new endpoints are covered as they land."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.reliability import harness

UNSAFE = {"post", "put", "patch", "delete"}
PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # as in the schema, e.g. /api/v1/billing/invoices/{id}/
    request_schema: dict[str, Any]  # resolved JSON body schema ({} when none)
    authenticated: bool

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def unsafe(self) -> bool:
        return self.method.lower() in UNSAFE

    @property
    def fields(self) -> set[str]:
        return set(self.request_schema.get("properties", {}))

    def resource(self, param: str) -> str:
        """The path segment naming the object a parameter identifies: team, invoices, payments ..."""
        before = self.path.split("{" + param + "}")[0].rstrip("/")
        return before.rsplit("/", 1)[-1]

    def url(self, base: str, values: dict[str, Any]) -> str:
        return base + PARAM.sub(lambda m: str(values[m.group(1)]), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def resolve(schema: dict[str, Any], node: Any) -> Any:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return resolve(schema, schema["components"]["schemas"][name])
    return node


def load(base_url: str) -> tuple[dict[str, Any], list[Operation]]:
    schema = harness.call("GET", f"{base_url}/api/schema/?format=json").body
    operations: list[Operation] = []
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            if method.lower() not in UNSAFE | {"get"}:
                continue
            body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            resolved = resolve(schema, body) if body else {}
            security = spec.get("security") or [{}]
            authenticated = any(entry for entry in security)
            operations.append(Operation(method.upper(), path, resolved or {}, authenticated))
    return schema, operations


def sample(schema: dict[str, Any], name: str, node: Any) -> Any:
    node = resolve(schema, node)
    for combinator in ("allOf", "oneOf", "anyOf"):
        if combinator in node:
            return sample(schema, name, node[combinator][0])
    if "enum" in node:
        return next(value for value in node["enum"] if value not in ("", None))
    kind = node.get("type", "string")
    if kind == "integer":
        return max(1, int(node.get("minimum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "object":
        return {}
    if kind == "array":
        return []
    if node.get("format") == "email":
        return f"{name}-{harness.dump(id(node))[-6:]}@reliability.test"
    if node.get("format") == "decimal":
        return "1.00"
    return "reliability"


Provider = Callable[[], Any]


def build_body(
    schema: dict[str, Any], operation: Operation, providers: dict[str, Provider]
) -> dict[str, Any] | None:
    """A valid body: every required field, plus every field a provider knows (e.g. a fresh token)."""
    if not operation.request_schema:
        return None
    properties = operation.request_schema.get("properties", {})
    required = set(operation.request_schema.get("required", []))
    body: dict[str, Any] = {}
    for name, node in properties.items():
        key = f"{operation.path}:{name}"
        if key in providers:
            body[name] = providers[key]()
        elif name in providers:
            body[name] = providers[name]()
        elif name in required:
            body[name] = sample(schema, name, node)
    return body

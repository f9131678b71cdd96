"""OpenAPI post-processing: every documented response is wrapped in the envelope the API really sends."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.request import Request

ERROR_COMPONENT = "ErrorEnvelope"
ERROR_STATUSES = {
    "400": "Validation error",
    "401": "Not authenticated",
    "403": "Not allowed for this role",
    "404": "Not found (including another tenant's objects)",
    "429": "Throttled",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error", "errors", "request_id"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "request_id": {"type": "string"},
        "code": {"type": "string"},
        "detail": {},
    },
}


def _success(schema: dict[str, Any] | None) -> dict[str, Any]:
    data = schema if schema is not None else {"nullable": True}
    return {
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"type": "boolean", "enum": [True]}, "data": data},
    }


def wrap_responses_in_envelope(
    result: dict, generator: "SchemaGenerator", request: "Request | None", public: bool
) -> dict:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_COMPONENT] = ERROR_SCHEMA
    error_ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, methods in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for status, response in list(responses.items()):
                if not status.startswith(("2", "3")):
                    continue
                content = response.setdefault("content", {})
                json_content = content.get("application/json")
                if json_content is None and content:
                    continue  # binary bodies such as the invoice PDF are not enveloped
                inner = json_content.get("schema") if json_content else None
                content["application/json"] = {"schema": _success(inner)}
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": error_ref}}},
                )
    return result

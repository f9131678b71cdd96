"""OpenAPI descriptions of the tenant-aware authentication classes (loaded from TenancyConfig.ready)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from creditdesk.tenancy.permissions import required_scope


class AccountJWTScheme(OpenApiAuthenticationExtension):
    target_class = "creditdesk.tenancy.authentication.AccountJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        return build_bearer_security_scheme_object(
            header_name="AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )


class AccountSessionScheme(OpenApiAuthenticationExtension):
    target_class = "creditdesk.tenancy.authentication.AccountSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Listed only on the operations that accept keys, with the scope they need."""

    target_class = "creditdesk.tenancy.authentication.ApiKeyAuthentication"
    name = ["apiKeyBearer", "apiKeyHeader"]

    def get_security_definition(self, auto_schema: AutoSchema) -> list[dict]:
        bearer = build_bearer_security_scheme_object(
            header_name="AUTHORIZATION", token_prefix="Bearer", bearer_format="cdk_live_..."
        )
        bearer["description"] = (
            "An API key (`cdk_live_...`); a platform key also names the account (X-Account)."
        )
        header = {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": bearer["description"]}
        return [bearer, header]

    # Any: None (not on this operation) works, though drf-spectacular's annotation leaves it out.
    def get_security_requirement(self, auto_schema: AutoSchema) -> Any:
        scope = required_scope(auto_schema.view, auto_schema.method)
        if scope is None:
            return None
        return [{"apiKeyBearer": [scope]}, {"apiKeyHeader": [scope]}]

"""OpenAPI descriptions of the tenant-aware authentication classes (loaded from TenancyConfig.ready)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class AccountJWTScheme(OpenApiAuthenticationExtension):
    target_class = "creditdesk.tenancy.authentication.AccountJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return build_bearer_security_scheme_object(
            header_name="AUTHORIZATION", token_prefix="Bearer", bearer_format="JWT"
        )


class AccountSessionScheme(OpenApiAuthenticationExtension):
    target_class = "creditdesk.tenancy.authentication.AccountSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}

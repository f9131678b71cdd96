from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from creditdesk.tenancy.models import ApiKey, ApiKeyScope
from creditdesk.tenancy.roles import MANAGERS, SPENDERS

if TYPE_CHECKING:  # rest_framework.views imports this module (its default classes)
    from rest_framework.views import APIView

KEYS_REFUSED = "API keys are not accepted here: this endpoint needs a signed-in member."


def has_account(request: Request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and getattr(request, "account", None) is not None)


def has_role(request: Request, roles: frozenset[str]) -> bool:
    return has_account(request) and getattr(request.user, "role", None) in roles


def required_scope(view: "APIView", method: str) -> str | None:
    """The scope a key needs for this view and method; None when the view does not accept keys.

    A view accepts keys only by declaring `api_key_scopes = {"GET": ..., "POST": ...}`: everything else
    (settings, team, purchases, key management) is for signed-in members only.
    """
    scopes: dict[str, str] = getattr(view, "api_key_scopes", None) or {}
    return scopes.get("GET" if method == "HEAD" else method)


class TenantPermission(BasePermission):
    """Members pass by role (`member_allowed`); API keys pass only where the view declares the scope."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        auth = getattr(request, "auth", None)
        api_key = auth if isinstance(auth, ApiKey) else None
        if api_key is None:
            return self.member_allowed(request, view)
        scope = required_scope(view, request.method or "")
        if scope is None:
            self.message = KEYS_REFUSED
            return False
        if scope not in api_key.scopes:
            self.message = f"This API key lacks the scope {str(scope)!r}."
            return False
        return has_account(request)

    def member_allowed(self, request: Request, view: "APIView") -> bool:
        raise NotImplementedError


class IsAccountMember(TenantPermission):
    """Any active member of an account (the default for every API view)."""

    def member_allowed(self, request: Request, view: "APIView") -> bool:
        return has_account(request)


class IsAccountManager(TenantPermission):
    """Owners and admins, for reads and writes alike."""

    message = "Only the account's owners and admins may do this."

    def member_allowed(self, request: Request, view: "APIView") -> bool:
        return has_role(request, MANAGERS)


class MembersReadRolesWrite(TenantPermission):
    """Every member reads; only `writers` change anything."""

    writers: frozenset[str]

    def member_allowed(self, request: Request, view: "APIView") -> bool:
        return has_account(request) if request.method in SAFE_METHODS else has_role(request, self.writers)


class ManagersWriteMembersRead(MembersReadRolesWrite):
    writers = MANAGERS
    message = IsAccountManager.message


class CanSpendCredits(MembersReadRolesWrite):
    """Metering: every active member but viewers may spend the account's credits."""

    writers = SPENDERS
    message = "Viewers may not spend credits."


class IsPlatformKey(BasePermission):
    """The platform's own figures (provider costs, margins): platform keys with `billing:read` only.
    Members and account keys never see them, whatever their role."""

    message = "Only the platform's keys (made by staff) may read platform figures."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        auth = getattr(request, "auth", None)
        return isinstance(auth, ApiKey) and auth.is_platform and ApiKeyScope.BILLING_READ in auth.scopes

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from creditdesk.tenancy.roles import MANAGERS, SPENDERS


def has_account(request: Request) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and getattr(request, "account", None) is not None)


class IsAccountMember(BasePermission):
    """Any active member of an account (the default for every API view)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_account(request)


def has_role(request: Request, roles: frozenset[str]) -> bool:
    return has_account(request) and getattr(request.user, "role", None) in roles


class IsAccountManager(BasePermission):
    """Owners and admins, for reads and writes alike."""

    message = "Only the account's owners and admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request, MANAGERS)


class MembersReadRolesWrite(BasePermission):
    """Every member reads; only `writers` change anything."""

    writers: frozenset[str]

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_account(request) if request.method in SAFE_METHODS else has_role(request, self.writers)


class ManagersWriteMembersRead(MembersReadRolesWrite):
    writers = MANAGERS
    message = IsAccountManager.message


class CanSpendCredits(MembersReadRolesWrite):
    """Metering: every active member but viewers may spend the account's credits."""

    writers = SPENDERS
    message = "Viewers may not spend credits."

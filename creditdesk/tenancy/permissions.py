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


class IsAccountManager(BasePermission):
    """Owners and admins; every member may read where the view allows reads."""

    message = "Only the account's owners and admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_account(request) and getattr(request.user, "role", None) in MANAGERS


class ManagersWriteMembersRead(IsAccountManager):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return has_account(request)
        return super().has_permission(request, view)


class CanSpendCredits(BasePermission):
    """Metering: every active member but viewers may spend the account's credits."""

    message = "Viewers may not spend credits."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return has_account(request)
        return has_account(request) and getattr(request.user, "role", None) in SPENDERS

"""The one mixin every tenant view inherits: its queryset always comes from the caller's account.

Modelled on PostHog's `routing.py`: the scoped lookups are not for subclasses to replace, and the base
rule (an active member of an account) holds whatever `permission_classes` a view declares.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission

from creditdesk.tenancy.permissions import IsAccountMember

# Each of these reads through the tenant filter; a subclass that replaced one could read past it.
GUARDED_METHODS = ("get_queryset", "get_object", "get_permissions")


class AccountScopedMixin:
    """A tenant view: it names a `selector` taking `account=` and inherits the scoped lookups.

    A query that must escape the tenant filter has to be named `dangerously_...`, so it stands out in
    review; none exists today.
    """

    selector: ClassVar[Callable[..., QuerySet]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in GUARDED_METHODS:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} overrides {name}; tenant views define `selector` (taking account=) "
                    "and `permission_classes`, never the scoped lookups themselves."
                )

    def get_permissions(self) -> list[BasePermission]:
        declared = super().get_permissions()  # type: ignore[misc]
        if any(isinstance(permission, IsAccountMember) for permission in declared):
            return declared
        return [IsAccountMember(), *declared]

    def get_queryset(self) -> QuerySet:
        account = getattr(self.request, "account", None)  # type: ignore[attr-defined]
        if account is None and not getattr(self, "swagger_fake_view", False):
            raise NotAuthenticated()
        # Schema generation runs without a tenant: filtering on account=None yields an empty queryset.
        return type(self).selector(account=account)

    def get_object(self) -> Any:
        # GenericAPIView's lookup filters get_queryset(), so another tenant's object is a 404.
        return super().get_object()  # type: ignore[misc]

"""The one mixin every tenant view inherits: its queryset always comes from the caller's account."""

from collections.abc import Callable
from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework.exceptions import NotAuthenticated


class AccountScopedMixin:
    """Subclasses name a selector taking `account=`; they may not override get_queryset.

    A query that must escape the tenant filter has to be named `dangerously_...`, so it stands out in
    review; none exists today.
    """

    selector: ClassVar[Callable[..., QuerySet]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; define `selector` (taking account=) instead."
            )

    def get_queryset(self) -> QuerySet:
        account = getattr(self.request, "account", None)  # type: ignore[attr-defined]
        if account is None and not getattr(self, "swagger_fake_view", False):
            raise NotAuthenticated()
        # Schema generation runs without a tenant: filtering on account=None yields an empty queryset.
        return type(self).selector(account=account)

"""The request a tenant view receives once authentication has fixed its account (for type checkers)."""

from typing import TYPE_CHECKING

from rest_framework.request import Request

if TYPE_CHECKING:  # types only: tenancy never imports accounts at run time
    from creditdesk.accounts.models import Account, User


class TenantRequest(Request):
    account: "Account"
    user: "User"  # type: ignore[assignment]  # always authenticated past IsAccountMember

"""Tenants, members and tokens, made in-process through the real services (Django is set up)."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

PASSWORD = "Qx7!vortex-Lumen-9203"
_serial = itertools.count(1)


@dataclass
class Tenant:
    account: Any
    members: dict[str, Any] = field(default_factory=dict)  # role -> user
    tokens: dict[str, str] = field(default_factory=dict)  # role -> access token
    refresh: dict[str, str] = field(default_factory=dict)  # role -> refresh token

    @property
    def id(self) -> int:
        return int(self.account.pk)

    @property
    def owner_token(self) -> str:
        return self.tokens["owner"]


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}-{uuid.uuid4().hex[:8]}"


def make_tenant(*, credits: int = 0, name: str = "", roles: tuple[str, ...] = ("owner",)) -> Tenant:
    """An account with exactly `credits` (beyond the sign-up grant taken back) and one member per role."""
    from creditdesk.accounts.services.auth import register_account
    from creditdesk.billing.services.ledger import claw_back_credits, grant_credits

    label = name or unique("tenant-")
    owner, account = register_account(
        email=f"{unique('owner-')}@reliability.test", password=PASSWORD, account_name=label
    )
    start = int(account.credits)
    if credits > start:
        grant_credits(account=account, amount=credits - start, description="reliability: starting balance")
    elif credits < start:
        claw_back_credits(
            account=account, amount=start - credits, description="reliability: starting balance"
        )
    account.refresh_from_db()
    tenant = Tenant(account=account)
    add_member(tenant, "owner", user=owner)
    for role in roles:
        if role != "owner":
            add_member(tenant, role)
    return tenant


def add_member(tenant: Tenant, role: str, *, user: Any = None, email: str = "") -> Any:
    from creditdesk.accounts.models import User

    if user is None:
        user = User.objects.create_user(
            email or f"{unique(role + '-')}@reliability.test",
            PASSWORD,
            account=tenant.account,
            role=role,
        )
    access, refresh = tokens_for(user)
    tenant.members[role] = user
    tenant.tokens[role] = access
    tenant.refresh[role] = refresh
    return user


def tokens_for(user: Any) -> tuple[str, str]:
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user)
    return str(refresh.access_token), str(refresh)


def credit_cost(operation_type: str = "clustering") -> int:
    from creditdesk.billing.models import CreditCost

    return int(CreditCost.objects.get(operation_type=operation_type).credits_per_unit)


def balance(account_id: int) -> int:
    from creditdesk.accounts.models import Account

    return int(Account.objects.values_list("credits", flat=True).get(pk=account_id))

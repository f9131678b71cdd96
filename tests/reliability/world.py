"""Two tenants for the security rows: A (the caller, every role) and B (the victim, marked so leaks show)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.reliability import harness
from tests.reliability.fixtures import PASSWORD, Tenant, add_member, make_tenant, tokens_for, unique
from tests.reliability.openapi import Operation

MARKER = "zqleakmarker"


@dataclass
class World:
    a: Tenant
    b: Tenant
    b_objects: dict[str, list[int]] = field(default_factory=dict)  # resource -> B's object ids
    b_rows: dict[str, set[int]] = field(default_factory=dict)  # list resource -> ids of B's rows
    package_id: int = 0
    a_invoice_id: int = 0


def record_usage_for(tenant: Tenant, reference: str) -> None:
    from creditdesk.billing.services.usage import record_usage

    record_usage(
        account=tenant.account,
        user=tenant.members["owner"],
        operation_type="clustering",
        reference_id=reference,
    )


def hold_for(tenant: Tenant) -> int:
    from creditdesk.billing.services.holds import create_hold

    return create_hold(
        account=tenant.account,
        user=None,
        operation_type="clustering",
        credits=3,
        reference_id=unique("hold-"),
    ).hold.pk


def build_world() -> World:
    from creditdesk.billing.models import Invoice, Payment, Plan
    from creditdesk.billing.services.ledger import grant_credits
    from tests.reliability.checks_payments import billing_landed, cheapest_package, start_purchase

    a = make_tenant(credits=100_000, roles=("owner", "admin", "member", "viewer"))
    b = make_tenant(credits=5_000, name=f"B {MARKER}", roles=("owner",))
    for tenant in (a, b):
        tenant.account.plan = Plan.objects.get(slug="scale")  # seats for the invitations the rows send
        tenant.account.save(update_fields=["plan"])
    add_member(b, "member", email=f"{MARKER}-{unique('m')}@reliability.test")
    add_member(b, "viewer", email=f"{MARKER}-{unique('v')}@reliability.test")
    grant_credits(account=b.account, amount=7, description=f"grant {MARKER}")
    record_usage_for(b, MARKER)
    record_usage_for(a, "a-usage")
    world = World(a=a, b=b)
    world.b_objects["team"] = [user.pk for user in b.members.values()]
    world.b_objects["api-keys"] = [make_api_key(b).pk]
    make_api_key(a)  # so that A's own key list is not empty (row 7 checks it saw real rows)
    world.b_objects["invitations"] = [pending_invitation(b, MARKER).pk]
    pending_invitation(a, "a-invitee")  # A's list is not empty: the row-7 leak check looks at real rows
    world.b_objects["usage"] = list(b.account.usage_logs.values_list("pk", flat=True))
    world.b_objects["holds"] = [hold_for(b)]
    hold_for(a)  # A's own hold list is not empty: the row-7 leak check looks at real rows
    if billing_landed():
        for tenant in (a, b):
            start_purchase(tenant, "sandbox")
            start_purchase(tenant, "bank_transfer")
        world.b_objects["invoices"] = list(
            Invoice.objects.filter(account_id=b.id).values_list("pk", flat=True)
        )
        world.b_objects["payments"] = list(
            Payment.objects.filter(account_id=b.id).values_list("pk", flat=True)
        )
        world.package_id = cheapest_package().pk
        world.a_invoice_id = Invoice.objects.filter(account_id=a.id).values_list("pk", flat=True)[0]
        mark_bank_transfer(b)
    # Webhooks, after the purchases (whose events would otherwise be delivered in-process).
    subscribe(a, "a")
    a_delivery(a)
    world.b_objects["endpoints"] = [subscribe(b, MARKER).pk]
    world.b_objects["deliveries"] = [a_delivery(b, MARKER)]
    world.b_rows = rows_of(b)
    return world


def issue_api_key(tenant: Tenant, **extra: Any) -> Any:
    """An account key of the tenant made through the service: the IssuedKey (row and secret)."""
    from creditdesk.tenancy.api_keys import create_account_key

    return create_account_key(
        account=tenant.account,
        actor=tenant.members["owner"],
        name=f"key {MARKER}" if tenant.account.name.endswith(MARKER) else "reliability key",
        scopes=["usage:write", "billing:read"],
        **extra,
    )


def make_api_key(tenant: Tenant, **extra: Any) -> Any:
    return issue_api_key(tenant, **extra).api_key


# Port 9 on the loopback refuses at once: nothing leaves the machine, whatever gets delivered.
WEBHOOK_URL = "https://127.0.0.1:9/hook-{}"


def subscribe(tenant: Tenant, label: str) -> Any:
    from creditdesk.events.models import WebhookEndpoint
    from creditdesk.events.services import create_endpoint

    endpoint = create_endpoint(
        account=tenant.account, url=WEBHOOK_URL.format(unique(label)), description=label
    )
    # Disabled: the in-process events of later rows queue no delivery to it.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_enabled=False)
    return endpoint


def a_delivery(tenant: Tenant, note: str = "a") -> int:
    """A finished (failed) delivery of one of the tenant's events (B's carry the marker)."""
    from creditdesk.events.models import Delivery, Event, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(account_id=tenant.id).first() or subscribe(tenant, "d")
    event = Event.objects.create(account_id=tenant.id, type="invoice.paid", data={"note": note})
    return Delivery.objects.create(
        event=event, endpoint=endpoint, status=Delivery.Status.FAILED, attempts=1
    ).pk


def mark_bank_transfer(tenant: Tenant) -> None:
    """B's pending bank transfer carries the marker, so a leaked payment row shows it too."""
    from creditdesk.billing.models import Payment
    from creditdesk.billing.services.payments import confirm_bank_transfer

    pending = Payment.objects.filter(account_id=tenant.id, status="pending_approval").first()
    if pending is not None:
        confirm_bank_transfer(
            account=tenant.account,
            payment_id=pending.pk,
            transfer_reference=MARKER,
            actor=tenant.members["owner"],
        )


def rows_of(tenant: Tenant) -> dict[str, set[int]]:
    """The ids of B's rows in each list endpoint's resource (the path's last segment)."""
    from creditdesk.accounts.models import Invitation
    from creditdesk.billing.models import CreditHold, CreditTransaction, CreditUsageLog, Invoice, Payment
    from creditdesk.events.models import Delivery, WebhookEndpoint
    from creditdesk.tenancy.models import ApiKey, AuditLog

    def ids(queryset: Any) -> set[int]:
        return set(queryset.filter(account_id=tenant.id).values_list("pk", flat=True))

    return {
        "team": {user.pk for user in tenant.members.values()},
        "transactions": ids(CreditTransaction.objects),
        "usage": ids(CreditUsageLog.objects),
        "holds": ids(CreditHold.objects),
        "invoices": ids(Invoice.objects),
        "payments": ids(Payment.objects),
        "audit-log": ids(AuditLog.objects),
        "api-keys": ids(ApiKey.objects),
        "invitations": ids(Invitation.objects),
        "endpoints": ids(WebhookEndpoint.objects),
        "deliveries": set(
            Delivery.objects.filter(endpoint__account_id=tenant.id).values_list("pk", flat=True)
        ),
    }


def pending_invitation(tenant: Tenant, label: str) -> Any:
    from creditdesk.accounts.services.team import invite_member

    invitation, _token = invite_member(
        account=tenant.account,
        inviter=tenant.members["owner"],
        email=f"{label}-{unique('i')}@reliability.test",
        role="viewer",
    )
    return invitation


def snapshot(account_id: int) -> str:
    """Everything of one tenant that another tenant's request could change."""
    from creditdesk.accounts.models import Account, Invitation, User
    from creditdesk.billing.models import (
        CreditHold,
        CreditTransaction,
        CreditUsageLog,
        Invoice,
        NotificationSettings,
        Payment,
    )
    from creditdesk.core.models import IdempotencyKey
    from creditdesk.events.models import Delivery, WebhookEndpoint
    from creditdesk.tenancy.models import ApiKey, AuditLog, MemberCreditCap

    def rows(queryset: Any, *fields: str) -> list[Any]:
        return list(queryset.order_by("pk").values_list(*fields))

    state = {
        "account": rows(Account.objects.filter(pk=account_id), *[f.attname for f in Account._meta.fields]),
        "users": rows(
            User.objects.filter(account_id=account_id),
            "pk",
            "email",
            "role",
            "is_active",
            "is_staff",
            "password",
        ),
        "ledger": rows(
            CreditTransaction.objects.filter(account_id=account_id), "pk", "amount", "balance_after"
        ),
        "usage": rows(
            CreditUsageLog.objects.filter(account_id=account_id), "pk", "credits_used", "credits_reversed"
        ),
        "holds": rows(
            CreditHold.objects.filter(account_id=account_id), "pk", "status", "settled", "remaining"
        ),
        "invoices": rows(
            Invoice.objects.filter(account_id=account_id), "pk", "status", "invoice_number", "paid_at"
        ),
        "payments": rows(
            Payment.objects.filter(account_id=account_id), "pk", "status", "transfer_reference", "approved_at"
        ),
        "invitations": rows(
            Invitation.objects.filter(account_id=account_id), "pk", "accepted_at", "revoked_at"
        ),
        "idempotency": IdempotencyKey.objects.filter(account_id=account_id).count(),
        "endpoints": rows(
            WebhookEndpoint.objects.filter(account_id=account_id),
            "pk",
            "url",
            "event_types",
            "is_enabled",
            "secret",
        ),
        "deliveries": Delivery.objects.filter(endpoint__account_id=account_id).count(),
        "notifications": rows(
            NotificationSettings.objects.filter(account_id=account_id), "pk", "email_depleted"
        ),
        "audit": AuditLog.objects.filter(account_id=account_id).count(),
        "api_keys": rows(
            ApiKey.objects.filter(account_id=account_id),
            "pk",
            "name",
            "scopes",
            "revoked_at",
            "expires_at",
            "daily_credit_cap",
            "monthly_credit_cap",
        ),
        "member_caps": rows(
            MemberCreditCap.objects.filter(account_id=account_id),
            "member_id",
            "daily_credit_cap",
            "monthly_credit_cap",
        ),
    }
    return harness.dump(state)


def providers(world: World) -> dict[str, Callable[[], Any]]:
    """Field values that make a request valid: fresh tokens, unique emails, real credentials."""
    from creditdesk.accounts.services.team import invite_member

    a = world.a
    login_user = a.members["member"]

    def invitation_token() -> str:
        from django.utils import timezone

        from creditdesk.accounts.models import Invitation

        # Pending invitations take seats: retire this provider's earlier ones (each token is used by one
        # request, at once) so that hundreds of requests do not fill the plan.
        Invitation.objects.filter(
            account=a.account, email__startswith="inv-", accepted_at=None, expires_at__gt=timezone.now()
        ).update(expires_at=timezone.now())
        _member, token = invite_member(
            account=a.account,
            inviter=a.members["owner"],
            email=f"{unique('inv-')}@reliability.test",
            role="viewer",
        )
        return token

    def fresh_refresh() -> str:
        return tokens_for(login_user)[1]

    return {
        "email": lambda: f"{unique('new-')}@reliability.test",
        "/api/v1/auth/login/:email": lambda: login_user.email,
        "password": lambda: PASSWORD,
        "account_name": lambda: unique("registered-"),
        "refresh": fresh_refresh,
        "token": invitation_token,
        "role": lambda: "viewer",
        "payment_method": lambda: "sandbox",
        "transfer_reference": lambda: "TR-reliability",
        "operation_type": lambda: "clustering",
        "/api/v1/billing/credits/holds/:credits": lambda: 1,
        "/api/v1/billing/credits/usage/batch/:events": lambda: [
            {"operation_type": "clustering", "reference_id": unique("batch-")}
        ],
        "/api/v1/billing/credits/holds/{id}/settle/:credits": lambda: 1,
        "name": lambda: "A renamed",
        "scopes": lambda: ["usage:write", "billing:read"],
        "url": lambda: WEBHOOK_URL.format(unique("new")),
    }


def own_object(world: World, operation: Operation, param: str) -> Any:
    """A fresh object of tenant A for the path parameter, or None when the resource is unknown."""
    from tests.reliability.checks_payments import start_purchase

    resource = operation.resource(param)
    if resource == "team":
        from creditdesk.accounts.models import User

        email = f"{unique('target-')}@reliability.test"
        return User.objects.create_user(email, PASSWORD, account=world.a.account, role="member").pk
    if resource == "invitations":
        return pending_invitation(world.a, "target").pk
    if resource == "payments":
        return start_purchase(world.a, "bank_transfer").pk
    if resource == "holds":
        return hold_for(world.a)
    if resource == "usage":
        from creditdesk.billing.services.usage import record_usage

        return record_usage(account=world.a.account, user=None, operation_type="clustering").pk
    if resource == "invoices":
        return world.a_invoice_id
    if resource == "credit-packages":
        return world.package_id
    if resource == "api-keys":
        return make_api_key(world.a).pk
    if resource == "endpoints":
        return subscribe(world.a, "own").pk
    if resource == "deliveries":
        return a_delivery(world.a)
    return None

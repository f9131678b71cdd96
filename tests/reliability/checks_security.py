"""Rows 7 to 10: tenancy, mass assignment and roles over every operation of the schema; JWT forgeries."""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from typing import Any

import jwt

from tests.reliability import harness
from tests.reliability.core import Result, check
from tests.reliability.fixtures import add_member, tokens_for
from tests.reliability.openapi import Operation, build_body, load
from tests.reliability.world import MARKER, World, build_world, issue_api_key, own_object, providers, snapshot

MANAGERS = frozenset({"owner", "admin"})
SPENDERS = MANAGERS | {"member"}
EVERYONE = SPENDERS | {"viewer"}

# Who may do what (docs/api-contract.md, DESIGN.md "Tenancy"); reads not listed are open to every member.
ROLE_RULES: dict[str, frozenset[str]] = {
    "PATCH /api/v1/account/settings/": MANAGERS,
    "GET /api/v1/account/audit-log/": MANAGERS,
    "POST /api/v1/account/team/": MANAGERS,
    "PATCH /api/v1/account/team/{member_id}/": MANAGERS,
    "DELETE /api/v1/account/team/{member_id}/": MANAGERS,
    "GET /api/v1/account/invitations/": MANAGERS,
    "POST /api/v1/account/invitations/{invitation_id}/resend/": MANAGERS,
    "DELETE /api/v1/account/invitations/{invitation_id}/": MANAGERS,
    "PATCH /api/v1/auth/me/": EVERYONE,
    "POST /api/v1/billing/credits/usage/": SPENDERS,
    "POST /api/v1/billing/credits/usage/batch/": SPENDERS,
    "POST /api/v1/billing/credits/usage/{id}/reverse/": SPENDERS,
    "POST /api/v1/billing/credits/holds/": SPENDERS,
    "POST /api/v1/billing/credits/holds/{id}/settle/": SPENDERS,
    "POST /api/v1/billing/credits/holds/{id}/release/": SPENDERS,
    "POST /api/v1/billing/credit-packages/{package_id}/purchase/": MANAGERS,
    "POST /api/v1/billing/payments/{id}/confirm/": MANAGERS,
    "POST /api/v1/billing/payments/{id}/cancel/": MANAGERS,
    "GET /api/v1/billing/margin/": frozenset(),  # platform keys only: no member role sees platform costs
    # API keys and spending caps (issue 12): owners and admins only, reads included (no one else sees keys).
    "GET /api/v1/account/api-keys/": MANAGERS,
    "POST /api/v1/account/api-keys/": MANAGERS,
    "GET /api/v1/account/api-keys/{key_id}/": MANAGERS,
    "PATCH /api/v1/account/api-keys/{key_id}/": MANAGERS,
    "DELETE /api/v1/account/api-keys/{key_id}/": MANAGERS,
    "GET /api/v1/account/team/{member_id}/spending-caps/": MANAGERS,
    "PUT /api/v1/account/team/{member_id}/spending-caps/": MANAGERS,
    "PATCH /api/v1/billing/notifications/": MANAGERS,
    "GET /api/v1/webhooks/events/": MANAGERS,
    "GET /api/v1/webhooks/endpoints/": MANAGERS,
    "POST /api/v1/webhooks/endpoints/": MANAGERS,
    "GET /api/v1/webhooks/endpoints/{id}/": MANAGERS,
    "PATCH /api/v1/webhooks/endpoints/{id}/": MANAGERS,
    "DELETE /api/v1/webhooks/endpoints/{id}/": MANAGERS,
    "POST /api/v1/webhooks/endpoints/{id}/rotate-secret/": MANAGERS,
    "POST /api/v1/webhooks/endpoints/{id}/test/": MANAGERS,
    "GET /api/v1/webhooks/deliveries/": MANAGERS,
    "POST /api/v1/webhooks/deliveries/{id}/resend/": MANAGERS,
    # Auto top-up spends the account's money: owners and admins see it, only owners change it.
    "GET /api/v1/billing/auto-top-up/": MANAGERS,
    "PUT /api/v1/billing/auto-top-up/": frozenset({"owner"}),
    "POST /api/v1/billing/auto-top-up/card/": frozenset({"owner"}),
}
GLOBAL_RESOURCES = {"credit-packages"}  # the shared catalogue: not owned by a tenant
# Open to every role on the user's own credentials, and it ends the caller's other sessions (the matrix's
# tokens): row 22 proves it for every role instead.
SELF_SERVICE = {"POST /api/v1/auth/password/change/"}


def tenant_operations(base: str) -> tuple[dict[str, Any], list[Operation]]:
    schema, operations = load(base)
    return schema, [op for op in operations if op.authenticated]


# --- Row 7: cross-tenant matrix -------------------------------------------------------------------------------


def probe_foreign_object(
    result: Result, base: str, world: World, schema: dict[str, Any], op: Operation
) -> None:
    values: dict[str, list[Any]] = {}
    for param in op.params:
        resource = op.resource(param)
        if resource in GLOBAL_RESOURCES:
            values[param] = [world.package_id]
        elif resource in world.b_objects:
            values[param] = world.b_objects[resource]
        else:
            result.fail(
                f"{op}: no tenant-B object known for '{param}' (resource '{resource}'): add it to world.py"
            )
            return
    foreign = [p for p in op.params if op.resource(p) not in GLOBAL_RESOURCES]
    if not foreign:
        probe_own_action(result, base, world, schema, op, {p: v[0] for p, v in values.items()})
        return
    for object_id in values[foreign[0]]:
        chosen = {p: v[0] for p, v in values.items()} | {foreign[0]: object_id}
        body = build_body(schema, op, providers(world))
        reply = harness.call(op.method, op.url(base, chosen), token=world.a.owner_token, body=body)
        result.count += 1
        result.expect(
            reply.status == 404, f"{op} on B's {foreign[0]}={object_id}: {reply.status}, expected 404"
        )
        result.expect(MARKER not in harness.dump(reply.body), f"{op} on B's object leaked B's data")


def probe_own_action(
    result: Result, base: str, world: World, schema: dict[str, Any], op: Operation, values: dict[str, Any]
) -> None:
    """A's token on a route without B's object: it may only see and touch A; queries naming B change nothing."""
    url = op.url(base, values)
    if op.method == "GET":
        url += f"?account={world.b.id}&account_id={world.b.id}&page_size=100"
    body = build_body(schema, op, providers(world))
    for role in ("owner", "viewer"):
        reply = harness.call(op.method, url, token=world.a.tokens[role], body=body)
        result.count += 1
        result.expect(reply.status < 500, f"{op} as A's {role}: {reply.status}")
        result.expect(MARKER not in harness.dump(reply.body), f"{op} as A's {role} leaked a row of B")
        resource = op.path.rstrip("/").rsplit("/", 1)[-1]
        listed = listed_ids(reply, op)
        leaked = listed & world.b_rows.get(resource, set())
        result.expect(not leaked, f"{op} as A's {role} listed B's rows {sorted(leaked)[:5]}")
        if op.method == "GET" and role == "owner" and resource in world.b_rows:
            # Not vacuous: A's own rows are listed, so the id comparison above looked at real rows.
            result.expect(bool(listed), f"{op}: A's owner saw no row of A's own, the leak check saw nothing")


def listed_ids(reply: harness.Reply, op: Operation) -> set[int]:
    data = reply.data
    rows = data.get("results") if isinstance(data, dict) else None
    return {row["id"] for row in rows or [] if isinstance(row, dict) and isinstance(row.get("id"), int)}


@check("7", "cross-tenant matrix from the OpenAPI schema")
def cross_tenant(context: Any) -> Result:
    base = context.main_server().url
    world = build_world()
    schema, operations = tenant_operations(base)
    before = snapshot(world.b.id)
    result = Result(tried=f"{len(operations)} operations with A's token on B's ids", count=0)
    for op in operations:
        if op.params:
            probe_foreign_object(result, base, world, schema, op)
        else:
            probe_own_action(result, base, world, schema, op, {})
    result.expect(snapshot(world.b.id) == before, "tenant B's data changed")
    return result


# --- Row 8: mass assignment ------------------------------------------------------------------------------------


def forbidden_values(world: World) -> dict[str, Any]:
    from creditdesk.billing.models import Plan

    scale = Plan.objects.get(slug="scale").pk
    b_owner = world.b.members["owner"].pk
    return {
        "credits": 10**9,
        "credit_balance": 10**9,
        "balance": 10**9,
        "balance_after": 10**9,
        "amount": 10**9,
        "credits_used": 0,
        "credits_per_unit": 0,
        "price": "0.01",
        "total_amount": "0.00",
        "plan": scale,
        "plan_id": scale,
        "role": "owner",
        "account": world.b.id,
        "account_id": world.b.id,
        "user": b_owner,
        "user_id": b_owner,
        "owner": b_owner,
        "created_by": b_owner,
        "is_staff": True,
        "is_superuser": True,
        "status": "paid",
        "transaction_type": "grant",
        "paid_at": "2026-01-01T00:00:00Z",
        "approved_by": b_owner,
        "invoice": world.b_objects.get("invoices", [1])[0],
        "id": 1,
        # An API key's identity and state are the server's: never set by a client.
        "kind": "platform",
        "key_hash": "0" * 64,
        "prefix": "stolen00",
        "revoked_at": None,
        "last_used_at": "2030-01-01T00:00:00Z",
    }


def a_invariants(world: World) -> dict[str, Any]:
    from django.db.models import Q

    from creditdesk.accounts.models import Account, User
    from creditdesk.billing.models import CreditTransaction, Invoice, Payment
    from creditdesk.tenancy.models import ApiKey

    a = world.a.id
    return {
        "plan": Account.objects.filter(pk=a).values_list("plan_id", flat=True)[0],
        "staff": User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), account__isnull=False).count(),
        "owners": User.objects.filter(account_id=a, role="owner").count(),
        "huge_rows": CreditTransaction.objects.filter(Q(amount__gte=10**8) | Q(amount__lte=-(10**8))).count(),
        "paid_invoices": Invoice.objects.filter(account_id=a, status="paid").count(),
        "succeeded": Payment.objects.filter(account_id=a, status="succeeded").count(),
        "bank_succeeded": Payment.objects.filter(
            account_id=a, payment_method="bank_transfer", status="succeeded"
        ).count(),
        "rich_accounts": Account.objects.filter(credits__gte=10**8).count(),
        "platform_keys": ApiKey.objects.filter(kind="platform").count(),
        "keys_used_in_2030": ApiKey.objects.filter(last_used_at__year=2030).count(),
        "zero_hashes": ApiKey.objects.filter(key_hash="0" * 64).count(),
    }


def expect_unchanged(result: Result, world: World, label: str, before: dict[str, Any], b_before: str) -> None:
    from tests.reliability.audit import audit, expect_consistent

    after = a_invariants(world)
    for name in (
        "plan",
        "staff",
        "owners",
        "huge_rows",
        "bank_succeeded",
        "rich_accounts",
        "platform_keys",
        "keys_used_in_2030",
        "zero_hashes",
    ):
        result.expect(after[name] == before[name], f"{label}: {name} {before[name]} -> {after[name]}")
    result.expect(after["paid_invoices"] == after["succeeded"], f"{label}: an invoice paid without a payment")
    result.expect(snapshot(world.b.id) == b_before, f"{label}: tenant B changed")
    expect_consistent(result, audit(world.a.id), label=label)


def path_values(world: World, op: Operation) -> dict[str, Any] | None:
    values = {param: own_object(world, op, param) for param in op.params}
    return None if any(v is None for v in values.values()) else values


@check("8", "mass assignment on every writable endpoint")
def mass_assignment(context: Any) -> Result:
    base = context.main_server().url
    world = build_world()
    schema, operations = load(base)
    writable = [op for op in operations if op.unsafe and op.request_schema]
    evil = forbidden_values(world)
    result = Result(
        tried=f"{len(writable)} writable endpoints x {len(evil)} money/role/owner fields", count=0
    )
    before, b_before = a_invariants(world), snapshot(world.b.id)
    outcomes: Counter[int] = Counter()
    for op in writable:
        for name, value in evil.items():
            if name in op.fields:
                continue  # the endpoint's own field (e.g. role on a role change) is not an injection
            values = path_values(world, op)
            if values is None:
                result.fail(f"{op}: no tenant-A object known for its path: add it to world.own_object")
                break
            body = (build_body(schema, op, providers(world)) or {}) | {name: value}
            reply = harness.call(op.method, op.url(base, values), token=world.a.owner_token, body=body)
            result.count += 1
            outcomes[reply.status] += 1
            if reply.status >= 500:
                result.fail(f"{op} with {name}: {reply.status}")
            elif 200 <= reply.status < 300:
                expect_unchanged(result, world, f"{op} accepted {name}={value!r}", before, b_before)
    expect_unchanged(result, world, "after every attempt", before, b_before)
    accepted = sum(n for status, n in outcomes.items() if 200 <= status < 300)
    result.tried += f": {outcomes[400]} refused (400), {accepted} accepted with no effect"
    return result


# --- Row 9: role matrix ------------------------------------------------------------------------------------------


@check("9", "role matrix: owner, admin, member, viewer on every action")
def role_matrix(context: Any) -> Result:
    base = context.main_server().url
    world = build_world()
    schema, operations = tenant_operations(base)
    result = Result(tried=f"{len(operations)} operations x 4 roles, as specified", count=0)
    for op in operations:
        if str(op) in SELF_SERVICE:
            continue
        allowed = ROLE_RULES.get(str(op), None if op.unsafe else EVERYONE)
        if allowed is None:
            result.fail(f"{op}: no role rule; add it to ROLE_RULES from the contract")
            continue
        for role in ("owner", "admin", "member", "viewer"):
            values = path_values(world, op)
            if values is None:
                result.fail(f"{op}: no tenant-A object known for its path")
                break
            body = build_body(schema, op, providers(world))
            before = snapshot(world.a.id)
            reply = harness.call(op.method, op.url(base, values), token=world.a.tokens[role], body=body)
            result.count += 1
            if role in allowed:
                result.expect(200 <= reply.status < 300, f"{op} as {role}: {reply.status}, expected success")
            else:
                result.expect(reply.status == 403, f"{op} as {role}: {reply.status}, expected 403")
                result.expect(snapshot(world.a.id) == before, f"{op} as {role}: refused but changed state")
    return result


# --- Row 10: JWT ---------------------------------------------------------------------------------------------------


def me(base: str, token: str) -> int:
    return harness.call("GET", f"{base}/api/v1/auth/me/", token=token).status


def refresh(base: str, token: str) -> harness.Reply:
    return harness.call("POST", f"{base}/api/v1/auth/refresh/", body={"refresh": token})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(valid_access: str, refresh_token: str) -> dict[str, str]:
    claims = jwt.decode(valid_access, harness.SECRET_KEY, algorithms=["HS256"])
    now = int(time.time())
    return {
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.",
        "alg none, empty signature dropped": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}",
        "wrong key": jwt.encode(claims, "not-the-server-key-but-long-enough-for-hs256", algorithm="HS256"),
        "expired": jwt.encode(
            claims | {"exp": now - 60, "iat": now - 1000}, harness.SECRET_KEY, algorithm="HS256"
        ),
        "unknown user": jwt.encode(claims | {"user_id": 10**9}, harness.SECRET_KEY, algorithm="HS256"),
        "HS512 with the key": jwt.encode(claims, harness.SECRET_KEY, algorithm="HS512"),
        "refresh used as access": refresh_token,
        "garbage": "garbage",
        "three garbage parts": "a.b.c",
        "tampered payload": ".".join(
            [
                valid_access.split(".")[0],
                b64(claims | {"user_id": str(int(claims["user_id"]) + 1)}),
                valid_access.split(".")[2],
            ]
        ),
    }


def jwt_lifecycle(result: Result, base: str, world: World) -> None:
    owner_token = world.a.owner_token
    leaver = add_member(world.a, "viewer")
    access, refresh_token = world.a.tokens["viewer"], world.a.refresh["viewer"]
    result.expect(me(base, access) == 200, "a member's token did not work before removal")
    removed = harness.call("DELETE", f"{base}/api/v1/account/team/{leaver.pk}/", token=owner_token)
    result.expect(removed.status == 200, f"removing the member answered {removed.status}")
    result.expect(me(base, access) == 401, "a removed member's access token still works")
    result.expect(refresh(base, refresh_token).status == 401, "a removed member's refresh token still works")
    result.count += 3

    access, first = tokens_for(world.a.members["member"])
    rotated = refresh(base, first)
    result.expect(rotated.status == 200, f"refresh answered {rotated.status}")
    result.expect(refresh(base, first).status == 401, "a refresh token worked again after rotation")
    if rotated.status == 200:
        second = rotated.data["refresh"]
        result.expect(refresh(base, second).status == 200, "the rotated refresh token does not work")
    result.count += 3

    _access, to_logout = tokens_for(world.a.members["member"])
    out = harness.call("POST", f"{base}/api/v1/auth/logout/", body={"refresh": to_logout})
    result.expect(out.status == 200, f"logout answered {out.status}")
    result.expect(refresh(base, to_logout).status == 401, "a refresh token worked after logout")
    result.count += 2


def deactivated_user(result: Result, base: str, world: World) -> None:
    user = add_member(world.a, "viewer")
    token = world.a.tokens["viewer"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    result.count += 1
    result.expect(me(base, token) == 401, "a deactivated user's access token still works")


def api_key_lifecycle(result: Result, base: str, world: World) -> None:
    """A revoked key on its very next request, a key past its expiry, platform keys naming no account or an
    unknown one; and no one but owners and admins ever sees a secret."""
    from datetime import timedelta

    from django.utils import timezone

    from creditdesk.tenancy.api_keys import create_platform_key
    from creditdesk.tenancy.models import ApiKey

    balance = f"{base}/api/v1/billing/credits/balance/"
    usage = f"{base}/api/v1/billing/credits/usage/"
    body = {"operation_type": "clustering"}
    created = harness.call(
        "POST",
        f"{base}/api/v1/account/api-keys/",
        token=world.a.owner_token,
        body={"name": "row 10", "scopes": ["usage:write", "billing:read"]},
    )
    result.count += 1
    if not result.expect(created.status == 201, f"creating a key answered {created.status}"):
        return
    secret, key_id = created.data["key"], created.data["id"]
    result.expect(harness.call("GET", balance, token=secret).status == 200, "a fresh key does not work")
    for role in ("owner", "admin", "member", "viewer"):
        listed = harness.call("GET", f"{base}/api/v1/account/api-keys/", token=world.a.tokens[role])
        result.count += 1
        result.expect(secret not in harness.dump(listed.body), f"the key list showed a secret to the {role}")
        expected = 200 if role in MANAGERS else 403
        result.expect(listed.status == expected, f"key list as {role}: {listed.status}, expected {expected}")
    revoked = harness.call("DELETE", f"{base}/api/v1/account/api-keys/{key_id}/", token=world.a.owner_token)
    result.expect(revoked.status == 200, f"revoking answered {revoked.status}")
    after = harness.call("POST", usage, token=secret, body=body)
    result.expect(after.status == 401, f"a revoked key's next request: {after.status}, expected 401")
    result.expect(secret not in harness.dump(after.body), "the 401 echoed the key")
    result.count += 2

    expiring = issue_api_key(world.a, expires_at=timezone.now() + timedelta(hours=1))
    result.expect(harness.call("GET", balance, token=expiring.secret).status == 200, "a live key refused")
    ApiKey.objects.filter(pk=expiring.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = harness.call("POST", usage, token=expiring.secret, body=body)
    result.expect(expired.status == 401, f"a key used after its expiry: {expired.status}, expected 401")
    result.count += 1

    platform = create_platform_key(name="row 10 platform", scopes=["usage:write", "billing:read"]).secret
    named_none = harness.call("POST", usage, token=platform, body=body)
    result.expect(
        named_none.status == 400, f"a platform key naming no account: {named_none.status}, expected 400"
    )
    unknown = harness.call("POST", usage, token=platform, body=body, headers={"X-Account": "999999999"})
    result.expect(unknown.status == 404, f"a platform key naming an unknown account: {unknown.status}")
    named = harness.call("GET", balance, token=platform, headers={"X-Account": str(world.a.id)})
    result.expect(named.status == 200, f"a platform key naming A: {named.status}, expected 200")
    member_only = harness.call(
        "GET", f"{base}/api/v1/account/settings/", token=platform, headers={"X-Account": str(world.a.id)}
    )
    result.expect(
        member_only.status == 403, f"a platform key on settings: {member_only.status}, expected 403"
    )
    result.count += 4


@check("10", "JWT and API keys: removal, logout, rotation, revoked and expired keys, forgeries")
def jwt_checks(context: Any) -> Result:
    base = context.main_server().url
    world = build_world()
    result = Result(
        tried="removed member, logout, rotation, deactivation, forged tokens, revoked/expired/platform keys",
        count=0,
    )
    api_key_lifecycle(result, base, world)  # first: the JWT checks below remove A's viewer
    jwt_lifecycle(result, base, world)
    deactivated_user(result, base, world)
    access, refresh_token = tokens_for(world.a.members["member"])
    for name, token in forged_tokens(access, refresh_token).items():
        result.count += 1
        status = me(base, token)
        result.expect(status == 401, f"token '{name}': {status}, expected 401")
    for header in ("Bearer", "Bearer ", "Token abc", "Basic dXNlcjpwYXNz", f"Bearer {access} extra"):
        result.count += 1
        reply = harness.call("GET", f"{base}/api/v1/auth/me/", headers={"Authorization": header})
        result.expect(reply.status == 401, f"header '{header[:20]}': {reply.status}, expected 401")
    result.expect(me(base, access) == 200, "the valid token does not work")
    return result

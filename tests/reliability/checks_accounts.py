"""Row 23 (issue 10): account takeover and enumeration, against the production server.

A server of its own runs with real limits (LOGIN_RATE_LIMIT, invitation limits) behind one counted proxy
(NUM_PROXIES=1), so each request can come from an IP of its choosing through X-Forwarded-For.
"""

from __future__ import annotations

import random
import re
from typing import Any

import requests

from tests.reliability import harness
from tests.reliability.core import Result, check
from tests.reliability.fixtures import PASSWORD, add_member, make_tenant, unique

LIMIT = 5
# Throttle counters live in the shared Redis: a fresh /16 per run keeps runs (and other suites) apart.
NET = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}"
NEW_PASSWORD = "another-long-passphrase-22"


def call(base: str, method: str, path: str, ip: str, **kwargs: Any) -> harness.Reply:
    headers = {"X-Forwarded-For": ip, **kwargs.pop("headers", {})}
    return harness.call(method, f"{base}/api/v1/{path}", headers=headers, **kwargs)


def login(base: str, ip: str, email: str, password: str) -> harness.Reply:
    return call(base, "POST", "auth/login/", ip, body={"email": email, "password": password})


def lockout(result: Result, base: str, victim: Any) -> None:
    """Guesses from many IPs never lock the owner out; one IP's guesses lock only that IP."""
    guesses = [login(base, f"{NET}.{n}", victim.email, "guess").status for n in range(1, 3 * LIMIT)]
    result.count += len(guesses)
    result.expect(set(guesses) == {401}, f"guesses from many IPs answered {sorted(set(guesses))}")
    fresh = login(base, f"{NET}.101", victim.email, PASSWORD)
    result.count += 1
    result.expect(fresh.status == 200, f"the owner from a new IP after guesses elsewhere: {fresh.status}")
    ip = f"{NET}.102"
    statuses = [login(base, ip, victim.email, "guess").status for _ in range(LIMIT)]
    statuses.append(login(base, ip, victim.email, PASSWORD).status)
    result.count += len(statuses)
    result.expect(statuses == [401] * LIMIT + [429], f"one IP's guesses then the password: {statuses}")
    other = login(base, f"{NET}.103", victim.email, PASSWORD)
    result.count += 1
    result.expect(other.status == 200, f"the owner from another IP after one IP was locked: {other.status}")


def sessions_end_on_password_change(result: Result, base: str, user: Any, n: int) -> None:
    here, there = f"{NET}.{110 + 2 * n}", f"{NET}.{111 + 2 * n}"  # each IP stays under its limit
    first = login(base, here, user.email, PASSWORD).data
    second = login(base, there, user.email, PASSWORD).data
    changed = call(
        base,
        "POST",
        "auth/password/change/",
        here,
        token=first["access"],
        body={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    result.count += 5
    result.expect(changed.status == 200, f"{user.role}: password change answered {changed.status}")
    me = call(base, "GET", "auth/me/", there, token=second["access"]).status
    result.expect(me == 401, f"{user.role}: another session's access token after the change: {me}")
    again = call(base, "POST", "auth/refresh/", there, body={"refresh": second["refresh"]}).status
    result.expect(again == 401, f"{user.role}: another session's refresh token after the change: {again}")
    if changed.status == 200:
        mine = call(base, "GET", "auth/me/", here, token=changed.data["access"]).status
        result.expect(mine == 200, f"{user.role}: the new tokens of this session: {mine}")


def refresh_never_forks(result: Result, base: str, user: Any, threads: int) -> None:
    refresh = login(base, f"{NET}.129", user.email, NEW_PASSWORD).data["refresh"]
    replies = harness.parallel(
        list(range(threads)),
        lambda i: call(base, "POST", "auth/refresh/", f"{NET}.{130 + i}", body={"refresh": refresh}),
        threads=threads,
    )
    statuses = sorted(reply.status for reply in replies)
    result.count += threads
    result.expect(statuses == [200] + [401] * (threads - 1), f"{threads} parallel refreshes: {statuses}")


def neutral_answers(result: Result, base: str, owner_token: str, other_owner: Any) -> None:
    from creditdesk.accounts.models import User

    operator = User.objects.create_superuser(f"{unique('ops-')}@reliability.test", PASSWORD)
    replies = {
        label: call(base, "POST", "account/team/", f"{NET}.140", token=owner_token, body={"email": email})
        for label, email in (
            ("fresh", f"{unique('fresh-')}@reliability.test"),
            ("another tenant's owner", other_owner.email),
            ("an operator", operator.email),
        )
    }
    result.count += len(replies)
    shapes = {label: (r.status, tuple(sorted(r.data or {}))) for label, r in replies.items()}
    result.expect(len(set(shapes.values())) == 1, f"invitation answers differ: {shapes}")
    known = call(base, "POST", "auth/password/reset/", f"{NET}.141", body={"email": other_owner.email})
    unknown = call(base, "POST", "auth/password/reset/", f"{NET}.142", body={"email": "nobody@nowhere.test"})
    result.count += 2
    result.expect(
        (known.status, known.data) == (unknown.status, unknown.data),
        f"reset answers differ: {known.status} {known.data} / {unknown.status} {unknown.data}",
    )
    name = unique("Same Name ")
    slugs = []
    for _n in range(2):
        body = {"email": f"{unique('s-')}@reliability.test", "password": PASSWORD, "account_name": name}
        reply = call(base, "POST", "auth/register/", f"{NET}.{150 + _n}", body=body)
        result.count += 1
        slugs.append((reply.data or {}).get("account", {}).get("slug", ""))
    pattern = re.compile(rf"{re.escape(name.lower().replace(' ', '-'))}-[a-z0-9]{{6}}")
    result.expect(
        all(pattern.fullmatch(slug) for slug in slugs) and slugs[0] != slugs[1],
        f"sign-up slugs of one name: {slugs}",
    )


def blocked_address_is_claimable(result: Result, base: str, owner_token: str) -> None:
    email = f"{unique('claim-')}@reliability.test"
    invited = call(base, "POST", "account/team/", f"{NET}.160", token=owner_token, body={"email": email})
    from creditdesk.accounts.models import User

    user_id = User.objects.values_list("pk", flat=True).filter(email=email).first()
    removed = call(base, "DELETE", f"account/team/{user_id}/", f"{NET}.160", token=owner_token)
    body = {"email": email, "password": PASSWORD, "account_name": unique("claimed ")}
    registered = call(base, "POST", "auth/register/", f"{NET}.161", body=body)
    result.count += 3
    result.expect(
        (invited.status, removed.status, registered.status) == (201, 200, 201),
        f"invite, remove, register the address: {invited.status}, {removed.status}, {registered.status}",
    )
    rounds = []
    for _ in range(4):  # invite and revoke, as a tenant mailing one address again and again would
        reply = call(base, "POST", "account/team/", f"{NET}.162", token=owner_token, body={"email": email})
        rounds.append(reply.status)
        if reply.status == 201:
            call(base, "DELETE", f"account/invitations/{reply.data['id']}/", f"{NET}.162", token=owner_token)
    result.count += len(rounds)
    result.expect(rounds == [201, 201, 429, 429], f"invite/revoke rounds to one recipient: {rounds}")


def admin_sends_a_policy(result: Result, base: str) -> None:
    """The admin's login throttle needs its CSRF cookie back over plain http; test_admin.py proves it."""
    page = requests.get(f"{base}/admin/login/", headers={"X-Forwarded-For": f"{NET}.200"}, timeout=30)
    result.count += 1
    csp = page.headers.get("Content-Security-Policy", "")
    result.expect("frame-ancestors 'none'" in csp, f"the admin's Content-Security-Policy: {csp!r}")


def own_cache_url() -> str:
    """A Redis database of this row's own, emptied: the suite's databases are recreated each run, so
    account ids repeat and an earlier run's counters (per account, per IP) would still be counting."""
    import redis

    index = (harness.PORT_BASE // 12) % 15 + 1  # one per helper's port base, never the shared db 0
    url = f"redis://127.0.0.1:6379/{index}"
    redis.Redis.from_url(url).flushdb()
    return url


def serveable_password(*users: Any) -> None:
    """This process hashes with the test settings' MD5; the production server only knows its own hashers."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    for user in users:
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])


@check("23", "account takeover and enumeration: lockout, sessions, refresh forks, neutral answers")
def account_takeover(context: Any) -> Result:
    server = context.start(
        harness.DB_MAIN,
        extra_env={
            "NUM_PROXIES": "1",
            "LOGIN_RATE_LIMIT": f"{LIMIT}/min",
            "INVITATION_ACCOUNT_RATE_LIMIT": "30/hour",
            "INVITATION_RECIPIENT_RATE_LIMIT": "3/day",
            "CACHE_URL": own_cache_url(),
        },
    )
    base = server.url
    tenant = make_tenant(roles=("owner", "admin", "member", "viewer"))
    other = make_tenant(roles=("owner",))
    serveable_password(*tenant.members.values())
    from creditdesk.billing.models import Plan

    tenant.account.plan = Plan.objects.get(slug="scale")  # seats for the invitations below
    tenant.account.save(update_fields=["plan"])
    result = Result(tried="lockout, password change x 3 roles, parallel refresh, enumeration, admin", count=0)
    lockout(result, base, tenant.members["owner"])
    for n, role in enumerate(("admin", "member", "viewer")):
        sessions_end_on_password_change(result, base, tenant.members[role], n)
    refresh_never_forks(result, base, tenant.members["member"], threads=min(10, context.sizes.workers * 5))
    owner_token = login(base, f"{NET}.170", tenant.members["owner"].email, PASSWORD).data["access"]
    neutral_answers(result, base, owner_token, other.members["owner"])
    blocked_address_is_claimable(result, base, owner_token)
    co_admin = tenant.members["admin"]
    add_member(tenant, "admin")  # a second admin, whose token is now tenant.tokens["admin"]
    removed = call(base, "DELETE", f"account/team/{co_admin.pk}/", f"{NET}.180", token=tenant.tokens["admin"])
    result.count += 1
    result.expect(removed.status == 403, f"an admin removing a co-admin: {removed.status}")
    bad = call(base, "PATCH", "account/settings/", f"{NET}.181", token=owner_token, body={"name": "A\nB"})
    result.count += 1
    result.expect(bad.status == 400, f"an account name with a line break: {bad.status}")
    admin_sends_a_policy(result, base)
    server.stop()
    return result

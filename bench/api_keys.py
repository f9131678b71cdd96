"""Figure 2b (issue 12): metering through a service's API key beside metering through a member's JWT.

Same server, same hot account, same body; the runs alternate (JWT, key, JWT, key) so that a drift of the
shared machine weighs on both alike. A key costs one indexed lookup by its HMAC instead of a JWT's
signature check and user lookup, and `last_used_at` is written at most once a minute, so it must not be
slower.

`make bench` runs it with the other write figures. Alone, on its own database (about a minute):
    .venv/bin/python -m bench.api_keys
"""

import sys
import time

from bench import database
from bench.load import wrk
from bench.results import Row, Target, format_table
from bench.server import running
from bench.settings import WORK, BenchSettings
from bench.writes import BODY, USAGE

TARGET = Target(0.95, at_most=False, source="issue 12: not slower, within 5 % noise")


def issue_key(settings: BenchSettings, account_id: int) -> str:
    """A usage:write key of the account, made by the real service inside Django (its secret, printed once)."""
    done = database.django(settings, "-m", "bench.api_keys", "issue", str(account_id))
    return done.stdout.strip().splitlines()[-1]


def _rps(settings: BenchSettings, base_url: str, credential: str, name: str) -> float:
    tokens = WORK / f"tokens-{name}.txt"
    tokens.write_text(credential + "\n")
    result = wrk(
        base_url + USAGE,
        seconds=settings.write_seconds,
        connections=settings.connections,
        post_tokens=tokens,
        post_body=BODY,
    )
    if result.errors:
        raise RuntimeError(f"POST {USAGE} through {name}: {result.errors} errors under load")
    return result.rps


def api_key_figures(settings: BenchSettings, base_url: str, hot_account_id: int, hot_jwt: str) -> list[Row]:
    key = issue_key(settings, hot_account_id)
    jwt_runs, key_runs = [], []
    for _round in range(2):
        jwt_runs.append(_rps(settings, base_url, hot_jwt, "jwt"))
        key_runs.append(_rps(settings, base_url, key, "api-key"))
    through_jwt, through_key = sum(jwt_runs) / 2, sum(key_runs) / 2
    return [
        Row(
            "metering POST through an API key, 1 hot account",
            through_key,
            "deductions/s",
            "same through a member's JWT",
            through_jwt,
            TARGET,
            note=f"alternating runs: JWT {jwt_runs[0]:.0f}, {jwt_runs[1]:.0f}; key {key_runs[0]:.0f}, "
            f"{key_runs[1]:.0f} deductions/s",
        )
    ]


def _issue_inside_django(account_id: int) -> None:
    import django

    django.setup()
    from creditdesk.accounts.models import Account
    from creditdesk.tenancy.api_keys import create_account_key

    account = Account.objects.get(pk=account_id)
    print(create_account_key(account=account, actor=None, name="bench worker", scopes=["usage:write"]).secret)


def main() -> int:
    started = time.monotonic()
    settings = BenchSettings()
    WORK.mkdir(parents=True, exist_ok=True)
    database.recreate(settings)
    try:
        database.migrate(settings)
        fixtures = database.load_accounts(settings)
        hot = fixtures["hot"]
        with running(settings) as server:
            rows = api_key_figures(settings, server.base_url, hot["account_id"], hot["access"])
    finally:
        if not settings.keep_db:
            database.drop(settings)
    print(format_table(rows))
    for row in rows:
        print(f"  {row.note}")
    print(f"bench.api_keys took {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["issue"]:
        _issue_inside_django(int(sys.argv[2]))
    else:
        sys.exit(main())

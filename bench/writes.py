"""Figure 2: metered deductions over HTTP against raw SQL doing the same writes (pgbench), same database."""

import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psycopg

from bench import database
from bench.load import pgbench, wrk
from bench.results import Row, Target
from bench.server import running
from bench.settings import ROOT, WORK, BenchSettings

USAGE = "/api/v1/billing/credits/usage/"
BATCH = "/api/v1/billing/credits/usage/batch/"
BODY = json.dumps({"operation_type": "clustering"})
DEDUCT_SQL = ROOT / "bench" / "pgbench" / "deduct.sql"
METER_SQL = ROOT / "bench" / "pgbench" / "meter.sql"
APP_SQL = ROOT / "bench" / "pgbench" / "meter_app.sql"
# Issue 15's targets: against two bare statements from a C client, HTTP and Python cost the rest.
BATCH_TARGETS = {
    "hot": Target(5, at_most=False, source="issue 15"),
    "spread": Target(2, at_most=False, source="issue 15"),
}
TARGETS = {
    "hot": Target(0.35, at_most=False, source="issue 15"),
    "spread": Target(0.15, at_most=False, source="issue 15"),
}


def _tokens_file(name: str, tokens: list[str]) -> Path:
    path = WORK / f"tokens-{name}.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


def _http(
    settings: BenchSettings, base_url: str, tokens: list[str], name: str, connections: int | None = None
) -> float:
    result = wrk(
        base_url + USAGE,
        seconds=settings.write_seconds,
        connections=connections or settings.connections,
        post_tokens=_tokens_file(name, tokens),
        post_body=BODY,
    )
    if result.errors:
        raise RuntimeError(f"POST {USAGE} ({name}): {result.errors} errors under load")
    return result.rps


def _usage_logs(settings: BenchSettings, first: int, last: int) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM billing_creditusagelog WHERE account_id BETWEEN %s AND %s", [first, last]
        ).fetchone()
    return int(row[0]) if row else 0


def _batch(
    settings: BenchSettings,
    base_url: str,
    tokens: list[str],
    name: str,
    ids: tuple[int, int],
    size: int,
    span: int = 0,
) -> float:
    """Events/s through the batch endpoint: the usage logs committed while wrk ran, over its duration (a
    batch still in flight when wrk stops is not counted; a replayed or refused event is not ingested).
    `span` > 0: the tokens are a platform key's, and each request's events name `span` accounts of ids."""
    before = _usage_logs(settings, *ids)
    batch: tuple[object, ...] = (size, f"{name}{time.time_ns()}")
    if span:
        accounts = WORK / f"accounts-{name}.txt"
        accounts.write_text("\n".join(str(pk) for pk in range(ids[0], ids[1] + 1)) + "\n")
        batch += (accounts, span)
    result = wrk(
        base_url + BATCH,
        seconds=settings.write_seconds,
        connections=settings.batch_connections,
        post_tokens=_tokens_file(f"batch-{name}", tokens),
        batch=batch,
    )
    written = _usage_logs(settings, *ids) - before
    if result.errors or written == 0:
        raise RuntimeError(f"POST {BATCH} ({name}): {result.errors} errors, {written} events ingested")
    return written / result.seconds


def write_figures(
    settings: BenchSettings, base_url: str, hot: tuple[int, str], spread: tuple[int, int, list[str]]
) -> list[Row]:
    hot_id, hot_token = hot
    first, last, spread_tokens = spread
    runs = {
        "hot": ({"first": hot_id, "last": hot_id}, [hot_token]),
        "spread": ({"first": first, "last": last}, spread_tokens),
    }
    rows: list[Row] = []
    platform_key = issue_platform_key(settings)
    for name, (variables, tokens) in runs.items():
        http = _http(settings, base_url, tokens, name)
        # Hot: a member's batches of 1,000 events on the one account. Spread: a platform key's batches of
        # 1,000 events, each spanning 100 of the accounts (10 events each), the window moving on per request.
        size = settings.batch_events
        span = 0 if name == "hot" else max(1, settings.batch_events // 10)
        ids = (variables["first"], variables["last"])
        if span:
            batch = _batch(settings, base_url, [platform_key], name, ids, size, span=span)
            note = f"{size} events a request over {span} accounts (a platform key)"
        else:
            batch = _batch(settings, base_url, tokens, name, ids, size)
            note = f"{size} events a request"
        floor = pgbench(settings, DEDUCT_SQL, seconds=settings.write_seconds, variables=variables)
        every_write = pgbench(settings, METER_SQL, seconds=settings.write_seconds, variables=variables)
        app_statements = pgbench(settings, APP_SQL, seconds=settings.write_seconds, variables=variables)
        label = "1 hot account" if name == "hot" else f"{last - first + 1:,} accounts"
        rows += [
            Row(f"metering POST, {label}", http, "deductions/s", "SQL UPDATE+INSERT", floor, TARGETS[name]),
            Row(
                f"batch ingestion, {label}",
                batch,
                "events/s",
                "SQL UPDATE+INSERT",
                floor,
                BATCH_TARGETS[name],
                note=f"{note}, {settings.batch_connections} connections",
            ),
            Row(
                f"metering POST, {label}",
                http,
                "deductions/s",
                "SQL, all 6 writes",
                every_write,
                note="the gap between the SQL baselines is write amplification",
            ),
            Row(
                f"metering POST, {label}",
                http,
                "deductions/s",
                "SQL, the app's own statements",
                app_statements,
                note="the gap to this one is Python and HTTP alone",
            ),
        ]
    return rows


def _post_usage(base_url: str, token: str) -> None:
    request = urllib.request.Request(
        base_url + USAGE,
        data=BODY.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 201:
            raise RuntimeError(f"POST {USAGE} answered {response.status}")


def scale_out_figures(
    settings: BenchSettings, tokens: list[str], ids: tuple[int, int], one_server: float
) -> list[Row]:
    """Metering spread over the accounts with two and three server instances (each as `make serve` runs
    it) on one database, beside the one-server figure: one wrk per instance at the same time, the
    connections split between them."""
    first, last = ids
    label = f"{last - first + 1:,} accounts"
    rows = []
    for count in (n for n in settings.scale_out_instances if n > 1):
        with ExitStack() as stack:
            servers = [
                stack.enter_context(running(settings, name=f"gunicorn-scale-{count}-{n}"))
                for n in range(count)
            ]
            for server in servers:  # each worker imports lazily and connects on its first request
                for n in range(2 * settings.workers):
                    _post_usage(server.base_url, tokens[n % len(tokens)])
            per_instance = max(1, settings.connections // count)
            with ThreadPoolExecutor(max_workers=count) as pool:
                runs = [
                    pool.submit(_http, settings, server.base_url, tokens, f"scale-{count}-{n}", per_instance)
                    for n, server in enumerate(servers)
                ]
                rate = sum(run.result() for run in runs)
        rows.append(
            Row(
                f"metering POST, {label}, {count} servers",
                rate,
                "deductions/s",
                "1 server",
                one_server,
                note=f"{settings.workers} workers per server, one machine and one database",
            )
        )
    return rows


def issue_platform_key(settings: BenchSettings) -> str:
    """A usage:write platform key, made by the real service inside Django (its secret, printed once)."""
    done = database.django(settings, "-m", "bench.writes", "platform-key")
    return done.stdout.strip().splitlines()[-1]


def _issue_platform_key_inside_django() -> None:
    import django

    django.setup()
    from creditdesk.tenancy.api_keys import create_platform_key

    print(create_platform_key(name="bench platform", scopes=["usage:write"]).secret)


if __name__ == "__main__" and sys.argv[1:2] == ["platform-key"]:
    _issue_platform_key_inside_django()

"""Figure 2: metered deductions over HTTP against raw SQL doing the same writes (pgbench), same database."""

import json
from pathlib import Path

from bench.load import pgbench, wrk
from bench.results import Row, Target
from bench.settings import ROOT, WORK, BenchSettings

USAGE = "/api/v1/billing/credits/usage/"
BODY = json.dumps({"operation_type": "clustering"})
DEDUCT_SQL = ROOT / "bench" / "pgbench" / "deduct.sql"
METER_SQL = ROOT / "bench" / "pgbench" / "meter.sql"
APP_SQL = ROOT / "bench" / "pgbench" / "meter_app.sql"
TARGET = Target(0.5, at_most=False)


def _tokens_file(name: str, tokens: list[str]) -> Path:
    path = WORK / f"tokens-{name}.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


def _http(settings: BenchSettings, base_url: str, tokens: list[str], name: str) -> float:
    result = wrk(
        base_url + USAGE,
        seconds=settings.write_seconds,
        connections=settings.connections,
        post_tokens=_tokens_file(name, tokens),
        post_body=BODY,
    )
    if result.errors:
        raise RuntimeError(f"POST {USAGE} ({name}): {result.errors} errors under load")
    return result.rps


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
    for name, (variables, tokens) in runs.items():
        http = _http(settings, base_url, tokens, name)
        floor = pgbench(settings, DEDUCT_SQL, seconds=settings.write_seconds, variables=variables)
        every_write = pgbench(settings, METER_SQL, seconds=settings.write_seconds, variables=variables)
        app_statements = pgbench(settings, APP_SQL, seconds=settings.write_seconds, variables=variables)
        label = "1 hot account" if name == "hot" else f"{last - first + 1:,} accounts"
        rows += [
            Row(f"metering POST, {label}", http, "deductions/s", "SQL UPDATE+INSERT", floor, TARGET),
            Row(
                f"metering POST, {label}",
                http,
                "deductions/s",
                "SQL, all 5 writes",
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

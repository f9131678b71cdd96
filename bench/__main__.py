"""`make bench`: every figure of issue 7, each beside a baseline measured in the same run on this machine.

Steps: a fresh database with SQL-generated history, verify_ledger over it, gunicorn as `make serve` runs it,
wrk and pgbench load, Chromium for the front end, then profiles of whatever missed its target.
"""

import json
import subprocess
import sys
import time
from typing import Any

from bench import api_keys, database, frontend, reads, writes
from bench.results import Row, Target, format_table, machine, write_results
from bench.server import running
from bench.settings import RESULTS, WORK, BenchSettings

VERIFY_TIME_LIMIT = 45.0  # seconds: beyond it the check does not scale and the run moves on
PROFILE_BUDGET = 480.0  # no profiles once the run is this old: `make bench` must stay under 10 minutes


def log(message: str, started: float) -> None:
    print(f"[bench {time.monotonic() - started:6.1f}s] {message}", flush=True)


def memory_rows(
    small: database.VerifyRun, big: database.VerifyRun, rows: int, warm: float, after: float
) -> list[Row]:
    stopped = "" if big.finished else f"stopped at the {VERIFY_TIME_LIMIT:g} s limit: a lower bound"
    return [
        Row(
            "gunicorn worker peak RSS after load",
            after,
            "MiB",
            "after warm-up",
            warm,
            Target(1.5, at_most=True, source="bench"),
        ),
        Row(
            f"verify_ledger peak RSS, {rows:,} rows",
            big.peak_rss_mib,
            "MiB",
            "same, 10,000 rows",
            small.peak_rss_mib,
            Target(1.2, at_most=True, source="bench: it must stream"),
            note=stopped,
        ),
        Row(
            f"verify_ledger runtime, {rows:,} rows",
            big.seconds,
            "s",
            "same, 10,000 rows",
            small.seconds,
            Target(20, at_most=True, source="bench: one pass, not one per account"),
            note=stopped,
            lower_bound=not big.finished,
        ),
    ]


def profile_specs(rows: list[Row], fixtures: dict[str, Any]) -> list[dict[str, Any]]:
    """The request behind each missed figure, replayed in-process under pyinstrument."""
    by_prefix = {
        "balance": ("GET", reads.BALANCE, fixtures["small"]["access"], ""),
        "analytics": ("GET", reads.ANALYTICS.format(days=365), fixtures["big"]["access"], ""),
        "transactions page 1": ("GET", reads.TRANSACTIONS.format(page=1), fixtures["big"]["access"], ""),
        "transactions page 1000": (
            "GET",
            reads.TRANSACTIONS.format(page=1000),
            fixtures["big"]["access"],
            "",
        ),
        "metering": ("POST", writes.USAGE, fixtures["hot"]["access"], writes.BODY),
    }
    specs: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.as_json()["meets_target"] is not False:
            continue
        for prefix, (method, path, token, body) in by_prefix.items():
            if row.name.startswith(prefix):
                name = prefix.replace(" ", "-")
                specs[name] = {"name": name, "method": method, "path": path, "token": token, "body": body}
                specs[name]["requests"] = 300
                break
    return list(specs.values())


def profile(settings: BenchSettings, specs: list[dict[str, Any]]) -> dict[str, list[str]]:
    if not specs:
        return {}
    spec_file = WORK / "profile-specs.json"
    spec_file.write_text(json.dumps(specs))
    try:
        done = database.django(settings, "-m", "bench.profiling", str(WORK), str(spec_file))
    except subprocess.CalledProcessError as exc:  # a missing profiler must not cost the figures
        print(f"bench: profiling failed, no profiles:\n{exc.stderr[-2000:]}", file=sys.stderr)
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    started = time.monotonic()
    settings = BenchSettings()
    WORK.mkdir(parents=True, exist_ok=True)
    log(f"fresh database {settings.db_name}", started)
    database.recreate(settings)
    try:
        database.migrate(settings)
        fixtures = database.load_accounts(settings)
        database.load_history(settings, fixtures["small"]["account_id"], settings.small_rows, usage_logs=True)
        small_verify = database.verify_ledger(settings, VERIFY_TIME_LIMIT)
        log(f"loading {settings.big_rows:,} ledger rows in SQL", started)
        seconds = database.load_history(
            settings, fixtures["big"]["account_id"], settings.big_rows, usage_logs=False
        )
        log(f"loaded in {seconds:.0f} s; verify_ledger over them", started)
        big_verify = database.verify_ledger(settings, VERIFY_TIME_LIMIT)
        rows, (warm_rss, loaded_rss) = run_server_figures(settings, fixtures, started)
        rows += memory_rows(small_verify, big_verify, settings.big_rows, warm_rss, loaded_rss)
        rows.append(frontend.bundle_row())
        profiles: dict[str, list[str]] = {}
        if time.monotonic() - started < PROFILE_BUDGET:
            log("profiling what missed its target", started)
            profiles = profile(settings, profile_specs(rows, fixtures))
        if not big_verify.finished:
            profiles["verify_ledger (EXPLAIN of its summary query)"] = database.explain_verify(settings)
        info = machine(database.server_version(settings))
    finally:
        if not settings.keep_db:
            database.drop(settings)
    elapsed = time.monotonic() - started
    print()
    print(format_table(rows))
    # Lines: "own" = a function's own time, "app" = creditdesk's functions by cumulative time, both as a
    # share of the profiled requests; pyinstrument's whole tree is in bench/.work/<name>.txt.
    for name, frames in profiles.items():
        print(f"\nprofile {name}:")
        print("\n".join(f"  {frame}" for frame in frames))
    print(f"\nmachine: {info}; bench took {elapsed:.0f} s")
    write_results(RESULTS, rows, info, elapsed, profiles)
    return 0


def run_server_figures(
    settings: BenchSettings, fixtures: dict[str, Any], started: float
) -> tuple[list[Row], tuple[float, float]]:
    """Every HTTP figure on one server; also its workers' peak RSS after warm-up and after the load."""
    with running(settings) as server:
        client = reads.Client(server.base_url, settings)
        small, big, hot = fixtures["small"], fixtures["big"], fixtures["hot"]
        reads.warm_up(client, small["access"])
        warm = server.worker_peak_rss_mib()
        log(f"gunicorn on {server.base_url} ({settings.workers} workers): reads", started)
        rows = reads.read_figures(client, small["access"])
        log("history independence", started)
        rows += reads.history_figures(
            client, small["access"], big["access"], settings.small_rows, settings.big_rows
        )
        log("metering writes against pgbench", started)
        first, last = fixtures["spread_ids"]
        rows += writes.write_figures(
            settings, server.base_url, (hot["account_id"], hot["access"]), (first, last, fixtures["spread"])
        )
        rows += api_keys.api_key_figures(settings, server.base_url, hot["account_id"], hot["access"])
        log("front end in Chromium", started)
        rows += frontend.render_rows(server.base_url, small["access"], small["refresh"])
        loaded = server.worker_peak_rss_mib()
    return rows, (warm, loaded)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as exc:
        print(f"bench failed: {exc.cmd}\n{exc.stdout}\n{exc.stderr}", file=sys.stderr)
        sys.exit(1)

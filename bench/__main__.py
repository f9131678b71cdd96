"""`make bench`: every figure of issue 7, each beside a baseline measured in the same run on this machine.

Steps: a fresh database with SQL-generated history, verify_ledger over it, gunicorn as `make serve` runs it,
wrk and pgbench load, Chromium for the front end, then profiles of whatever missed its target.
"""

import argparse
import json
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

from bench import api_keys, database, frontend, reads, writes
from bench.results import Row, Target, format_table, machine, write_results
from bench.server import running
from bench.settings import RESULTS, WORK, BenchSettings

VERIFY_TIME_LIMIT = 45.0  # seconds: beyond it the check does not scale and the run moves on
PROFILE_BUDGET = 480.0  # no profiles once the run is this old: `make bench` must stay under 10 minutes


def log(message: str, started: float) -> None:
    print(f"[bench {time.monotonic() - started:6.1f}s] {message}", flush=True)


GROUPS = ("reads", "history", "writes", "scale-out", "frontend", "memory")


def memory_rows(
    small: database.VerifyRun, big: database.VerifyRun, settings: BenchSettings, warm: float, after: float
) -> list[Row]:
    rows = settings.big_rows
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
            f"same, {settings.small_rows:,} rows",
            small.peak_rss_mib,
            Target(1.2, at_most=True, source="bench: it must stream"),
            note=stopped,
        ),
        Row(
            f"verify_ledger runtime, {rows:,} rows",
            big.seconds,
            "s",
            f"same, {settings.small_rows:,} rows",
            small.seconds,
            Target(20, at_most=True, source="bench: one pass, not one per account"),
            note=stopped,
            lower_bound=not big.finished,
        ),
    ]


def profile_specs(rows: list[Row], fixtures: dict[str, Any], settings: BenchSettings) -> list[dict[str, Any]]:
    """The request behind each missed figure (every figure, in the smoke run), replayed in-process."""
    deep = f"transactions page {settings.deep_page:,}"
    # Longest prefix first: "transactions page 1" is also the start of "transactions page 1,000".
    by_prefix = {
        "balance": ("GET", reads.BALANCE, fixtures["small"]["access"], ""),
        "analytics": ("GET", reads.ANALYTICS.format(days=365), fixtures["big"]["access"], ""),
        deep: ("GET", reads.TRANSACTIONS.format(page=settings.deep_page), fixtures["big"]["access"], ""),
        "transactions page 1": ("GET", reads.TRANSACTIONS.format(page=1), fixtures["big"]["access"], ""),
        "metering": ("POST", writes.USAGE, fixtures["hot"]["access"], writes.BODY),
        "batch ingestion": ("POST", writes.BATCH, fixtures["hot"]["access"], "{}"),
    }
    specs: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.as_json()["meets_target"] is not False and not settings.smoke:
            continue
        for prefix, (method, path, token, body) in by_prefix.items():
            if row.name.startswith(prefix):
                name = prefix.replace(" ", "-").replace(",", "")
                specs[name] = {"name": name, "method": method, "path": path, "token": token, "body": body}
                specs[name]["requests"] = settings.profile_requests
                if prefix == "batch ingestion":  # a request is a thousand events: fewer of them
                    specs[name].update(
                        batch=settings.batch_events, requests=max(3, settings.profile_requests // 30)
                    )
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
        if settings.smoke:  # ... but the smoke run is there to prove that profiling works
            raise
        return {}
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data and a second of load per figure; fails unless every figure is produced",
    )
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated figure groups to run (default: all of {', '.join(GROUPS)})",
    )
    args = parser.parse_args(argv)
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = args.only - set(GROUPS)
    if unknown:
        parser.error(f"unknown figure groups: {', '.join(sorted(unknown))}")
    return args


def missing_figures(rows: list[Row]) -> list[str]:
    """Figures without a value, or without the baseline they are a ratio of."""
    return [
        row.name
        for row in rows
        if row.value is None or (row.baseline_name is not None and not row.baseline_value)
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    settings = BenchSettings.for_smoke() if args.smoke else BenchSettings()
    if "scale-out" in args.only:
        args.only.add("writes")  # its one-server figure is the spread metering figure
    else:
        settings = replace(settings, scale_out_instances=())
    WORK.mkdir(parents=True, exist_ok=True)
    log(f"fresh database {settings.db_name}", started)
    database.recreate(settings)
    try:
        database.migrate(settings)
        log("accounts and their tokens", started)
        fixtures = database.load_accounts(settings)
        log(f"loading {settings.small_rows:,} ledger rows with usage logs", started)
        database.load_history(settings, fixtures["small"]["account_id"], settings.small_rows, usage_logs=True)
        log("verify_ledger", started)
        small_verify = database.verify_ledger(settings, VERIFY_TIME_LIMIT)
        log(f"loading {settings.big_rows:,} ledger rows in SQL", started)
        seconds = database.load_history(
            settings, fixtures["big"]["account_id"], settings.big_rows, usage_logs=False
        )
        log(f"loaded in {seconds:.0f} s; verify_ledger over them", started)
        big_verify = database.verify_ledger(settings, VERIFY_TIME_LIMIT)
        rows, (warm_rss, loaded_rss) = run_server_figures(settings, fixtures, started, args.only)
        if "memory" in args.only:
            rows += memory_rows(small_verify, big_verify, settings, warm_rss, loaded_rss)
        if "frontend" in args.only:
            rows.append(frontend.bundle_row())
        profiles: dict[str, list[str]] = {}
        if time.monotonic() - started < PROFILE_BUDGET:
            log("profiling what missed its target", started)
            profiles = profile(settings, profile_specs(rows, fixtures, settings))
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
    if settings.smoke:
        write_results(WORK / "smoke-results.json", rows, info, elapsed, profiles)
        missing = missing_figures(rows)
        unprofiled = [
            spec for spec in profile_specs(rows, fixtures, settings) if not profiles.get(spec["name"])
        ]
        if missing or unprofiled:
            print(
                f"bench smoke FAILED: no figure for {missing}, no profile for {unprofiled}", file=sys.stderr
            )
            return 1
        print(f"bench smoke: all {len(rows)} figures and {len(profiles)} profiles produced")
        return 0
    write_results(RESULTS, rows, info, elapsed, profiles)
    return 0


def run_server_figures(
    settings: BenchSettings, fixtures: dict[str, Any], started: float, only: set[str]
) -> tuple[list[Row], tuple[float, float]]:
    """Every HTTP figure on one server; also its workers' peak RSS after warm-up and after the load."""
    rows: list[Row] = []
    with running(settings) as server:
        client = reads.Client(server.base_url, settings)
        small, big, hot = fixtures["small"], fixtures["big"], fixtures["hot"]
        reads.warm_up(client, small["access"])
        warm = server.worker_peak_rss_mib()
        if "reads" in only:
            log(f"gunicorn on {server.base_url} ({settings.workers} workers): reads", started)
            rows += reads.read_figures(client, small["access"])
        if "history" in only:
            log("history independence", started)
            rows += reads.history_figures(
                client,
                small["access"],
                big["access"],
                settings.small_rows,
                settings.big_rows,
                settings.deep_page,
            )
        first, last = fixtures["spread_ids"]
        if "writes" in only:
            log("metering writes against pgbench", started)
            rows += writes.write_figures(
                settings,
                server.base_url,
                (hot["account_id"], hot["access"]),
                (first, last, fixtures["spread"]),
            )
            rows += api_keys.api_key_figures(settings, server.base_url, hot["account_id"], hot["access"])
        if "frontend" in only:
            log("front end in Chromium", started)
            rows += frontend.render_rows(
                server.base_url, small["access"], small["refresh"], settings.render_runs
            )
        loaded = server.worker_peak_rss_mib()
    spread = f"metering POST, {last - first + 1:,} accounts"
    one_server = next((row.value for row in rows if row.name == spread and row.value), None)
    if settings.scale_out_instances:
        if one_server is None:
            raise RuntimeError(f"scale-out: no one-server figure ({spread!r}) to compare with")
        log(f"scale-out: {spread} on {', '.join(map(str, settings.scale_out_instances))} servers", started)
        rows += writes.scale_out_figures(settings, fixtures["spread"], (first, last), one_server)
    return rows, (warm, loaded)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        print(f"bench failed: {exc.cmd}\n{exc.stdout}\n{exc.stderr}", file=sys.stderr)
        sys.exit(1)

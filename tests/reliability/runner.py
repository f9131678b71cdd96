"""Runs every numbered check of issue 6 and prints one row per check; non-zero exit if any fails.

python -m tests.reliability [--bounded] [--only 1,3,7] [--keep-db] [--strict]
"""

from __future__ import annotations

import argparse
import importlib
import time
import traceback
from dataclasses import dataclass, field

from tests.reliability import harness
from tests.reliability.core import BOUNDED, FULL, REGISTRY, Check, Result, Sizes

CHECK_MODULES = (
    "checks_ledger",
    "checks_ledger_v2",
    "checks_payments",
    "checks_security",
    "checks_db",
    "checks_schema",
    "checks_faults",
    "checks_inputs",
    "checks_events",
    "checks_api_keys",
    "checks_accounts",
    "checks_batch",
)


@dataclass
class Context:
    sizes: Sizes
    servers: list[harness.Server] = field(default_factory=list)
    _main: harness.Server | None = None

    def main_server(self) -> harness.Server:
        if self._main is None or self._main.process is None or self._main.process.poll() is not None:
            self._main = self.start(harness.DB_MAIN)
        return self._main

    def start(self, db: str, **kwargs: object) -> harness.Server:
        server = harness.Server(db=db, workers=self.sizes.workers, **kwargs)  # type: ignore[arg-type]
        self.servers.append(server)
        return server.start()

    def stop_all(self) -> None:
        for server in self.servers:
            server.stop()


@dataclass
class Row:
    check: Check
    result: Result
    seconds: float

    @property
    def verdict(self) -> str:
        if self.result.skipped:
            return "SKIP"
        return "PASS" if self.result.lost == 0 else "FAIL"


def run_one(check: Check, context: Context) -> Row:
    started = time.monotonic()
    try:
        result = check.run(context)
    except Exception as exc:
        result = Result(tried=check.title, count=0)
        result.fail(f"crashed: {exc!r}")
        result.notes.append(traceback.format_exc(limit=6))
    finally:
        harness.close_django_connections()
    return Row(check=check, result=result, seconds=time.monotonic() - started)


def print_table(rows: list[Row], sizes: Sizes) -> None:
    label = "bounded" if sizes.bounded else "full"
    print(f"\ncreditdesk reliability ({label} run) on PostgreSQL\n")
    header = f"{'#':>3}  {'check':<96} {'how many':>9} {'lost':>5} {'secs':>7}  result"
    print(header)
    print("-" * len(header))
    for row in rows:
        tried = (row.result.skipped and f"{row.result.tried} [{row.result.skipped}]") or row.result.tried
        print(
            f"{row.check.number:>3}  {tried[:96]:<96} {row.result.count:>9} {row.result.lost:>5} "
            f"{row.seconds:>7.1f}  {row.verdict}"
        )
    print("-" * len(header))


def print_notes(rows: list[Row]) -> None:
    for row in rows:
        if row.result.notes and row.verdict != "PASS":
            print(f"\nrow {row.check.number} ({row.verdict}):")
            for note in row.result.notes:
                print(f"  - {note}")


def prepare_databases() -> None:
    harness.create_database(harness.DB_MAIN)
    harness.setup_django(harness.DB_MAIN)
    harness.migrate()
    harness.close_django_connections()
    harness.create_database(harness.DB_BROKEN, template=harness.DB_MAIN)


def select(only: str | None) -> list[Check]:
    for name in CHECK_MODULES:
        importlib.import_module(f"tests.reliability.{name}")
    wanted = {part.strip() for part in only.split(",")} if only else None
    ordered = sorted(REGISTRY, key=lambda c: (int(c.number.rstrip("abcdefghijklmnopqrstuvwxyz")), c.number))
    return [c for c in ordered if wanted is None or c.number in wanted or c.number.rstrip("ab") in wanted]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make reliability")
    parser.add_argument("--bounded", action="store_true", help="small sizes for CI (make test)")
    parser.add_argument("--only", help="comma-separated row numbers")
    parser.add_argument("--keep-db", action="store_true", help="keep the databases for inspection")
    parser.add_argument("--strict", action="store_true", help="a skipped row (feature missing) fails")
    args = parser.parse_args(argv)
    sizes = BOUNDED if args.bounded else FULL
    started = time.monotonic()
    prepare_databases()
    context = Context(sizes=sizes)
    rows: list[Row] = []
    try:
        for check in select(args.only):
            print(f"row {check.number}: {check.title} ...", flush=True)
            rows.append(run_one(check, context))
            print(f"row {check.number}: {rows[-1].verdict} in {rows[-1].seconds:.1f}s", flush=True)
    finally:
        context.stop_all()
        harness.close_django_connections()
        if not args.keep_db:
            harness.drop_database(harness.DB_MAIN)
            harness.drop_database(harness.DB_BROKEN)
    print_table(rows, sizes)
    print_notes(rows)
    failed = [r for r in rows if r.verdict == "FAIL" or (args.strict and r.verdict == "SKIP")]
    print(f"\n{len(rows) - len(failed)}/{len(rows)} rows passed in {time.monotonic() - started:.0f}s")
    # The plain closing line test reporters read: rows are the suite's tests.
    print(f"reliability: {len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0

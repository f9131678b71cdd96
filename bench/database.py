"""The bench's own PostgreSQL database: created fresh, migrated, loaded, checked, dropped."""

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.settings import ROOT, VENV_BIN, WORK, BenchSettings


def _admin(settings: BenchSettings) -> psycopg.Connection:
    return psycopg.connect(f"{settings.pg_url}/postgres", autocommit=True)


def recreate(settings: BenchSettings) -> None:
    with _admin(settings) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{settings.db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{settings.db_name}"')


def drop(settings: BenchSettings) -> None:
    with _admin(settings) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{settings.db_name}" WITH (FORCE)')


def server_version(settings: BenchSettings) -> str:
    with _admin(settings) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


def django(settings: BenchSettings, *args: str) -> subprocess.CompletedProcess[str]:
    """Runs a Django entry point (manage.py or a bench module) with the server's environment."""
    return subprocess.run(
        [str(VENV_BIN / "python"), *args],
        cwd=ROOT,
        env=settings.server_env(),
        check=True,
        capture_output=True,
        text=True,
    )


def migrate(settings: BenchSettings) -> None:
    django(settings, "manage.py", "migrate", "--noinput", "-v", "0")


def load_accounts(settings: BenchSettings) -> dict[str, Any]:
    out = WORK / "fixtures.json"
    django(settings, "-m", "bench.fixtures", "accounts", str(out), str(settings.spread_accounts))
    return json.loads(out.read_text())


def load_history(settings: BenchSettings, account_id: int, rows: int, *, usage_logs: bool) -> float:
    started = time.monotonic()
    mode = "with-usage" if usage_logs else "ledger-only"
    days = str(settings.history_days)
    django(settings, "-m", "bench.fixtures", "history", str(account_id), str(rows), days, mode)
    return time.monotonic() - started


@dataclass(frozen=True)
class VerifyRun:
    peak_rss_mib: float
    seconds: float
    finished: bool  # False: stopped at the time limit, the peak is the peak so far
    output: str


def verify_ledger(settings: BenchSettings, time_limit: float) -> VerifyRun:
    """Runs `manage.py verify_ledger`, sampling its VmHWM (peak RSS) from /proc until it exits.

    The time limit keeps `make bench` under ten minutes when the check does not scale; the run then
    reports the peak so far and says it was stopped.
    """
    started = time.monotonic()
    log = WORK / "verify_ledger.log"
    with log.open("w") as out:
        child = subprocess.Popen(
            [str(VENV_BIN / "python"), "manage.py", "verify_ledger"],
            cwd=ROOT,
            env=settings.server_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        peak_kb = 0
        while child.poll() is None and time.monotonic() - started < time_limit:
            peak_kb = max(peak_kb, proc_status_kb(child.pid, "VmHWM"))
            time.sleep(0.05)
        finished = child.poll() is not None
        if not finished:
            child.kill()
            # PostgreSQL keeps running a query whose client died: stop it, or it loads the next figures.
            terminate_backends(settings)
        child.wait()
    seconds = time.monotonic() - started
    output = log.read_text()
    if finished and child.returncode != 0:
        raise RuntimeError(f"verify_ledger found drift:\n{output}")
    return VerifyRun(peak_rss_mib=peak_kb / 1024, seconds=seconds, finished=finished, output=output)


def terminate_backends(settings: BenchSettings) -> None:
    with _admin(settings) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [settings.db_name],
        )


EXPLAIN_VERIFY = (
    "from django.db import connection;"
    "from creditdesk.billing.services.verification import SUMMARY_SQL;"
    "cursor = connection.cursor(); cursor.execute('EXPLAIN ' + SUMMARY_SQL);"
    "print('\\n'.join(row[0] for row in cursor.fetchall()))"
)


def explain_verify(settings: BenchSettings) -> list[str]:
    """verify_ledger's summary query plan: its profile, when it does not finish in time."""
    env = settings.server_env()
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import django; django.setup();" + EXPLAIN_VERIFY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines() or [done.stderr[-500:]]


def proc_status_kb(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmHWM: peak RSS); 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return 0

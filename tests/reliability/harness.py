"""Plumbing shared by the checks: databases, Django in-process, gunicorn servers and HTTP clients."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
PG_HOST = "127.0.0.1:5432"
# Overridable so that two runs (say `make test` and `make reliability`) never share a database or a port.
DB_MAIN = os.environ.get("RELIABILITY_DB", "creditdesk_reliability")
DB_BROKEN = f"{DB_MAIN}_broken"
SECRET_KEY = "reliability-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH"
WEBHOOK_SECRET = "whsec_reliability_0123456789abcdef"
LOG_DIR = Path(os.environ.get("RELIABILITY_LOG_DIR", f"/tmp/{DB_MAIN}"))
PORT_BASE = int(os.environ.get("RELIABILITY_PORT_BASE", "19010"))  # the suite binds 19000-19099 only
PORTS = iter(range(PORT_BASE, min(PORT_BASE + 40, 19100)))

T = TypeVar("T")
R = TypeVar("R")


def db_url(name: str) -> str:
    return f"postgres://postgres@{PG_HOST}/{name}"


def server_env(db: str, **extra: str) -> dict[str, str]:
    """The environment of `make serve` (production settings) on the given database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=db_url(db),
        SECURE_SSL_REDIRECT="0",
        API_RATE_LIMIT="off",
        LOGIN_RATE_LIMIT="off",
        INVITATION_ACCOUNT_RATE_LIMIT="off",
        INVITATION_RECIPIENT_RATE_LIMIT="off",
        CACHE_URL=os.environ.get("RELIABILITY_CACHE_URL", "redis://127.0.0.1:6379/0"),
        BILLING_SANDBOX="1",
        # No Stripe API key on the servers: no request (schemathesis') can reach Stripe's network. The
        # webhook needs only its signing secret; Stripe purchases are started in-process (fake_checkout).
        STRIPE_SECRET_KEY="",
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        JWT_ACCESS_MINUTES="240",
        # As in production: tasks queue in the database (no worker unless a row starts one), and webhooks
        # go to public https addresses only (pytest's settings loosen both in os.environ).
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        WEBHOOK_ALLOW_PRIVATE_URLS="0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


# --- Databases ---------------------------------------------------------------------------------------------


def admin_sql(sql: str) -> None:
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def terminate_connections(db: str, *, exclude_pid: int | None = None) -> int:
    query = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    params: list[Any] = [db]
    if exclude_pid is not None:
        query += " AND pid <> %s"
        params.append(exclude_pid)
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        return len(conn.execute(query, params).fetchall())  # type: ignore[arg-type]


def drop_database(db: str) -> None:
    terminate_connections(db)
    admin_sql(f'DROP DATABASE IF EXISTS "{db}"')


def create_database(db: str, *, template: str | None = None) -> None:
    drop_database(db)
    suffix = f' TEMPLATE "{template}"' if template else ""
    if template:
        terminate_connections(template)
    admin_sql(f'CREATE DATABASE "{db}"{suffix}')


@contextlib.contextmanager
def sql(db: str = DB_MAIN) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url(db), autocommit=True) as conn:
        yield conn


def scalar(db: str, query: str, params: Sequence[Any] = ()) -> Any:
    with sql(db) as conn:
        row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    return None if row is None else row[0]


def setup_django(db: str) -> None:
    """Configures Django in this process on `db` (test settings, same SECRET_KEY as the servers)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    os.environ["DATABASE_URL"] = db_url(db)
    os.environ["SECRET_KEY"] = SECRET_KEY
    os.environ["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    os.environ["STRIPE_SECRET_KEY"] = "sk_test_reliability_dummy_never_called"
    os.environ["BILLING_SANDBOX"] = "1"
    os.environ["INVITATION_ACCOUNT_RATE_LIMIT"] = "off"  # the rows invite in-process to build their worlds
    os.environ["INVITATION_RECIPIENT_RATE_LIMIT"] = "off"
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def close_django_connections() -> None:
    from django.db import connections

    connections.close_all()


# --- Servers -----------------------------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn of the production settings (`make serve`), started and stopped by the suite."""

    db: str
    workers: int
    app: str = "config.wsgi:application"
    port: int = field(default_factory=lambda: next(PORTS))
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"gunicorn-{self.port}.log", "ab")  # noqa: SIM115 (the child owns it)
        command = [
            str(VENV_BIN / "gunicorn"),
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "20",
            "--timeout",
            "60",
        ]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=server_env(self.db, **self.extra_env), stdout=log, stderr=log
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn on {self.port} exited; see {LOG_DIR}/gunicorn-{self.port}.log")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/api/v1/health/", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn on {self.port} not ready after {timeout}s")

    def stop(self, timeout: float = 30) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- HTTP ----------------------------------------------------------------------------------------------------

_local = threading.local()


def session() -> requests.Session:
    current = getattr(_local, "session", None)
    if current is None:
        current = requests.Session()
        _local.session = current
    return current


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]  # case-insensitive

    @property
    def data(self) -> Any:
        return self.body.get("data") if isinstance(self.body, dict) else None


def call(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 60,
) -> Reply:
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    if raw is not None:
        all_headers.setdefault("Content-Type", "application/json")
        response = session().request(method, url, data=raw, headers=all_headers, timeout=timeout)
    else:
        json_body = body if method.upper() not in {"GET", "DELETE", "HEAD"} or body is not None else None
        response = session().request(method, url, json=json_body, headers=all_headers, timeout=timeout)
    try:
        parsed = response.json()
    except ValueError:
        parsed = response.text
    return Reply(status=response.status_code, body=parsed, headers=response.headers)


def parallel(items: Sequence[T], work: Callable[[T], R], *, threads: int) -> list[R]:
    """Runs work(item) for every item on `threads` threads, started together; results in item order."""
    barrier = threading.Barrier(min(threads, len(items)) or 1)

    def run(item: T) -> R:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        return work(item)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, items))


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def verify_ledger(db: str) -> tuple[bool, str]:
    """`manage.py verify_ledger`: in-process on the suite's own database, else in a subprocess."""
    if db != DB_MAIN:
        result = run_manage("verify_ledger", env=server_env(db))
        return result.returncode == 0, (result.stdout + result.stderr).strip()
    import io

    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError as exc:
        return False, f"{err.getvalue()}{exc}"
    return True, out.getvalue().strip()


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)

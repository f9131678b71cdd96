"""Where the bench runs: its database, port range, durations and the environment of the server under test."""

import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"  # git-ignored scratch: logs, tokens, profiles
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results.json"

# Ports the bench may bind (other agents own the rest); BENCH_PORT_BASE moves the window of 100.
_PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", 18000))
PORT_RANGE = range(_PORT_BASE, _PORT_BASE + 100)


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class BenchSettings:
    db_name: str = os.environ.get("BENCH_DB", "creditdesk_bench")
    pg_url: str = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
    read_seconds: float = _seconds("BENCH_READ_SECONDS", 4)
    write_seconds: float = _seconds("BENCH_WRITE_SECONDS", 5)
    latency_seconds: float = _seconds("BENCH_LATENCY_SECONDS", 3)
    connections: int = 16
    big_rows: int = int(os.environ.get("BENCH_BIG_ROWS", 1_000_000))
    small_rows: int = 10_000
    deep_page: int = 1_000  # of the big account's transactions, 25 a page
    batch_events: int = 1_000  # per POST billing/credits/usage/batch/ (its maximum)
    batch_connections: int = 4  # a batch is a long request: fewer connections keep the lock queue short
    spread_accounts: int = 1_000
    history_days: int = 400  # longer than analytics' 365-day window, so days=365 is full
    keep_db: bool = os.environ.get("BENCH_KEEP_DB", "") == "1"
    workers: int = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
    secret_key: str = "bench-only-secret-key-long-enough-for-hs256-signing-0123456789"
    # The smoke run (`make bench-smoke`, part of `make test`): tiny data, a second of load per figure;
    # it proves that every figure can be produced, not what it is.
    smoke: bool = False
    profile_requests: int = 300
    render_runs: int = 5
    scale_out_instances: tuple[int, ...] = (1, 2, 3)  # 1: the server of every other figure

    @classmethod
    def for_smoke(cls) -> "BenchSettings":
        # Beside the test database of the same run, so that parallel `make test`s do not collide.
        name = os.environ.get("BENCH_DB") or f"{os.environ.get('TEST_DB_NAME', 'creditdesk')}_bench_smoke"
        return replace(
            cls(),
            db_name=name,
            read_seconds=1,
            write_seconds=1,
            latency_seconds=1,
            connections=4,
            big_rows=5_000,
            small_rows=1_000,
            deep_page=100,
            batch_events=20,
            batch_connections=2,
            spread_accounts=50,
            history_days=400,
            workers=1,
            smoke=True,
            profile_requests=3,
            render_runs=1,
            scale_out_instances=(1, 2),  # the machinery, not the figure
        )

    @property
    def database_url(self) -> str:
        return f"{self.pg_url}/{self.db_name}"

    def server_env(self) -> dict[str, str]:
        """The environment of `make serve` with the bench's overrides (why: see bench/README.md)."""
        env = dict(os.environ)
        env.update(
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            DATABASE_URL=self.database_url,
            CACHE_URL=os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/0"),
            SECURE_SSL_REDIRECT="0",  # wrk speaks plain HTTP; a redirect would measure nothing
            API_RATE_LIMIT="off",  # the load is one user per token: a throttle would cap it
            LOGIN_RATE_LIMIT="off",
            JWT_ACCESS_MINUTES="120",  # the run must not outlive its tokens
            ALLOWED_HOSTS="localhost,127.0.0.1,testserver",
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="config.settings",
        )
        return env


def free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}")

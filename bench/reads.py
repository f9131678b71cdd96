"""Figures 1 and 3: read endpoints over HTTP against the same server's health endpoint."""

import urllib.request
from dataclasses import dataclass
from statistics import mean

from bench.load import WrkResult, wrk
from bench.results import Row, Target
from bench.settings import BenchSettings

HEALTH = "/api/v1/health/"
BALANCE = "/api/v1/billing/credits/balance/balance/"
TRANSACTIONS = "/api/v1/billing/transactions/?page={page}"
USAGE_LOGS = "/api/v1/billing/credits/usage/?page=1"
ANALYTICS = "/api/v1/account/usage/analytics/?days={days}"

# Targets on requests/s as a share of health's (issue 15 set balance's at 0.6: health authenticates nobody).
READS: list[tuple[str, str, Target | None]] = [
    ("balance", BALANCE, Target(0.6, at_most=False, source="issue 15")),
    ("transactions page 1", TRANSACTIONS.format(page=1), None),
    ("usage logs page 1", USAGE_LOGS, None),
    ("analytics days=30", ANALYTICS.format(days=30), Target(0.5, at_most=False)),
    ("analytics days=365", ANALYTICS.format(days=365), Target(0.5, at_most=False)),
]
HISTORY_TARGET = Target(1.2, at_most=True)


@dataclass(frozen=True)
class Client:
    base_url: str
    settings: BenchSettings

    def get(self, path: str, token: str | None = None) -> None:
        """One request outside the measurement (warm-up, and proof that the path answers 200)."""
        request = urllib.request.Request(self.base_url + path)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}")

    def load(self, path: str, token: str | None = None, connections: int | None = None) -> WrkResult:
        result = wrk(
            self.base_url + path,
            seconds=self.settings.read_seconds if connections is None else self.settings.latency_seconds,
            connections=connections or self.settings.connections,
            token=token,
        )
        if result.errors:
            raise RuntimeError(f"GET {path}: {result.errors} errors under load")
        return result


def warm_up(client: Client, token: str) -> None:
    # Every worker imports lazily and opens its database connection on first use: not what we measure.
    for _ in range(3 * client.settings.workers):
        client.get(HEALTH)
        for _name, path, _target in READS:
            client.get(path, token)


def read_figures(client: Client, token: str) -> list[Row]:
    """Health is measured before and after the endpoints; its mean is the baseline (drift on a shared box)."""
    before = client.load(HEALTH)
    measured = [(name, client.load(path, token), target) for name, path, target in READS]
    after = client.load(HEALTH)
    health_rps = mean([before.rps, after.rps])
    health_p50 = mean([before.p50_ms, after.p50_ms])
    health_p99 = mean([before.p99_ms, after.p99_ms])
    rows = [Row("health", health_rps, "req/s", note="baseline: mean of the runs before and after")]
    for name, result, target in measured:
        rows += [
            Row(f"{name}", result.rps, "req/s", "health", health_rps, target),
            Row(f"{name} p50", result.p50_ms, "ms", "health p50", health_p50),
            Row(f"{name} p99", result.p99_ms, "ms", "health p99", health_p99),
        ]
    return rows


def history_figures(
    client: Client, small_token: str, big_token: str, small_rows: int, big_rows: int, deep: int = 1000
) -> list[Row]:
    """Latency at one connection (p50) for the 1M-row account against the 10k-row one, same requests."""
    analytics = ANALYTICS.format(days=365)
    page_1 = TRANSACTIONS.format(page=1)
    page_1000 = TRANSACTIONS.format(page=deep)
    for path in (analytics, page_1, page_1000):
        client.get(path, big_token)
    small_analytics = client.load(analytics, small_token, connections=1)
    big_analytics = client.load(analytics, big_token, connections=1)
    small_page = client.load(page_1, small_token, connections=1)
    big_page = client.load(page_1, big_token, connections=1)
    deep_page = client.load(page_1000, big_token, connections=1)
    big, small = f"{big_rows:,} rows", f"{small_rows:,} rows"
    return [
        Row(
            f"analytics days=365 p50, {big}",
            big_analytics.p50_ms,
            "ms",
            f"same, {small}",
            small_analytics.p50_ms,
            HISTORY_TARGET,
        ),
        Row(
            f"transactions page 1 p50, {big}",
            big_page.p50_ms,
            "ms",
            f"same, {small}",
            small_page.p50_ms,
            HISTORY_TARGET,
        ),
        Row(
            f"transactions page {deep:,} p50, {big}",
            deep_page.p50_ms,
            "ms",
            f"page 1, {big}",
            big_page.p50_ms,
            Target(1.2, at_most=True, source="issue 15"),
        ),
    ]

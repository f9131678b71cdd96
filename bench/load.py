"""Load generators: wrk for HTTP, pgbench for the raw-SQL baselines. Both report through parsed stdout."""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.settings import ROOT, BenchSettings

WRK_SCRIPT = ROOT / "bench" / "wrk" / "bench.lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors plus non-2xx answers: a figure with errors is not a figure

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    token: str | None = None,
    post_tokens: Path | None = None,
    post_body: str = "",
    batch: tuple[object, ...] | None = None,
) -> WrkResult:
    """`batch` (events per request, a run id[, accounts file, accounts per request]): POST generated
    batches instead of post_body; with an accounts file each event names its account (bench.lua)."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    command += ["-s", str(WRK_SCRIPT), url]
    if post_tokens is not None:
        command += ["--", str(post_tokens), post_body]
        if batch is not None:
            command += [str(part) for part in batch]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    match = re.search(r"^BENCH_JSON (.*)$", done.stdout, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no result for {url}:\n{done.stdout}\n{done.stderr}")
    data = json.loads(match.group(1))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["socket_errors"] + data["non_2xx"],
    )


def pgbench(settings: BenchSettings, script: Path, *, seconds: float, variables: dict[str, int]) -> float:
    """Transactions per second of a custom pgbench script on the bench database (16 clients)."""
    binary = shutil.which("pgbench") or "/usr/bin/pgbench"
    command = [
        binary,
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-n",  # no vacuum of pgbench's own tables: the bench has none
        "-f",
        str(script),
        "-c",
        str(settings.connections),
        "-j",
        "2",
        "-T",
        str(round(seconds)),
    ]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    command.append(settings.db_name)
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if match is None or (failed and int(failed.group(1))):
        raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    return float(match.group(1))

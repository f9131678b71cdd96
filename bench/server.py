"""The server under test: gunicorn started the way `make serve` starts it, stopped at the end."""

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.database import proc_status_kb
from bench.settings import ROOT, VENV_BIN, WORK, BenchSettings, free_port


@dataclass(frozen=True)
class Server:
    base_url: str
    master: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def worker_peak_rss_mib(self) -> float:
        return max(proc_status_kb(pid, "VmHWM") for pid in self.worker_pids()) / 1024


def _command(settings: BenchSettings, port: int) -> list[str]:
    # As in the Makefile's `serve` target: same app, workers and logging (collectstatic is skipped: the
    # API and the SPA's assets do not go through the static manifest, and var/static is shared).
    return [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(settings.workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "20",
    ]


def _wait_healthy(base_url: str, master: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if master.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {master.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v1/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /api/v1/health/ in time")


@contextmanager
def running(settings: BenchSettings, name: str = "gunicorn") -> Iterator[Server]:
    port = free_port()
    log_path = WORK / f"{name}.log"
    log = log_path.open("wb")
    master = subprocess.Popen(
        _command(settings, port), cwd=ROOT, env=settings.server_env(), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        server = Server(base_url=f"http://127.0.0.1:{port}", master=master)
        # Waited for before the caller may start another instance: free_port() must see this port bound.
        _wait_healthy(server.base_url, master, log_path)
        yield server
    finally:
        master.terminate()  # SIGTERM: gunicorn's graceful stop of its own workers
        try:
            master.wait(timeout=30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()
        log.close()

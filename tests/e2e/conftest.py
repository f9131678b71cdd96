"""Browser tests: a real server (migrated, catalogue seeded) on a free port, driven by Debian's Chromium."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m "not e2e"` sees the marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _build_frontend() -> None:
    """The server serves frontend/dist; build it when missing so the tests can run from a fresh clone."""
    if (FRONTEND / "dist" / "index.html").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("frontend/dist is missing and npm is not installed: run `make frontend` first")
    if not (FRONTEND / "node_modules").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    subprocess.run([npm, "run", "build"], cwd=FRONTEND, check=True)


def _wait_for_health(base_url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/v1/health/", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"the server did not answer /api/v1/health/ within {timeout}s:\n{log.read_text()}")


SERVER_LOG = pytest.StashKey[Path]()
WORKER_LOG = pytest.StashKey[Path]()
SERVER_ENV = pytest.StashKey[dict]()


# Not named live_server: pytest-django reserves that name and would set up a test database for it.
@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[str]:
    _build_frontend()
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        # The real settings, not pytest's test settings: real password hashing, mail on the console.
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite3'}",
        "BILLING_SANDBOX": "1",
        "DEBUG": "1",
        "API_RATE_LIMIT": "off",
        "PYTHONUNBUFFERED": "1",
        # pytest's settings put tasks on the immediate backend in os.environ; the server queues for the worker.
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    pytestconfig.stash[SERVER_ENV] = env
    manage = [_python(), "manage.py"]
    for command in (["migrate", "--noinput"], ["seed_catalog"]):
        done = subprocess.run(
            manage + command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")

    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp / "server.log"
    pytestconfig.stash[SERVER_LOG] = log  # the console email backend writes the mail there
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        # The background worker beside the server, as `make run` starts it (webhooks, alert emails).
        worker_log = tmp / "worker.log"
        pytestconfig.stash[WORKER_LOG] = worker_log
        worker = subprocess.Popen(
            [*manage, "run_worker", "--interval", "0.5"],
            cwd=REPO,
            env=env,
            stdout=worker_log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_health(base_url, server, log)
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{worker_log.read_text()}")
            yield base_url
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server_url: str):
    context = browser.new_context(base_url=server_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Chromium reports every Content-Security-Policy violation on the console: a page that needs something
    # the policy refuses (an inline style, a script from elsewhere) fails the test that opened it.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert violations == [], violations


@pytest.fixture
def screenshot(page):
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


class Api:
    """Direct API calls with the signed-in browser user's token, for what a person cannot click."""

    def __init__(self, base_url: str, page) -> None:
        self.base_url = base_url
        self.page = page

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        token = self.page.evaluate("localStorage.getItem('creditdesk.access')")
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def get(self, path: str):
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body["data"]


@pytest.fixture
def api(server_url: str, page) -> Api:
    return Api(server_url, page)


@pytest.fixture
def operator(server_url: str, pytestconfig: pytest.Config):
    """Runs Python as staff would, against the server's database (e.g. approving a bank transfer)."""

    def run(code: str) -> str:
        done = subprocess.run(
            [_python(), "manage.py", "shell", "-c", code],
            cwd=REPO,
            env=pytestconfig.stash[SERVER_ENV],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture
def invitation_path(server_url: str, pytestconfig: pytest.Config):
    """The path of the accept link in the last invitation mailed to an address."""

    def find(email: str) -> str:
        messages = [
            m for m in pytestconfig.stash[SERVER_LOG].read_text().split("-" * 79) if f"To: {email}" in m
        ]
        assert messages, f"no mail to {email} in the server's log"
        match = re.search(r"/accept-invitation\?token=[\w-]+", messages[-1])
        assert match, messages[-1]
        return match.group(0)

    return find


@pytest.fixture
def worker_log(server_url: str, pytestconfig: pytest.Config) -> Path:
    """The background worker's output (the console email backend writes its mails there)."""
    return pytestconfig.stash[WORKER_LOG]

"""Fixtures of the real-browser tests: a daphne server in a subprocess on the pytest test database and the real
Redis channel layer, and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.browser.artifacts import call_failed, pytest_runtest_makereport  # noqa: F401 (screenshots of a failed test)
from tests.conftest import REQUIRE_SERVICES, shared_database_url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 30
# In the tests of live delivery (server_heartbeat_seconds overridden), the server's heartbeat is longer than the
# delivery they wait for, so that what arrives in time came by the push after commit, not by the heartbeat's
# catch-up of missed events.
SERVER_HEARTBEAT_SECONDS = 60
# A live update reaches an open page within the publish timeout, plus a margin for a loaded machine.
LIVE_DELIVERY_SECONDS = settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS + 10
# A real server, a browser and sometimes a restart or a worker, on a loaded 2-core machine: more than the suite's limit.
BROWSER_TEST_SECONDS = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_SECONDS))


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (HELPDESK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_healthy(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"daphne did not answer /healthz within {SERVER_START_SECONDS} s:\n{log.read_text(errors='replace')}")


@pytest.fixture
def chromium_executable() -> Path:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


class LiveServer:
    """A real daphne serving the project on a loopback port; it can be stopped and started again on the same port,
    as an operator restarting it would."""

    def __init__(self, *, port: int, env: dict[str, str], log: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        daphne = Path(sys.executable).with_name("daphne")
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [str(daphne), "-b", "127.0.0.1", "-p", str(self.port), "helpdesk.asgi:application"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        _wait_until_healthy(self.process, self.url, self.log)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def server_heartbeat_seconds() -> float:
    """The server's console heartbeat: the project's setting unless a test module says otherwise."""
    return settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS


@pytest.fixture
def daphne_server(chromium_executable, transactional_db, require_redis_layer, tmp_path, server_heartbeat_seconds):
    """daphne on a free port, on the pytest test database (so it sees the committed test data) and the real Redis
    layer. It is stopped before the test database is flushed."""
    if connection.vendor != "postgresql" or "DATABASE_URL" not in os.environ:
        _unavailable("the browser tests need PostgreSQL (DATABASE_URL) so that the server sees the test data")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The console socket opens only for pages of the site's public origin.
        "HELPDESK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "tests.browser.settings",
        "HELPDESK_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
        "HELPDESK_CONSOLE_HEARTBEAT_SECONDS": str(server_heartbeat_seconds),
    }
    server = LiveServer(port=port, env=env, log=tmp_path / "daphne.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser(chromium_executable, daphne_server):
    """Headless chromium. It depends on the server so that it closes first, before the database is flushed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def escalation_worker(daphne_server, tmp_path):
    """`manage.py escalation_worker` beside the live server, on its database and settings; stopped (SIGTERM) before
    the server and the test database."""
    with (tmp_path / "worker.log").open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "escalation_worker", "--name", "browser-test"],
            cwd=settings.BASE_DIR,
            env=daphne_server.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# Where a failed browser test leaves screenshots of its pages (CI keeps the folder as an artifact).
ARTIFACTS = Path(os.environ.get("HELPDESK_TEST_ARTIFACTS") or settings.BASE_DIR / "test-artifacts")


@pytest.fixture
def screenshots_on_failure(request, browser):
    """A list to put the test's pages in: if the test fails, each is saved as
    `test-artifacts/<test>-<n>.png` before the browser closes."""
    pages: list = []
    yield pages
    if request.node.stash.get(call_failed, False):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "".join(char if char.isalnum() or char in "-_" else "_" for char in request.node.name)
        for number, page in enumerate(pages):
            if not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / f"{name}-{number}.png"), full_page=True)

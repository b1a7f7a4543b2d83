"""A PostgreSQL that hangs costs a request seconds, never forever: connections give up after the connect timeout,
statements after the statement timeout, and /healthz answers within its check timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection

from helpdesk import health

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word, like a hung PostgreSQL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for client in accepted:
        client.close()
    listener.close()


def test_connecting_to_a_database_that_never_answers_fails_within_the_connect_timeout(silent_server):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": ROOT,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_SECRET_KEY": "k",
        "DATABASE_URL": f"postgres://helpdesk@127.0.0.1:{silent_server}/helpdesk",
        "DATABASE_CONNECT_TIMEOUT": "1",
    }
    code = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "OperationalError" in result.stderr
    # Starting Django takes a moment on a loaded machine; without the timeout the connection waits forever.
    assert time.monotonic() - started < 15


@pytest.mark.django_db
def test_statements_of_the_application_have_a_timeout():
    if connection.vendor != "postgresql":
        pytest.skip("the statement timeout is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "30s"


@pytest.fixture
def hung_database(monkeypatch):
    """The database round trip of /healthz hangs until the test ends (at the latest after 20 s)."""
    release = threading.Event()
    calls: list[float] = []

    def hang() -> dict:
        calls.append(time.monotonic())
        release.wait(timeout=20)
        return {"vendor": "hung"}

    monkeypatch.setattr(health, "_database_round_trip", hang)
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.3)
    yield calls
    release.set()


@pytest.mark.django_db
async def test_healthz_answers_within_its_timeout_while_the_database_hangs(async_client, hung_database, settings):
    settings.HELPDESK_HEALTH_TOKEN = "monitoring"
    for _ in range(3):
        started = time.monotonic()
        response = await async_client.get("/healthz", headers={"authorization": "Bearer monitoring"})
        # A margin for a loaded machine, well under the 20 s the round trip hangs.
        assert time.monotonic() - started < health.CHECK_TIMEOUT + 10
        assert response.status_code == 503
        assert response.json()["database"] == "error"
    # The checks made while the first round trip hangs wait on it instead of piling up threads.
    assert len(hung_database) == 1

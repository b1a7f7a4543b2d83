"""The production command, scripts/serve: supervisord starts HELPDESK_WEB_PROCESSES daphne processes that serve on
one shared socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def listening_inode(port: int) -> int:
    """The inode of the socket listening on 127.0.0.1:`port`, from /proc/net/tcp."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":
            return int(fields[9])
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


def healthz(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        json.load(error)
        return error.code
    except OSError:
        return None


@pytest.fixture
def served(tmp_path):
    port = free_port()
    env = {**os.environ, "HELPDESK_WEB_PROCESSES": "2", "HELPDESK_PORT": str(port), "DJANGO_DEBUG": "0"}
    # scripts/serve keeps supervisord's pid file in a directory of its own under TMPDIR, left behind at the end.
    env["TMPDIR"] = str(tmp_path)
    env.setdefault("DJANGO_SECRET_KEY", "test")
    server = subprocess.Popen(
        [str(ROOT / "scripts" / "serve")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    yield server, port
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_two_daphne_processes_serve_on_one_socket(served):
    server, port = served
    deadline = time.monotonic() + DEADLINE
    while healthz(port) is None and time.monotonic() < deadline:
        assert server.poll() is None, "supervisord stopped"
        time.sleep(0.2)
    # /healthz answers (200, or 503 when a check fails: serving either way) on the port supervisord opened.
    assert healthz(port) in {200, 503}
    workers = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = [pid for pid in children(server.pid) if b"daphne" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        time.sleep(0.2)
    assert len(workers) == 2
    # Both accept on the one listening socket of the port, which supervisord opened and handed them.
    listening = f"socket:[{listening_inode(port)}]"
    for pid in workers:
        assert listening in {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}

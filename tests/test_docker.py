"""The container files, checked without a Docker engine: the compose topology, the image's user and command, and
that every variable they use is documented."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"
# ${NAME}, ${NAME:-default}, ${NAME:?error}; $${NAME} is an escaped dollar that the container's shell expands.
COMPOSE_VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)")


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_web_worker_and_a_mail_catcher_each_with_a_healthcheck(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "mailpit"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    for name, service in services.items():
        assert service["healthcheck"]["test"], name


def test_web_starts_only_when_postgres_and_redis_are_healthy(compose):
    web = compose["services"]["web"]
    assert web["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    environment = web["environment"]
    assert "@postgres:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379")
    assert str(environment["DJANGO_DEBUG"]) == "0"
    assert (ROOT / "docker" / web["build"]["context"] / web["build"]["dockerfile"]).resolve() == DOCKER / "Dockerfile"


def test_worker_runs_the_escalation_worker_from_the_web_image_once_the_web_is_healthy(compose):
    web, worker = compose["services"]["web"], compose["services"]["worker"]
    assert worker["command"] == ["python", "manage.py", "escalation_worker"]
    assert (worker["image"], worker["build"]) == (web["image"], web["build"])
    assert worker["environment"] == web["environment"]
    assert worker["depends_on"]["web"] == {"condition": "service_healthy"}
    assert worker["healthcheck"]["test"] == ["CMD", "python", "/app/docker/healthcheck.py", "--worker"]
    assert "ports" not in worker


def test_mail_goes_to_the_mail_catcher_whose_inbox_is_on_loopback(compose):
    environment = compose["services"]["web"]["environment"]
    assert (environment["EMAIL_BACKEND"], environment["EMAIL_HOST"], environment["EMAIL_PORT"]) == (
        "${EMAIL_BACKEND:-smtp}",
        "${EMAIL_HOST:-mailpit}",
        "${EMAIL_PORT:-1025}",
    )
    assert compose["services"]["mailpit"]["ports"] == ["127.0.0.1:${MAILPIT_HTTP_PORT:-8025}:8025"]


def test_every_compose_variable_is_documented_in_env_example():
    used = set(COMPOSE_VARIABLE.findall((DOCKER / "compose.yaml").read_text()))
    assert {"POSTGRES_PASSWORD", "DJANGO_SECRET_KEY"} <= used
    assert used - documented_variables() == set()


def test_image_runs_the_web_server_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.13-slim")
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the image must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    command = " ".join(rest for keyword, rest in instructions if keyword in {"CMD", "ENTRYPOINT"})
    assert "scripts/serve" in command
    environment = " ".join(rest for keyword, rest in instructions if keyword == "ENV")
    assert "HELPDESK_HOST=0.0.0.0" in environment
    assert "HELPDESK_PORT=8000" in environment
    assert "daphne --fd 0 helpdesk.asgi:application" in (DOCKER / "supervisord.conf").read_text()
    healthcheck = next(rest for keyword, rest in instructions if keyword == "HEALTHCHECK")
    assert "docker/healthcheck.py" in healthcheck


def test_image_build_compiles_translations_and_collects_static_with_a_dummy_key():
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert "gettext" in runs
    assert runs.index("gettext") < runs.index("compilemessages")
    assert "collectstatic" in runs
    assert "pip install ." in runs
    assert re.search(r"DJANGO_SECRET_KEY=\S+ .*collectstatic", runs)


def test_entrypoint_migrates_then_hands_over_to_the_command():
    entrypoint = DOCKER / "entrypoint.sh"
    assert os.access(entrypoint, os.X_OK)
    lines = [shlex.split(line) for line in entrypoint.read_text().splitlines() if line and not line.startswith("#")]
    migrate = next(i for i, words in enumerate(lines) if "migrate" in words)
    handover = next(i for i, words in enumerate(lines) if words[:1] == ["exec"])
    assert migrate < handover
    assert lines[handover] == ["exec", "$@"]


class _Answer(BaseHTTPRequestHandler):
    status = 200
    asked: list[tuple[str, str | None]] = []

    def do_GET(self):
        self.asked.append((self.path, self.headers["Host"]))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        return None


def run_healthcheck(status: int, *arguments: str) -> tuple[int, list[tuple[str, str | None]]]:
    """Run docker/healthcheck.py against a server answering `status`; the URL argument is the server's /healthz."""
    handler = type("Handler", (_Answer,), {"status": status, "asked": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/healthz"
        command = [sys.executable, str(DOCKER / "healthcheck.py"), *arguments, url]
        result = subprocess.run(command, timeout=30, check=False)
    finally:
        server.shutdown()
        server.server_close()
    return result.returncode, handler.asked


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_container_healthcheck_follows_the_healthz_status(status, exit_code):
    returncode, asked = run_healthcheck(status)
    assert returncode == exit_code
    assert asked == [("/healthz", "127.0.0.1")]


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_worker_healthcheck_asks_about_the_workers_of_its_own_host(status, exit_code):
    returncode, asked = run_healthcheck(status, "--worker")
    assert returncode == exit_code
    assert asked == [(f"/healthz?worker=1&host={socket.gethostname()}", "127.0.0.1")]


def test_container_healthcheck_fails_when_nothing_listens():
    result = subprocess.run(
        [sys.executable, str(DOCKER / "healthcheck.py"), "http://127.0.0.1:1/healthz"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1


def test_build_context_keeps_what_the_image_needs():
    """BuildKit's docker/Dockerfile.dockerignore must not drop what `pip install .`, the settings or the
    entrypoint read."""
    patterns = [
        line.strip().rstrip("/")
        for line in (DOCKER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["pyproject.toml", "README.md", "manage.py", "helpdesk", "tickets", "escalation", "templates", "locale",
              "static", "docker/entrypoint.sh", "docker/healthcheck.py", "docker/supervisord.conf", "scripts/serve"]
    dropped = [path for path in needed for pattern in patterns if fnmatch.fnmatch(path, pattern)]
    assert dropped == []
    assert {".git", ".venv", ".env"} <= set(patterns)

"""Production defaults: `manage.py check --deploy` is clean with the settings that docker/compose.yaml passes, filled
from .env.example as `docker compose --env-file .env` fills them; sessions end after an idle time."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from pathlib import Path

import pytest
import time_machine
import yaml
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session

from tests.test_settings import python_in
from tests.tickets.test_console_socket import receive, technician_socket

ROOT = Path(__file__).resolve().parent.parent
ACTIVE_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$", re.MULTILINE)
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def env_file() -> dict[str, str]:
    """.env.example as the operator fills it: its active lines, with the two secrets it leaves blank."""
    values = dict(ACTIVE_LINE.findall((ROOT / ".env.example").read_text()))
    values.update(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), POSTGRES_PASSWORD="a-database-password")
    return values


def compose_web_environment(values: dict[str, str]) -> dict[str, str]:
    web = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]["web"]

    def resolve(match: re.Match[str]) -> str:
        name, operator, default = match.groups()
        if values.get(name):
            return values[name]
        if operator == "?":
            raise AssertionError(f"{name} is required: {default}")
        return default or ""

    return {name: INTERPOLATION.sub(resolve, str(value)) for name, value in web["environment"].items()}


def test_check_deploy_is_clean_with_the_documented_production_settings():
    environment = compose_web_environment(env_file())
    assert environment["DJANGO_SSL_REDIRECT"] == "1"
    assert environment["DJANGO_BEHIND_PROXY"] == "1"
    result = python_in(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def settings_with(env: dict[str, str]) -> dict:
    code = (
        "import json, helpdesk.settings as s; print(json.dumps({'age': s.SESSION_COOKIE_AGE, "
        "'browser_close': s.SESSION_EXPIRE_AT_BROWSER_CLOSE, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "'preload': s.SECURE_HSTS_PRELOAD}))"
    )
    result = python_in(["-c", code], {"DJANGO_SECRET_KEY": "k", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_sessions_last_eight_idle_hours_unless_configured():
    assert settings_with({}) == {"age": 8 * 3600, "browser_close": False, "subdomains": False, "preload": False}
    assert settings_with(
        {"HELPDESK_SESSION_IDLE_HOURS": "2", "HELPDESK_SESSION_EXPIRE_AT_BROWSER_CLOSE": "1",
         "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1", "DJANGO_HSTS_PRELOAD": "1"}
    ) == {"age": 2 * 3600, "browser_close": True, "subdomains": True, "preload": True}


@pytest.mark.django_db
def test_a_session_ends_after_eight_idle_hours_but_not_while_in_use(client, staff, settings):
    settings.SESSION_COOKIE_AGE = 8 * 3600
    start = dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client.force_login(staff)
        for _hour in range(10):
            traveller.shift(dt.timedelta(hours=1))
            assert client.get("/tickets/").status_code == 200
        assert Session.objects.get().expire_date == start + dt.timedelta(hours=18)
        traveller.shift(dt.timedelta(hours=8, minutes=1))
        response = client.get("/tickets/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("require_redis_layer")
async def test_working_in_the_console_keeps_the_session_alive(technician, make_ticket):
    ticket = await database_sync_to_async(make_ticket)()
    communicator, _snapshot = await technician_socket(technician)
    before = await database_sync_to_async(lambda: Session.objects.get().expire_date)()
    await communicator.send_json_to(
        {"type": "action", "request_id": "r1", "action": "claim", "ticket": ticket.number,
         "version": ticket.last_event_id}
    )
    assert (await receive(communicator, "action.result"))["ok"] is True
    await communicator.send_json_to({"type": "resync", "since": 0})
    await receive(communicator, "resync")
    assert await database_sync_to_async(lambda: Session.objects.get().expire_date)() > before
    await communicator.disconnect()

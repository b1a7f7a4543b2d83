from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from helpdesk.settings import SQLITE_OPTIONS

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, helpdesk.settings as s; "
    "print(json.dumps({'layers': s.CHANNEL_LAYERS, 'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'sessions': getattr(s, 'SESSION_ENGINE', 'django.contrib.sessions.backends.db'), "
    "'caches': getattr(s, 'CACHES', None), "
    "'pool': {k: v for k, v in s.DATABASES['default'].get('OPTIONS', {}).get('pool', {}).items() if k != 'check'}}))"
)


def python_in(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python in the project with only `env` (plus PATH) in its environment."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_in(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter that sees only `env` (plus PATH)."""
    return python_in(["-c", PRINT_SETTINGS], env)


def loaded(env: dict[str, str]) -> dict:
    result = settings_in(env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_redis_url_selects_the_redis_pubsub_layer_without_socket_timeout():
    values = loaded(
        {"DJANGO_SECRET_KEY": "k", "REDIS_URL": "redis://cache.internal:6379/2", "HELPDESK_CHANNEL_PREFIX": "hd1"}
    )
    layer = values["layers"]["default"]
    assert layer["BACKEND"] == "helpdesk.channel_layer.PubSubChannelLayer"
    assert layer["CONFIG"]["hosts"] == [{"address": "redis://cache.internal:6379/2", "socket_timeout": None}]
    assert layer["CONFIG"]["prefix"] == "hd1"
    # Sessions are read from the same Redis, and from the database only when it lost them.
    assert values["sessions"] == "security.session_store"
    assert values["caches"]["default"]["LOCATION"] == "redis://cache.internal:6379/2"


def test_without_redis_url_the_layer_is_in_process():
    values = loaded({"DJANGO_SECRET_KEY": "k"})
    assert values["layers"] == {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["debug"] is False
    assert values["sessions"] == "django.contrib.sessions.backends.db"
    assert values["pool"] == {}


def test_postgresql_connections_are_pooled_when_asked():
    url = {"DJANGO_SECRET_KEY": "k", "DATABASE_URL": "postgres://u:p@db.internal:5432/helpdesk"}
    assert loaded({**url, "DATABASE_POOL_MAX_SIZE": "4"})["pool"]["max_size"] == 4
    assert loaded({**url, "DATABASE_POOL_MAX_SIZE": "0"})["pool"] == {}
    assert loaded(url)["pool"] == {}
    # The production command pools unless told otherwise.
    assert "DATABASE_POOL_MAX_SIZE:-4" in (ROOT / "scripts" / "serve").read_text()


@pytest.mark.django_db
def test_on_postgresql_a_statement_run_often_is_prepared_once_and_reused():
    """Parameters are bound on the server, so the fifth run of a statement on a connection prepares it: PostgreSQL no
    longer parses and plans it, whatever the values."""
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
    statement = "SELECT count(*) FROM tickets_ticket WHERE number > %s"
    with connection.cursor() as cursor:
        for number in range(6):
            cursor.execute(statement, [number])
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%number > $1%"])
        assert cursor.fetchone() == (1,)


def test_prepared_statements_can_be_turned_off_for_a_pooler_that_cannot_keep_them():
    shown = "import helpdesk.settings as s; print(s.DATABASES['default']['OPTIONS'].get('prepare_threshold'))"
    url = {"DJANGO_SECRET_KEY": "k", "DATABASE_URL": "postgres://u:p@db.internal:5432/helpdesk"}
    assert python_in(["-c", shown], url).stdout.split() == ["5"]
    assert python_in(["-c", shown], {**url, "DATABASE_PREPARED_STATEMENTS": "0"}).stdout.split() == ["None"]


def test_missing_secret_key_with_debug_off_refuses_to_start():
    result = settings_in({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_development_runs_without_a_secret_key():
    assert loaded({"DJANGO_DEBUG": "1"})["debug"] is True


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def settings_variables() -> set[str]:
    """Every environment variable helpdesk/settings.py reads, found in its syntax tree."""
    tree = ast.parse((ROOT / "helpdesk" / "settings.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = ast.unparse(node.func)
            if function in {"os.environ.get", "os.getenv", "env_bool", "env_list"} and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
            names.update(
                keyword.value.value
                for keyword in node.keywords
                if keyword.arg == "env" and isinstance(keyword.value, ast.Constant)
            )
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def test_every_variable_settings_reads_is_documented_in_env_example():
    read = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS"} <= read
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read - documented == set()


@pytest.fixture
def sqlite_file(tmp_path, django_db_blocker):
    """A database alias on a SQLite file configured as the embedded default is, whatever this run's database is (not
    the test database, so no test transaction wraps it)."""
    alias = "embedded_sqlite"
    engine = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3"), "OPTIONS": SQLITE_OPTIONS}
    connections.settings[alias] = connections.configure_settings({"default": engine})["default"]
    with django_db_blocker.unblock():
        yield alias
        connections[alias].close()
    del connections.settings[alias]


def test_on_the_embedded_sqlite_a_second_writer_waits_for_the_first_instead_of_failing(sqlite_file):
    """The web process opening a ticket (it reads, then takes a number) while the worker writes: it waits its turn.
    With SQLite's default deferred transactions it failed with "database is locked" (seen with scripts/run)."""
    with connections[sqlite_file].cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n integer)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    holding, errors = threading.Event(), []

    def writer(*, read_first: bool) -> None:
        try:
            with transaction.atomic(using=sqlite_file), connections[sqlite_file].cursor() as cursor:
                if read_first:
                    cursor.execute("SELECT n FROM counter")
                cursor.execute("UPDATE counter SET n = n + 1")
                if not read_first:
                    holding.set()
                    time.sleep(0.5)  # a long write transaction, such as a batch of the worker
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)
        finally:
            connections[sqlite_file].close()

    first = threading.Thread(target=writer, kwargs={"read_first": False})
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=writer, kwargs={"read_first": True})
    second.start()
    first.join(10)
    second.join(30)
    assert errors == []
    with connections[sqlite_file].cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone() == (2,)
def test_every_cache_object_of_a_process_shares_its_redis_client():
    """Django makes a cache object per request (per context); their sessions must not each build a Redis client
    (redis-py reads its package metadata from disk for each) nor connect to Redis anew."""
    code = (
        "import asyncio, django; django.setup(); from django.core.cache import caches; "
        "from asgiref.sync import sync_to_async; "
        "cache = lambda: caches['default']; "
        "objects = [asyncio.run(sync_to_async(cache)()) for _ in range(3)]; "
        "pools = {id(c._cache.get_client(write=True).connection_pool) for c in objects}; "
        "print(len({id(c) for c in objects}), len({id(c._cache) for c in objects}), len(pools))"
    )
    env = {"DJANGO_SECRET_KEY": "k", "REDIS_URL": "redis://127.0.0.1:6379/15"}
    result = python_in(["-c", code], {**env, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3", "1", "1"]

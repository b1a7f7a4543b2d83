"""Sessions cached in Redis: a Redis that fails or is gone costs a request at most the cache's socket timeout, and the
database answers; nobody is logged out or shown an error for it."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client

from security.session_store import SessionStore
from security.sessions import sessions_load
from tests.factories import PASSWORD

DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_with_the_session_cache_down_people_log_in_work_and_log_out(client, staff, settings):
    settings.SESSION_ENGINE = "security.session_store"
    settings.CACHES = DOWN
    assert client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD}).status_code == 302
    page = client.get("/tickets/")
    assert page.status_code == 200 and staff.get_full_name() in page.content.decode()
    client.post("/accounts/logout/")
    assert client.get("/tickets/").status_code == 302


def logged_in_keys(users) -> list[str]:
    keys = []
    for user in users:
        client = Client()
        client.force_login(user)
        keys.append(client.session.session_key)
    return keys


class CacheCalls:
    """Counts what the session store asks of the cache, by method."""

    def __init__(self, monkeypatch, cache_class) -> None:
        self.calls: Counter[str] = Counter()
        for name in ("get", "get_many", "set"):
            original = getattr(cache_class, name)

            def counted(cache, *args, name=name, original=original, **kwargs):
                self.calls[name] += 1
                return original(cache, *args, **kwargs)

            monkeypatch.setattr(cache_class, name, counted)


@pytest.mark.django_db
@pytest.mark.usefixtures("require_redis_layer")
def test_the_sessions_of_many_sockets_are_read_from_the_cache_in_one_round_trip(
    settings, staff, technician, monkeypatch
):
    settings.SESSION_ENGINE = "security.session_store"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "test-session-store",
        }
    }
    keys = logged_in_keys([staff, technician, staff])
    caches["default"].delete(SessionStore.cache_key_prefix + keys[2])  # Redis lost this one: the database has it
    cache = CacheCalls(monkeypatch, RedisCache)
    try:
        sessions = sessions_load(session_keys=[*keys, "", "no-such-session"])
        assert [session.get(SESSION_KEY) for session in sessions] == [
            str(staff.pk),
            str(technician.pk),
            str(staff.pk),
            None,
            None,
        ]
        assert cache.calls == Counter({"get_many": 1, "set": 1})  # the lost one is written back
        assert caches["default"].get(SessionStore.cache_key_prefix + keys[2]) == sessions[2]
    finally:
        caches["default"].delete_many([SessionStore.cache_key_prefix + key for key in keys])


@pytest.mark.django_db
def test_with_the_session_cache_down_many_sessions_cost_one_failed_read(settings, staff, technician, monkeypatch):
    """A console heartbeat reads the sessions of every socket of its process: a hung Redis must cost it one timeout,
    not one per socket, while the database answers."""
    settings.SESSION_ENGINE = "security.session_store"
    keys = logged_in_keys([staff, technician] * 5)
    settings.CACHES = DOWN
    cache = CacheCalls(monkeypatch, RedisCache)
    sessions = sessions_load(session_keys=keys)
    assert [session.get(SESSION_KEY) for session in sessions] == [str(staff.pk), str(technician.pk)] * 5
    assert cache.calls == Counter({"get_many": 1})

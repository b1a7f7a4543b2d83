"""Sessions cached in Redis: a Redis that fails or is gone costs a request at most the cache's socket timeout, and the
database answers; nobody is logged out or shown an error for it."""

from __future__ import annotations

import pytest

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

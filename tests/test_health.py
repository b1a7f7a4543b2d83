from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from unittest import mock

import pytest
import redis.asyncio
from channels.layers import InMemoryChannelLayer, channel_layers
from django.conf import settings as django_settings
from django.db import OperationalError, connections

from helpdesk import health

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": None}]},
    }
}
SILENT_LAYER = {"default": {"BACKEND": "tests.test_health.SilentLayer"}}
TOKEN = "monitoring-token-for-tests"
# What a loaded 2-core machine may add to a configured timeout.
MARGIN_SECONDS = 10


class SilentLayer(InMemoryChannelLayer):
    """A layer that accepts messages and never delivers them, like a Redis that hangs."""

    async def send(self, channel, message):
        return None


@pytest.fixture(autouse=True)
def health_token(settings):
    settings.HELPDESK_HEALTH_TOKEN = TOKEN


@pytest.fixture
def monitor(client):
    """A caller that may read the details: the monitoring token."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


@pytest.fixture
def layer_settings(settings):
    def use(config):
        settings.CHANNEL_LAYERS = config
        channel_layers.backends.clear()

    yield use
    channel_layers.backends.clear()


@pytest.mark.django_db
def test_healthy_when_database_and_channel_layer_answer(monitor):
    response = monitor.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    assert body["details"]["database"]["vendor"] == connections["default"].vendor


@pytest.mark.django_db
def test_unreachable_database_is_503(monitor):
    # The round trip runs on the check's own thread, with its own connection.
    with mock.patch.object(health, "_database_round_trip", side_effect=OperationalError("connection refused")):
        response = monitor.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert body["details"]["database"] == {"error": "OperationalError"}
    assert body["channel_layer"] == "ok"


@pytest.mark.django_db
def test_unreachable_redis_is_503(monitor, layer_settings):
    layer_settings(UNREACHABLE_REDIS)
    started = time.monotonic()
    response = monitor.get("/healthz")
    assert time.monotonic() - started < health.CHECK_TIMEOUT + MARGIN_SECONDS
    assert response.status_code == 503
    body = response.json()
    assert body["channel_layer"] == "error"
    assert body["database"] == "ok"
    assert "127.0.0.1:1" not in response.content.decode()


@pytest.mark.django_db
def test_a_hanging_channel_layer_is_503_within_the_timeout(monitor, layer_settings, monkeypatch):
    layer_settings(SILENT_LAYER)
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    started = time.monotonic()
    response = monitor.get("/healthz")
    # The silent layer never answers: without the timeout the page would wait for ever.
    assert time.monotonic() - started < health.CHECK_TIMEOUT + MARGIN_SECONDS
    assert response.status_code == 503
    assert response.json()["details"]["channel_layer"] == {"error": "TimeoutError"}


@pytest.mark.django_db
def test_only_get_is_allowed(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


async def test_repeated_checks_leave_no_channel_subscribed_on_redis(require_redis_layer, layer_settings):
    layer_settings(django_settings.CHANNEL_LAYERS)
    for _ in range(3):
        assert (await health.channel_layer_check())["backend"] == "PubSubChannelLayer"
    prefix = django_settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    client = redis.asyncio.Redis.from_url(django_settings.REDIS_URL)
    try:
        for _ in range(50):
            leftover = await client.pubsub_channels(f"{prefix}healthz.*")
            if not leftover:
                break
            await asyncio.sleep(0.02)
        assert leftover == []
    finally:
        await client.aclose()


@pytest.mark.django_db
def test_anonymous_callers_get_the_state_only(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "postgresql" not in response.content.decode() and "Layer" not in response.content.decode()


@pytest.mark.django_db
def test_anonymous_callers_learn_that_something_failed_but_not_what(client):
    with mock.patch.object(health, "_database_round_trip", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error"}


@pytest.mark.django_db
@pytest.mark.parametrize("authorization", [f"Bearer {TOKEN}x", "Bearer ", TOKEN[:-1], f"Basic {TOKEN}"])
def test_a_wrong_token_reads_no_details(client, authorization):
    assert client.get("/healthz", headers={"authorization": authorization}).json() == {"status": "ok"}


@pytest.mark.django_db
def test_without_a_configured_token_no_token_reads_details(client, settings):
    settings.HELPDESK_HEALTH_TOKEN = ""
    assert client.get("/healthz", headers={"authorization": "Bearer "}).json() == {"status": "ok"}


@pytest.mark.django_db
def test_staff_read_the_details_and_other_users_do_not(client, staff, technician):
    client.force_login(technician)
    assert client.get("/healthz").json() == {"status": "ok"}
    technician.is_staff = True
    technician.save()
    client.force_login(technician)
    body = client.get("/healthz").json()
    assert body["database"] == "ok"
    assert body["details"]["channel_layer"]["backend"]


@pytest.fixture
def beat(settings):
    from django.utils import timezone

    from escalation.heartbeat import worker_beat

    settings.HELPDESK_WORKER_STALE_SECONDS = 30

    def at(seconds_ago: float) -> None:
        worker_beat(name="worker-1", now=timezone.now() - dt.timedelta(seconds=seconds_ago))

    return at


@pytest.mark.django_db(transaction=True)
def test_a_fresh_worker_is_reported_with_its_last_beat_and_lag(monitor, beat):
    beat(1)
    body = monitor.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker"] == "ok"
    worker = body["details"]["worker"]
    assert 1 <= worker["last_beat_age"] < 10
    assert worker["lag"] == 0.0
    assert worker["workers"][0]["name"] == "worker-1"
    answer = monitor.get("/healthz?worker=1")
    assert answer.status_code == 200
    assert set(answer.json()) == {"status", "worker", "details"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("seconds_ago", "state"), [(31, "stale"), (None, "missing")])
def test_a_stale_or_missing_worker_is_reported_but_the_web_stays_healthy(monitor, beat, seconds_ago, state):
    if seconds_ago is not None:
        beat(seconds_ago)
    response = monitor.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["worker"] == state

    worker_check = monitor.get("/healthz?worker=1")
    assert worker_check.status_code == 503
    assert worker_check.json()["status"] == "error"
    assert worker_check.json()["worker"] == state


@pytest.mark.django_db(transaction=True)
def test_the_worker_check_of_a_host_looks_at_that_hosts_workers(monitor, beat):
    beat(1)
    assert monitor.get("/healthz", {"worker": "1", "host": socket.gethostname()}).status_code == 200
    assert monitor.get("/healthz", {"worker": "1", "host": "another-host"}).status_code == 503


@pytest.mark.django_db(transaction=True)
def test_the_worker_check_is_503_when_the_database_is_down(monitor, beat):
    beat(1)
    with mock.patch.object(health, "_worker_status", side_effect=OperationalError("connection refused")):
        response = monitor.get("/healthz?worker=1")
    assert response.status_code == 503
    assert response.json()["details"]["worker"] == {"error": "OperationalError"}

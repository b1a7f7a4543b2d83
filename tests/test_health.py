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


class SilentLayer(InMemoryChannelLayer):
    """A layer that accepts messages and never delivers them, like a Redis that hangs."""

    async def send(self, channel, message):
        return None


@pytest.fixture
def layer_settings(settings):
    def use(config):
        settings.CHANNEL_LAYERS = config
        channel_layers.backends.clear()

    yield use
    channel_layers.backends.clear()


@pytest.mark.django_db
def test_healthy_when_database_and_channel_layer_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    assert body["details"]["database"]["vendor"] == connections["default"].vendor


@pytest.mark.django_db
def test_unreachable_database_is_503(client):
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "error"
    assert body["details"]["database"] == {"error": "OperationalError"}
    assert body["channel_layer"] == "ok"


@pytest.mark.django_db
def test_unreachable_redis_is_503(client, layer_settings):
    layer_settings(UNREACHABLE_REDIS)
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < health.CHECK_TIMEOUT + 1
    assert response.status_code == 503
    body = response.json()
    assert body["channel_layer"] == "error"
    assert body["database"] == "ok"
    assert "127.0.0.1:1" not in response.content.decode()


@pytest.mark.django_db
def test_a_hanging_channel_layer_is_503_within_the_timeout(client, layer_settings, monkeypatch):
    layer_settings(SILENT_LAYER)
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 1.5
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
        assert (await health.channel_layer_check())["backend"] == "RedisPubSubChannelLayer"
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


@pytest.fixture
def beat(settings):
    from django.utils import timezone

    from escalation.heartbeat import worker_beat

    settings.HELPDESK_WORKER_STALE_SECONDS = 30

    def at(seconds_ago: float) -> None:
        worker_beat(name="worker-1", now=timezone.now() - dt.timedelta(seconds=seconds_ago))

    return at


@pytest.mark.django_db
def test_a_fresh_worker_is_reported_with_its_last_beat_and_lag(client, beat):
    beat(1)
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["worker"] == "ok"
    worker = body["details"]["worker"]
    assert 1 <= worker["last_beat_age"] < 10
    assert worker["lag"] == 0.0
    assert worker["workers"][0]["name"] == "worker-1"
    answer = client.get("/healthz?worker=1")
    assert answer.status_code == 200
    assert set(answer.json()) == {"status", "worker", "details"}


@pytest.mark.django_db
@pytest.mark.parametrize(("seconds_ago", "state"), [(31, "stale"), (None, "missing")])
def test_a_stale_or_missing_worker_is_reported_but_the_web_stays_healthy(client, beat, seconds_ago, state):
    if seconds_ago is not None:
        beat(seconds_ago)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["worker"] == state

    worker_check = client.get("/healthz?worker=1")
    assert worker_check.status_code == 503
    assert worker_check.json()["status"] == "error"
    assert worker_check.json()["worker"] == state


@pytest.mark.django_db
def test_the_worker_check_of_a_host_looks_at_that_hosts_workers(client, beat):
    beat(1)
    assert client.get("/healthz", {"worker": "1", "host": socket.gethostname()}).status_code == 200
    assert client.get("/healthz", {"worker": "1", "host": "another-host"}).status_code == 503


@pytest.mark.django_db
def test_the_worker_check_is_503_when_the_database_is_down(client, beat):
    beat(1)
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/healthz?worker=1")
    assert response.status_code == 503
    assert response.json()["details"]["worker"] == {"error": "OperationalError"}

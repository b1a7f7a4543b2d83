"""The channel layer is best effort: when Redis restarts or a message is lost, a console that follows the contract
(apply rows by version, resync on a gap or a reconnect) still ends up showing exactly the database's queue."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.db import OperationalError

from tests.factories import ServiceFactory, TeamFactory, technician_of
from tests.tickets.test_console_inbound import heartbeat_tasks
from tests.tickets.test_console_socket import ConsoleView, database_queue, receive, technician_socket
from tickets.console import consumers
from tickets.console import publish as console_publish
from tickets.models import Ticket
from tickets.services import ticket_claim

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 5


class PrivateRedis:
    """A throwaway redis-server on a free loopback port, so the test can kill it without touching the shared one."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=WAIT)
            self.process = None


@pytest.fixture
def private_redis(settings):
    if shutil.which("redis-server") is None:
        if os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is required for this test (HELPDESK_REQUIRE_SERVICES=1)")
        pytest.skip("redis-server is not installed")
    redis = PrivateRedis()
    redis.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": redis.url, "socket_timeout": None}], "prefix": "helpdesk_private"},
        }
    }
    channel_layers.backends.clear()
    yield redis
    redis.stop()
    channel_layers.backends.clear()


@pytest.fixture
def elsewhere():
    """Another team's service and one of its technicians: their tickets leave my queue once they claim them."""
    team = TeamFactory(code="data-centre")
    return ServiceFactory(code="gov-dc", team=team), technician_of(team, username="dc-tech")


async def drain(communicator: WebsocketCommunicator, view: ConsoleView, *, heartbeats: int) -> None:
    """Act as the console client until `heartbeats` heartbeats have passed: apply what arrives, resync on a gap."""
    seen = 0
    while seen < heartbeats:
        message = await communicator.receive_json_from(timeout=WAIT)
        view.apply_message(message)
        if message["type"] == "heartbeat":
            seen += 1
            if view.resync_needed(message):
                await communicator.send_json_to({"type": "resync", "since": view.safe_cursor})


def queue_of(user) -> dict[int, dict[str, Any]]:
    return database_queue(user)


async def test_redis_restart_mid_stream_loses_nothing(private_redis, technician, make_ticket, elsewhere, caplog):
    other_service, outsider = elsewhere
    communicator, snapshot = await technician_socket(technician)
    view = ConsoleView(snapshot)
    before_outage = [
        await sync_to_async(make_ticket)(subject="Mail queue stuck"),
        await sync_to_async(make_ticket)(service=other_service, subject="Rack 4 power alarm"),
    ]
    for ticket in before_outage:
        view.apply_message(
            await receive(communicator, "event", where=lambda m, t=ticket: m["ticket"]["number"] == t.number)
        )
    assert set(view.rows) == {ticket.number for ticket in before_outage}

    await sync_to_async(private_redis.stop)()
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime"):
        during_outage = [
            await sync_to_async(make_ticket)(subject="SMS gateway rejects messages"),
            await sync_to_async(make_ticket)(service=other_service, subject="Backup job failed"),
        ]
        await sync_to_async(ticket_claim)(ticket=before_outage[1], technician=outsider)
    assert caplog.text.count("Could not publish ticket event") == 3
    assert await sync_to_async(Ticket.objects.filter(pk__in=[t.pk for t in during_outage]).count)() == 2

    await sync_to_async(private_redis.start)()
    reconnected, fresh = await technician_socket(technician)
    await reconnected.send_json_to({"type": "resync", "since": view.safe_cursor})
    view.apply_message(await receive(reconnected, "resync"))

    expected = await sync_to_async(queue_of)(technician)
    assert view.rows == expected
    assert set(expected) == {before_outage[0].number, *(ticket.number for ticket in during_outage)}
    assert ConsoleView(fresh).rows == expected

    after_restart = await sync_to_async(make_ticket)(subject="Tawtheeq certificate expired")
    live = await receive(reconnected, "event", where=lambda m: m["ticket"]["number"] == after_restart.number)
    assert live["event"]["kind"] == "opened"
    kept = await receive(communicator, "event", where=lambda m: m["ticket"]["number"] == after_restart.number)
    assert kept["event"]["kind"] == "opened"
    await communicator.disconnect()
    await reconnected.disconnect()


@pytest.mark.usefixtures("require_redis_layer")
async def test_dropped_messages_are_made_good_by_heartbeats(technician, make_ticket, elsewhere, monkeypatch, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    other_service, outsider = elsewhere
    publish = console_publish.publish_ticket_event
    dropped: list[int] = []

    def lossy_publish(*, message: dict) -> None:
        # Lose the claim (a message in the middle of the stream) and the last ticket opened (the end of it).
        if message["event"]["kind"] == "assigned" or message["ticket"]["subject"] == "Last one":
            dropped.append(message["cursor"])
            return
        publish(message=message)

    monkeypatch.setattr(console_publish, "publish_ticket_event", lossy_publish)
    communicator, snapshot = await technician_socket(technician)
    view = ConsoleView(snapshot)
    first = await sync_to_async(make_ticket)(subject="Data exchange API returns 500")
    elsewhere_ticket = await sync_to_async(make_ticket)(service=other_service, subject="Cooling unit alarm")

    def claim_then_open():
        # Back to back, so the next message the client sees hides the lost one and heartbeats move past it.
        ticket_claim(ticket=elsewhere_ticket, technician=outsider)
        return make_ticket(subject="Contact centre IVR silent")

    following = await sync_to_async(claim_then_open)()
    await asyncio.wait_for(drain(communicator, view, heartbeats=3), timeout=WAIT)
    last = await sync_to_async(make_ticket)(subject="Last one")
    assert len(dropped) == 2

    await asyncio.wait_for(drain(communicator, view, heartbeats=4), timeout=WAIT)

    expected = await sync_to_async(queue_of)(technician)
    assert set(expected) == {first.number, following.number, last.number}
    assert view.rows == expected
    await communicator.disconnect()


@pytest.mark.usefixtures("require_redis_layer")
async def test_server_resends_an_event_the_socket_never_received(technician, make_ticket, monkeypatch, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    publish = console_publish.publish_ticket_event
    lost: list[int] = []

    def lossy_publish(*, message: dict) -> None:
        if not lost:
            lost.append(message["cursor"])
            return
        publish(message=message)

    monkeypatch.setattr(console_publish, "publish_ticket_event", lossy_publish)
    communicator, _snapshot = await technician_socket(technician)
    missed = await sync_to_async(make_ticket)(subject="Lost in transit")
    delivered = await sync_to_async(make_ticket)(subject="Arrived")
    assert lost == [missed.last_event_id]
    live = await receive(communicator, "event", where=lambda m: m["cursor"] == delivered.last_event_id)
    assert live["ticket"]["subject"] == "Arrived"
    # This client never asks for a resync: the server notices the hole behind a later heartbeat and fills it.
    repaired = await receive(communicator, "event", where=lambda m: m["cursor"] == missed.last_event_id)
    assert repaired["ticket"]["subject"] == "Lost in transit"
    assert repaired["event"]["kind"] == "opened"
    await communicator.disconnect()


@pytest.mark.usefixtures("require_redis_layer")
async def test_the_sockets_of_a_process_beat_together_and_a_failed_beat_is_only_skipped(
    technician, other_technician, monkeypatch, settings, caplog
):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.1
    real = consumers._heartbeats
    failed: list[int] = []

    def flaky(beats):
        if not failed:
            failed.append(len(beats))
            raise OperationalError("the database went away for a moment")
        return real(beats)

    monkeypatch.setattr(consumers._heartbeat, "trip", flaky)
    with caplog.at_level(logging.WARNING, logger="helpdesk.heartbeat"):
        first, _ = await technician_socket(technician)
        second, _ = await technician_socket(other_technician)
        assert len(heartbeat_tasks()) == 1
        beats = [await receive(first, "heartbeat"), await receive(second, "heartbeat")]
    assert failed and "Console heartbeat failed" in caplog.text
    assert beats[0]["cursor"] == beats[1]["cursor"]
    await first.disconnect()
    assert len(heartbeat_tasks()) == 1
    await second.disconnect()
    assert heartbeat_tasks() == []

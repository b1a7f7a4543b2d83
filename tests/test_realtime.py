from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.db import transaction

from tests.tickets.test_web_intake import NEW_URL, form_data
from tickets.console.publish import CONSOLE_GROUP
from tickets.live.publish import agency_group
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_comment

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": None}]},
    }
}


@pytest.fixture
def layer_settings(settings):
    def use(config):
        settings.CHANNEL_LAYERS = config
        channel_layers.backends.clear()
        return get_channel_layer()

    yield use
    channel_layers.backends.clear()


def subscribe(layer, group: str = CONSOLE_GROUP) -> str:
    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        return channel

    return async_to_sync(join)()


async def receive_within(layer, channel: str, seconds: float = 5) -> dict:
    """The next message on `channel`; a message that never comes fails the test instead of hanging it."""
    return await asyncio.wait_for(layer.receive(channel), timeout=seconds)


def queued(layer, channel: str) -> int:
    queue = layer.channels.get(channel)
    return queue.qsize() if queue is not None else 0


class SilentRedis:
    """A loopback server that accepts connections, reads what it is sent and never answers: a hung Redis. After
    `give_up_after` seconds it closes everything, so that a publish without a bound fails the test instead of hanging
    it forever."""

    def __init__(self, *, give_up_after: float) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.closed = threading.Event()
        self.give_up_after = give_up_after
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._give_up, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def _give_up(self) -> None:
        self.closed.wait(self.give_up_after)
        self.close()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for connection in self.accepted:
            connection.close()

    @property
    def layers(self) -> dict:
        return {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{self.port}/0", "socket_timeout": None}]},
            }
        }


@pytest.fixture
def silent_redis():
    server = SilentRedis(give_up_after=10)
    yield server
    server.close()


@pytest.mark.django_db(transaction=True)
def test_event_is_published_only_after_commit(layer_settings, make_ticket):
    layer = layer_settings(IN_MEMORY)
    channel = subscribe(layer)
    with transaction.atomic():
        ticket = make_ticket()
        assert queued(layer, channel) == 0
    message = async_to_sync(receive_within)(layer, channel)
    assert message["type"] == "ticket.event"
    assert message["ticket"]["number"] == ticket.number
    assert message["cursor"] == TicketEvent.objects.get(ticket=ticket).pk


@pytest.mark.django_db
def test_the_consoles_get_every_event_and_the_agency_only_the_public_ones(
    layer_settings, make_ticket, technician, django_capture_on_commit_callbacks
):
    layer = layer_settings(IN_MEMORY)
    ticket = make_ticket()
    consoles, agency = subscribe(layer), subscribe(layer, agency_group(ticket.agency_id))
    with django_capture_on_commit_callbacks(execute=True):
        note = ticket_comment(ticket=ticket, author=technician, body="Vendor case 42", internal=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply = ticket_comment(ticket=ticket, author=technician, body="We are on it.")
    events = list(TicketEvent.objects.filter(ticket=ticket, kind="commented").order_by("id"))
    assert [event.after["comment_id"] for event in events] == [note.pk, reply.pk]

    def drained(channel: str) -> list[dict]:
        return [async_to_sync(receive_within)(layer, channel) for _ in range(queued(layer, channel))]

    to_consoles = drained(consoles)
    assert [(message["type"], message["cursor"], message["ticket"]["number"]) for message in to_consoles] == [
        ("ticket.event", event.pk, ticket.number) for event in events
    ]
    assert [message["event"]["public"] for message in to_consoles] == [False, True]
    assert [(message["type"], message["cursor"], message["ticket"]) for message in drained(agency)] == [
        ("agency.event", events[1].pk, ticket.number)
    ]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_is_never_published(layer_settings, make_ticket):
    layer = layer_settings(IN_MEMORY)
    channel = subscribe(layer)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket()
        raise RuntimeError("abort")
    assert Ticket.objects.count() == 0
    assert queued(layer, channel) == 0


@pytest.mark.django_db(transaction=True)
def test_unreachable_channel_layer_loses_no_ticket(layer_settings, make_ticket, caplog):
    layer_settings(UNREACHABLE_REDIS)
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime"):
        ticket = make_ticket()
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1
    assert "Could not publish ticket event" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_hung_redis_costs_a_web_ticket_at_most_the_publish_timeout(
    layer_settings, silent_redis, settings, client, staff, service, caplog
):
    settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS = 0.2
    client.force_login(staff)

    def post(subject: str) -> float:
        started = time.monotonic()
        response = client.post(NEW_URL, form_data(service, subject=subject))
        elapsed = time.monotonic() - started
        assert response.status_code == 302
        return elapsed

    layer_settings(IN_MEMORY)
    usual = post("Printer queue stuck")
    layer_settings(silent_redis.layers)
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime"):
        hung = post("Correspondence system rejects logins")

    assert silent_redis.accepted, "the channel layer never reached the silent Redis"
    # The hung Redis adds at most the timeout of each of the event's two publishes (the consoles' and the agency's),
    # with a margin for a loaded machine, to what the same POST usually costs; unbounded, it would wait until the
    # silent server gives up.
    assert hung < usual + 2 * settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS + 3
    assert silent_redis.give_up_after > 2 * settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS + 3
    assert Ticket.objects.filter(subject="Correspondence system rejects logins").count() == 1
    assert "Could not publish ticket event" in caplog.text

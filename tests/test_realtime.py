from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
import time
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from asgiref.testing import ApplicationCommunicator
from channels.layers import channel_layers, get_channel_layer
from channels.testing import HttpCommunicator
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import translation

from helpdesk import realtime
from helpdesk.asgi import application
from tests.tickets.test_web_intake import NEW_URL, form_data
from tickets.console.publish import CONSOLE_GROUP
from tickets.live.publish import agency_group
from tickets.models import ArabicName, Ticket, TicketEvent
from tickets.selectors import event_messages_get
from tickets.services import ticket_claim, ticket_comment

WAIT = 10

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


@pytest.mark.django_db(transaction=True)
def test_the_console_message_comes_from_the_objects_the_service_holds(
    layer_settings, make_ticket, django_capture_on_commit_callbacks, django_assert_num_queries
):
    layer = layer_settings(IN_MEMORY)
    channel = subscribe(layer)
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = make_ticket()
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()
    message = async_to_sync(layer.receive)(channel)
    # What a console gets live is what it would get when it resyncs from the event table.
    (replayed,) = event_messages_get(event_ids=[ticket.last_event_id])
    assert message == {"type": "ticket.event", **replayed}


def recording_app(log: list, view):
    """An HTTP application that runs `view` on a worker thread, as Django runs a sync view, then answers 200."""

    async def app(scope, receive, send):
        await sync_to_async(view)()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        log.append("response sent")
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def test_a_request_publishes_after_its_response_on_the_event_loop(layer_settings, monkeypatch):
    layer = layer_settings(IN_MEMORY)
    channel = await layer.new_channel()
    await layer.group_add(CONSOLE_GROUP, channel)
    log: list = []

    def forbidden_async_to_sync(*args, **kwargs):
        raise AssertionError("a request thread ran async_to_sync")

    monkeypatch.setattr(realtime, "async_to_sync", forbidden_async_to_sync)
    sending = layer.group_send

    async def group_send(group, message):
        log.append(f"published {message['n']}")
        await sending(group, message)

    monkeypatch.setattr(layer, "group_send", group_send)

    def view():
        realtime.group_send(CONSOLE_GROUP, {"type": "ticket.event", "n": 1})
        realtime.group_send_many(CONSOLE_GROUP, [{"type": "ticket.event", "n": 2}], what="two")

    communicator = ApplicationCommunicator(
        realtime.PublishAfterResponse(recording_app(log, view)), {"type": "http", "path": "/", "headers": []}
    )
    await communicator.send_input({"type": "http.request", "body": b""})
    await communicator.wait(timeout=WAIT)
    assert log == ["response sent", "published 1", "published 2"]
    assert [(await layer.receive(channel))["n"] for _ in range(2)] == [1, 2]


async def test_a_hung_layer_after_the_response_is_given_up_after_the_publish_timeout(
    layer_settings, silent_redis, settings, caplog
):
    settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS = 0.2
    layer_settings(silent_redis.layers)
    log: list = []
    communicator = ApplicationCommunicator(
        realtime.PublishAfterResponse(
            recording_app(log, lambda: realtime.group_send(CONSOLE_GROUP, {"type": "ticket.event"}, what="it"))
        ),
        {"type": "http", "path": "/", "headers": []},
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime"):
        await communicator.send_input({"type": "http.request", "body": b""})
        await communicator.wait(timeout=WAIT)
    assert log == ["response sent"]
    assert time.monotonic() - started < settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS + 2
    assert "Could not publish it to the channel layer within 0.2 s" in caplog.text


def cookie_header(cookies) -> tuple[bytes, bytes]:
    return b"cookie", "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items()).encode()


@pytest.mark.django_db(transaction=True)
async def test_a_ticket_posted_through_the_asgi_application_reaches_the_console_after_the_redirect(
    layer_settings, client, staff, service
):
    layer = layer_settings(IN_MEMORY)
    channel = await layer.new_channel()
    await layer.group_add(CONSOLE_GROUP, channel)
    await sync_to_async(client.force_login)(staff)
    headers = [(b"host", b"127.0.0.1"), cookie_header(client.cookies)]
    form = HttpCommunicator(application, "GET", NEW_URL, headers=headers)
    page = await form.get_response(timeout=WAIT)
    assert page["status"] == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page["body"]).group(1)
    csrf_cookie = next(
        value.split(b";")[0] for name, value in page["headers"] if name == b"Set-Cookie" and b"csrftoken" in value
    )
    body = urlencode({**form_data(service), "csrfmiddlewaretoken": token.decode()}).encode()
    post = HttpCommunicator(
        application,
        "POST",
        NEW_URL,
        body=body,
        headers=[
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", cookie_header(client.cookies)[1] + b"; " + csrf_cookie),
        ],
    )
    response = await post.get_response(timeout=WAIT)
    assert response["status"] == 302
    number = int(re.search(rb"/tickets/(\d+)/", dict(response["headers"])[b"Location"]).group(1))
    message = await asyncio.wait_for(layer.receive(channel), timeout=WAIT)
    assert (message["type"], message["event"]["kind"]) == ("ticket.event", "opened")
    assert message["ticket"]["number"] == number


@pytest.mark.django_db
def test_a_live_message_names_people_in_each_language_whatever_the_writers(
    layer_settings, make_ticket, technician, django_capture_on_commit_callbacks
):
    """A change made from an Arabic page reaches English consoles too: the message carries both names, and each
    console shows the one of its own language."""
    layer = layer_settings(IN_MEMORY)
    ArabicName.objects.create(user=technician, name="أحمد المري")
    ticket = make_ticket()
    consoles = subscribe(layer)
    with translation.override("ar"), django_capture_on_commit_callbacks(execute=True):
        ticket_claim(ticket=ticket, technician=technician)
    message = async_to_sync(receive_within)(layer, consoles)
    english = technician.get_full_name()
    assert message["ticket"]["assignee"]["names"] == {"en": english, "ar": "أحمد المري"}
    assert message["event"]["actor"]["names"] == {"en": english, "ar": "أحمد المري"}


async def test_a_group_message_is_decoded_once_for_every_socket_of_the_process(require_redis_layer, layer_settings):
    layer = layer_settings(django_settings.CHANNEL_LAYERS)
    decoded = []
    decode = layer._serializer.deserialize
    layer._serializer.deserialize = lambda data: decoded.append(data) or decode(data)
    channels = [await layer.new_channel() for _ in range(3)]
    for channel in channels:
        await layer.group_add("decode-once", channel)
    await layer.group_send("decode-once", {"type": "ticket.event", "cursor": 7, "event": {"kind": "opened"}})
    received = [await receive_within(layer, channel) for channel in channels]
    assert received == [{"type": "ticket.event", "cursor": 7, "event": {"kind": "opened"}}] * 3
    assert len(decoded) == 1
    # Each socket's message is its own: one handler changing it changes nothing for the others.
    received[0]["type"] = "changed"
    assert [message["type"] for message in received] == ["changed", "ticket.event", "ticket.event"]
    for channel in channels:
        await layer.group_discard("decode-once", channel)

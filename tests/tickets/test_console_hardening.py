"""What a console socket does when its user loses access, when its session logs out, and when a client sends
input it should not: it is closed, or answers with an error and stays usable; nothing is written."""

from __future__ import annotations

import asyncio
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client

from helpdesk.asgi import application
from tests.tickets.test_console_socket import ORIGIN, WAIT, receive, technician_socket
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


async def closed_with(communicator: WebsocketCommunicator) -> int:
    """Read until the server closes the socket; the close code."""

    async def wait() -> int:
        while True:
            output = await communicator.receive_output(timeout=WAIT)
            if output["type"] == "websocket.close":
                return output["code"]

    return await asyncio.wait_for(wait(), timeout=WAIT)


async def events_count(ticket: Ticket) -> int:
    return await sync_to_async(TicketEvent.objects.filter(ticket=ticket).count)()


async def test_technician_removed_from_their_team_is_refused_and_disconnected(technician, team, make_ticket, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    ticket = await sync_to_async(make_ticket)()
    communicator, _ = await technician_socket(technician)
    await sync_to_async(team.members.remove)(technician)

    await communicator.send_json_to(
        {"type": "action", "request_id": "r1", "action": "claim", "ticket": ticket.number,
         "version": ticket.last_event_id}
    )
    result = await receive(communicator, "action.result")
    assert result["ok"] is False
    assert await events_count(ticket) == 1
    assert await closed_with(communicator) == 4403
    await communicator.disconnect()


async def test_logging_out_closes_the_consoles_of_that_session(technician, settings):
    # A heartbeat would close the socket too (its session is gone); only the logout signal can within the wait.
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 3600
    browser = Client()
    await sync_to_async(browser.force_login)(technician)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    cookie = (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=[ORIGIN, cookie])
    connected, _ = await communicator.connect(timeout=WAIT)
    assert connected
    await receive(communicator, "snapshot")
    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await closed_with(communicator) == 4401
    await communicator.disconnect()


async def test_a_socket_whose_session_ended_unannounced_is_closed_at_its_heartbeat(technician, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, _ = await technician_socket(technician)
    # The session ends without the logout signal (expired, or removed by clearsessions): gone from the database and
    # from the session cache.
    def end_sessions() -> None:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        for key in Session.objects.values_list("session_key", flat=True):
            store(session_key=key).delete()

    await sync_to_async(end_sessions)()
    assert await closed_with(communicator) == 4401
    await communicator.disconnect()


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "view", "ticket": 99999999999999999999999}',
        '{"type": "typing", "ticket": 99999999999999999999999, "typing": true}',
        '{"type": "action", "request_id": "x", "action": "claim", "ticket": NUMBER, "version": Infinity}',
        '{"type": "action", "request_id": "x", "action": "claim", "ticket": NUMBER, "version": 1.5}',
        '{"type": "action", "request_id": "x", "action": "priority", "ticket": NUMBER, "version": VERSION,'
        ' "priority": -Infinity, "reason": "x"}',
        '{"type": "action", "request_id": "x", "action": "note", "ticket": NUMBER, "version": VERSION,'
        ' "body": "a\\u0000b"}',
        '{"type": "action", "request_id": "x", "action": "status", "ticket": NUMBER, "version": VERSION,'
        ' "status": "waiting", "note": "' + "x" * 2001 + '"}',
        '{"type": "resync", "since": 99999999999999999999999}',
        '{"type": "action", "request_id": "x", "action": ["claim"], "ticket": {"n": 1}, "version": [1]}',
    ],
    ids=["view-huge", "typing-huge", "version-infinity", "version-fraction", "priority-infinity", "nul-in-note",
         "note-too-long", "resync-huge", "wrong-types"],
)
async def test_bad_input_is_refused_and_the_socket_stays_usable(text, technician, make_ticket):
    ticket = await sync_to_async(make_ticket)()
    await sync_to_async(lambda: Ticket.objects.filter(pk=ticket.pk).update(status="in_progress"))()
    communicator, snapshot = await technician_socket(technician)
    await communicator.send_to(
        text_data=text.replace("NUMBER", str(ticket.number)).replace("VERSION", str(ticket.last_event_id))
    )
    answer: dict[str, Any] = await receive(communicator, "action.result" if '"action"' in text else "error")
    if answer["type"] == "action.result":
        assert answer["ok"] is False
        assert answer["error"]
    assert await events_count(ticket) == 1
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    assert (await receive(communicator, "resync"))["events"] == []
    await communicator.disconnect()


async def test_a_long_resync_comes_in_parts_that_add_up(technician, make_ticket, monkeypatch):
    monkeypatch.setattr("tickets.console.selectors.RESYNC_PART_EVENTS", 2)
    communicator, snapshot = await technician_socket(technician)
    tickets = [await sync_to_async(make_ticket)(subject=f"Link {n} down") for n in range(5)]
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    parts = [await receive(communicator, "resync")]
    while parts[-1]["more"]:
        parts.append(await receive(communicator, "resync"))
    assert [len(part["events"]) for part in parts] == [2, 2, 1]
    replayed = [event["event"]["ticket"] for part in parts for event in part["events"]]
    assert replayed == [ticket.number for ticket in tickets]
    assert parts[0]["cursor"] == parts[0]["events"][-1]["cursor"]
    assert parts[-1]["cursor"] == tickets[-1].last_event_id
    await communicator.disconnect()

"""The agency pages' socket, /ws/tickets/, on the real Redis channel layer through the full ASGI stack: who may open
it, what it carries (its own agency's public events only) and when it closes."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from helpdesk.asgi import application
from tests.tickets.test_console_hardening import closed_with
from tests.tickets.test_console_socket import ORIGIN, WAIT, receive
from tickets.models import AgencyMembership
from tickets.services import ticket_claim, ticket_comment, ticket_open

QUIET = 0.5

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


def login_cookie(user) -> tuple[Client, tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return client, (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())


async def open_socket(user=None) -> tuple[WebsocketCommunicator, Client | None]:
    headers = [ORIGIN]
    client = None
    if user is not None:
        client, cookie = await sync_to_async(login_cookie)(user)
        headers.append(cookie)
    communicator = WebsocketCommunicator(application, "/ws/tickets/", headers=headers)
    connected, _detail = await communicator.connect(timeout=WAIT)
    assert connected
    return communicator, client


async def test_anonymous_socket_is_closed_with_4401():
    communicator, _ = await open_socket(None)
    assert await communicator.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_technician_socket_is_closed_with_4403(technician):
    communicator, _ = await open_socket(technician)
    assert await communicator.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()


async def test_agency_a_receives_its_public_events_and_nothing_of_agency_b(
    staff, other_staff, technician, service, make_ticket
):
    ours = await sync_to_async(make_ticket)()
    theirs = await sync_to_async(ticket_open)(
        service=service, requester=other_staff, subject="Theirs", impact=2, urgency=2
    )
    communicator, _ = await open_socket(staff)
    hello = await receive(communicator, "hello")
    await sync_to_async(ticket_claim)(ticket=theirs, technician=technician)
    await sync_to_async(ticket_comment)(ticket=theirs, author=technician, body="B only")
    await sync_to_async(ticket_comment)(ticket=ours, author=technician, body="Internal", internal=True)
    await sync_to_async(ticket_comment)(ticket=ours, author=technician, body="Public reply")
    event = await receive(communicator, "event")
    assert event["ticket"] == ours.number and event["kind"] == "commented" and event["cursor"] > hello["cursor"]
    # Nothing else arrived before it or after it: not agency B's events, not the internal note.
    assert await communicator.receive_nothing(timeout=QUIET)
    await communicator.send_json_to({"type": "resync", "since": hello["cursor"]})
    resync = await receive(communicator, "resync")
    assert [item["ticket"] for item in resync["events"]] == [ours.number]
    assert resync["cursor"] == event["cursor"]
    await communicator.disconnect()


async def test_removed_membership_closes_the_socket_at_its_heartbeat(staff, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, _ = await open_socket(staff)
    await receive(communicator, "hello")
    await receive(communicator, "heartbeat")
    await sync_to_async(AgencyMembership.objects.filter(user=staff).delete)()
    assert await closed_with(communicator) == 4403
    await communicator.disconnect()


async def test_moving_to_another_agency_closes_the_socket(staff, other_agency, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, _ = await open_socket(staff)
    await receive(communicator, "hello")
    await sync_to_async(AgencyMembership.objects.filter(user=staff).update)(agency=other_agency)
    assert await closed_with(communicator) == 4403
    await communicator.disconnect()


async def test_logging_out_closes_the_socket(staff, settings):
    # A heartbeat would close the socket too (its session is gone); only the logout signal can within the wait.
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 3600
    communicator, client = await open_socket(staff)
    await receive(communicator, "hello")
    assert client is not None
    response = await sync_to_async(client.post)("/accounts/logout/")
    assert response.status_code == 302
    assert await closed_with(communicator) == 4401
    await communicator.disconnect()

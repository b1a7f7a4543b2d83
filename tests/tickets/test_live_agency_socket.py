"""The agency pages' socket, /ws/tickets/, on the real Redis channel layer through the full ASGI stack: who may open
it, what it carries (its own agency's public events only) and when it closes."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.test import Client

from helpdesk.asgi import application
from tests.tickets.test_console_hardening import closed_with
from tests.tickets.test_console_inbound import heartbeat_tasks
from tests.tickets.test_console_socket import ORIGIN, WAIT, receive
from tickets.live import consumers as live_consumers
from tickets.live.selectors import live_heartbeats
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


async def test_a_password_changed_elsewhere_closes_the_socket_at_its_heartbeat(staff, settings):
    # Changed without the signal that closes the user's sockets at once (a lost broadcast): the heartbeat still does.
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, _ = await open_socket(staff)
    await receive(communicator, "hello")
    await receive(communicator, "heartbeat")
    await sync_to_async(User.objects.filter(pk=staff.pk).update)(password=make_password("a-new-password-2026"))
    assert await closed_with(communicator) == 4401
    await communicator.disconnect()


async def test_the_agency_sockets_of_a_process_share_one_heartbeat(staff, other_staff, make_ticket, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.05
    ticket = await sync_to_async(make_ticket)()
    sockets = [(await open_socket(user))[0] for user in (staff, staff, other_staff)]
    for communicator in sockets:
        await receive(communicator, "hello")
    beats = [await receive(communicator, "heartbeat") for communicator in sockets]
    newest = await sync_to_async(ticket.events.order_by("-pk").values_list("pk", flat=True).first)()
    assert [beat["cursor"] for beat in beats] == [newest, newest, 0]
    assert len(heartbeat_tasks("Agency socket heartbeat")) == 1
    for communicator in sockets:
        await communicator.disconnect()
    assert heartbeat_tasks("Agency socket heartbeat") == []


def test_one_heartbeat_answers_every_agency_socket_with_the_queries_of_one(
    staff, other_staff, technician, make_ticket, settings, django_assert_max_num_queries
):
    """A process's agency sockets beat together: each gets its own agency's cursor, or why it must close, and many
    sockets cost the queries of one."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    ticket = make_ticket()
    keys = {user.pk: login_cookie(user)[0].session.session_key for user in (staff, other_staff, technician)}
    ours = ticket.events.filter(public=True).order_by("-pk").values_list("pk", flat=True).first()
    staff_socket = (staff.pk, keys[staff.pk], staff.agency_membership.agency_id)
    other_socket = (other_staff.pk, keys[other_staff.pk], other_staff.agency_membership.agency_id)
    sockets = [
        *[staff_socket] * 20,
        other_socket,
        (staff.pk, "no-such-session", staff_socket[2]),
        (technician.pk, keys[technician.pk], staff_socket[2]),
        (staff.pk, keys[staff.pk], other_socket[2]),
    ]
    with django_assert_max_num_queries(2):
        assert live_heartbeats(sockets=sockets) == [ours] * 20 + [0, "session", "rights", "rights"]
    User.objects.filter(pk=staff.pk).update(password=make_password("a-new-password-2026"))
    assert live_heartbeats(sockets=sockets[:1]) == ["session"]


async def test_a_socket_that_crashes_leaves_the_heartbeat(staff, monkeypatch):
    communicator, _ = await open_socket(staff)
    await receive(communicator, "hello")
    assert len(heartbeat_tasks("Agency socket heartbeat")) == 1

    def broken(**kwargs):
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(live_consumers, "live_since", broken)
    await communicator.send_json_to({"type": "resync", "since": 0})
    with pytest.raises(RuntimeError, match="a bug in a handler"):
        await asyncio.wait_for(communicator.future, timeout=WAIT)
    assert heartbeat_tasks("Agency socket heartbeat") == []


async def test_a_closed_socket_gets_no_heartbeat_while_its_disconnect_comes_in(staff, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.05
    communicator, client = await open_socket(staff)
    await receive(communicator, "hello")
    await receive(communicator, "heartbeat")
    assert client is not None
    await sync_to_async(client.post)("/accounts/logout/")
    assert await closed_with(communicator) == 4401
    # The browser has not acknowledged the close yet: nothing more may be sent.
    assert await communicator.receive_nothing(timeout=QUIET)
    await communicator.disconnect()

"""The live console socket on the real Redis channel layer, driven through the full ASGI stack (origin check, session
auth, routing) as a browser would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client

from helpdesk.asgi import application
from tests.factories import ServiceFactory, TeamFactory, person_ref, technician_of
from tests.tickets.test_services import finished
from tickets.console.queue import queue_rows
from tickets.console.selectors import console_me
from tickets.models import Status, Ticket, TicketEvent
from tickets.services import ticket_assign, ticket_claim, ticket_close, ticket_comment, ticket_resolve

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
WAIT = 5


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={value}".encode())


async def open_socket(user=None, *, origin: tuple[bytes, bytes] | None = ORIGIN) -> tuple[WebsocketCommunicator, bool]:
    headers = [origin] if origin else []
    if user is not None:
        headers.append(await sync_to_async(session_cookie)(user))
    communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
    connected, _detail = await communicator.connect(timeout=WAIT)
    return communicator, connected


async def receive(communicator: WebsocketCommunicator, kind: str, *, where=None) -> dict[str, Any]:
    """The next message of `kind` (and matching `where`), skipping the others (heartbeats, presence, live events)."""

    async def wait() -> dict[str, Any]:
        while True:
            message = await communicator.receive_json_from(timeout=WAIT)
            if message["type"] == kind and (where is None or where(message)):
                return message

    return await asyncio.wait_for(wait(), timeout=WAIT)


async def technician_socket(user) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    communicator, connected = await open_socket(user)
    assert connected
    snapshot = await receive(communicator, "snapshot")
    return communicator, snapshot


class ConsoleView:
    """A console client following the contract: rows applied by version, kept only while the queue rule holds."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.me = snapshot["me"]
        self.versions: dict[int, int] = {}
        self.rows: dict[int, dict[str, Any]] = {}
        self.highest = snapshot["cursor"]
        self.last_heartbeat = snapshot["cursor"]
        self.safe_cursor = snapshot["cursor"]
        for row in snapshot["tickets"]:
            self.apply(row)

    def in_queue(self, row: dict[str, Any]) -> bool:
        assignee = row["assignee"]
        return row["is_open"] and (
            row["team"]["id"] in self.me["team_ids"] or assignee is None or assignee["id"] == self.me["id"]
        )

    def apply(self, row: dict[str, Any]) -> None:
        number = row["number"]
        if row["version"] < self.versions.get(number, 0):
            return
        self.versions[number] = row["version"]
        if self.in_queue(row):
            self.rows[number] = row
        else:
            self.rows.pop(number, None)

    def apply_event(self, message: dict[str, Any]) -> None:
        self.apply(message["ticket"])
        self.highest = max(self.highest, message["cursor"])

    def apply_message(self, message: dict[str, Any]) -> None:
        if message["type"] == "event":
            self.apply_event(message)
        elif message["type"] == "resync":
            for event in message["events"]:
                self.apply_event(event)
        elif message["type"] == "snapshot":
            self.__init__(message)
        elif message["type"] == "snapshot.more":
            for row in message["tickets"]:
                self.apply(row)

    def resync_needed(self, heartbeat: dict[str, Any]) -> bool:
        """Note a heartbeat; True when it shows events this client has not seen. Resync from `safe_cursor`: the
        previous heartbeat's cursor, so events that committed out of id order are fetched too."""
        self.safe_cursor = self.last_heartbeat
        self.last_heartbeat = heartbeat["cursor"]
        return heartbeat["cursor"] > self.highest


def database_queue(user) -> dict[int, dict[str, Any]]:
    return {row["number"]: row for row in queue_rows(me=console_me(user=user))}


def event_ids_after(cursor: int) -> list[int]:
    return list(TicketEvent.objects.filter(pk__gt=cursor).order_by("pk").values_list("pk", flat=True))


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


async def test_anonymous_socket_is_closed_with_4401():
    communicator, connected = await open_socket(None)
    assert connected
    assert await communicator.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_agency_staff_socket_is_closed_with_4403(staff):
    communicator, connected = await open_socket(staff)
    assert connected
    assert await communicator.receive_output(timeout=WAIT) == {"type": "websocket.close", "code": 4403}
    await communicator.disconnect()


async def test_technician_is_accepted_and_gets_the_snapshot_first(technician, team):
    communicator, connected = await open_socket(technician)
    assert connected
    first = await communicator.receive_json_from(timeout=WAIT)
    assert first["type"] == "snapshot"
    assert first["me"] == {"id": technician.pk, "name": technician.get_full_name(), "team_ids": [team.pk]}
    assert first["heartbeat_seconds"] == settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS
    second = await communicator.receive_json_from(timeout=WAIT)
    assert second["type"] == "presence"
    assert person_ref(technician) in second["online"]
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin", [(b"origin", b"https://evil.example.com"), None], ids=["foreign-origin", "missing-origin"]
)
async def test_socket_from_a_foreign_or_missing_origin_is_refused(technician, origin):
    communicator, connected = await open_socket(technician, origin=origin)
    assert not connected
    await communicator.disconnect()


async def test_snapshot_holds_my_teams_unassigned_and_my_open_tickets(
    technician, other_technician, team, service, make_ticket, staff
):
    def arrange():
        other_team = TeamFactory(code="data-centre", name_en="Data Centre", name_ar="مركز البيانات")
        other_service = ServiceFactory(code="gov-dc", team=other_team)
        outsider = technician_of(other_team, username="dc-tech")
        mine_by_team = make_ticket(subject="Team ticket, taken by a colleague")
        ticket_claim(ticket=mine_by_team, technician=other_technician)
        unassigned_elsewhere = make_ticket(service=other_service, subject="Unassigned data centre ticket")
        assigned_to_me = make_ticket(service=other_service, subject="Data centre ticket given to me")
        ticket_assign(ticket=assigned_to_me, actor=outsider, assignee=technician)
        taken_elsewhere = make_ticket(service=other_service, subject="Data centre ticket taken there")
        ticket_claim(ticket=taken_elsewhere, technician=outsider)
        closed = make_ticket(subject="Closed team ticket")
        ticket_resolve(ticket=ticket_claim(ticket=closed, technician=technician), actor=technician)
        ticket_close(ticket=closed, actor=staff)
        return mine_by_team, unassigned_elsewhere, assigned_to_me, taken_elsewhere, closed

    mine_by_team, unassigned_elsewhere, assigned_to_me, taken_elsewhere, closed = await sync_to_async(arrange)()
    communicator, snapshot = await technician_socket(technician)
    numbers = {row["number"] for row in snapshot["tickets"]}
    assert numbers == {mine_by_team.number, unassigned_elsewhere.number, assigned_to_me.number}
    assert taken_elsewhere.number not in numbers
    assert closed.number not in numbers
    assert snapshot["cursor"] == await sync_to_async(lambda: TicketEvent.objects.latest("pk").pk)()
    row = next(row for row in snapshot["tickets"] if row["number"] == mine_by_team.number)
    assert row["assignee"] == person_ref(other_technician)
    assert row["status"] == Status.IN_PROGRESS
    await communicator.disconnect()


async def test_a_large_queue_arrives_in_several_messages_that_add_up(technician, make_ticket, monkeypatch):
    monkeypatch.setattr("tickets.console.queue.SNAPSHOT_CHUNK_ROWS", 2)
    tickets = [await sync_to_async(make_ticket)(subject=f"Switch {n} down") for n in range(5)]
    communicator, first = await technician_socket(technician)
    parts = [first]
    while parts[-1]["more"]:
        parts.append(await receive(communicator, "snapshot.more"))
    assert [len(part["tickets"]) for part in parts] == [2, 2, 1]
    assert {part["cursor"] for part in parts} == {first["cursor"]}
    numbers = [row["number"] for part in parts for row in part["tickets"]]
    assert sorted(numbers) == sorted(ticket.number for ticket in tickets)
    await communicator.disconnect()


async def test_snapshot_cursor_is_the_newest_event(technician, make_ticket):
    tickets = [await sync_to_async(make_ticket)(subject=f"Printer {n} offline") for n in range(3)]
    communicator, snapshot = await technician_socket(technician)
    newest = await sync_to_async(lambda: Ticket.objects.get(pk=tickets[-1].pk).last_event_id)()
    assert snapshot["cursor"] == newest
    assert [row["version"] for row in snapshot["tickets"] if row["number"] == tickets[-1].number] == [newest]
    await communicator.disconnect()


async def test_ticket_opened_elsewhere_reaches_a_connected_technician(technician, make_ticket):
    communicator, _snapshot = await technician_socket(technician)
    ticket = await sync_to_async(make_ticket)(subject="Tawtheeq login fails for all users")
    message = await receive(communicator, "event")
    assert message["event"]["kind"] == "opened"
    assert message["event"]["ticket"] == ticket.number
    assert message["ticket"]["subject"] == "Tawtheeq login fails for all users"
    assert message["ticket"]["assignee"] is None
    assert (
        message["cursor"]
        == message["ticket"]["version"]
        == await sync_to_async(lambda: TicketEvent.objects.get(ticket_id=ticket.pk).pk)()
    )
    await communicator.disconnect()


async def test_resync_returns_exactly_the_missed_events_in_order(technician, make_ticket):
    communicator, snapshot = await technician_socket(technician)
    for n in range(3):
        await sync_to_async(make_ticket)(subject=f"Mail relay {n} rejects messages")
    missed = await sync_to_async(event_ids_after)(snapshot["cursor"])
    assert len(missed) == 3

    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    resync = await receive(communicator, "resync")
    assert resync["since"] == snapshot["cursor"]
    assert [message["cursor"] for message in resync["events"]] == missed
    assert resync["cursor"] == missed[-1]
    assert [message["event"]["kind"] for message in resync["events"]] == ["opened"] * 3

    await communicator.send_json_to({"type": "resync", "since": missed[0]})
    partial = await receive(communicator, "resync")
    assert [message["cursor"] for message in partial["events"]] == missed[1:]
    await communicator.disconnect()


async def test_resync_from_a_cursor_too_old_gets_a_snapshot(technician, make_ticket, settings):
    settings.HELPDESK_CONSOLE_RESYNC_LIMIT = 2
    communicator, snapshot = await technician_socket(technician)
    opened = [await sync_to_async(make_ticket)(subject=f"VPN gateway {n} down") for n in range(3)]
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    fresh = await receive(communicator, "snapshot")
    assert fresh["reason"] == "resync"
    assert {ticket.number for ticket in opened} <= {row["number"] for row in fresh["tickets"]}
    assert fresh["cursor"] == (await sync_to_async(event_ids_after)(snapshot["cursor"]))[-1]
    await communicator.disconnect()


async def test_a_claim_after_a_colleagues_is_told_who_has_the_ticket(technician, other_technician, make_ticket):
    # Sent one after the other: in a test the socket's actions run one at a time, so they cannot race. The row lock
    # that decides a real race is guarded by test_services' test_two_racing_claims_have_exactly_one_winner.
    ticket = await sync_to_async(make_ticket)()
    first, _ = await technician_socket(technician)
    second, _ = await technician_socket(other_technician)
    claim = {"type": "action", "action": "claim", "ticket": ticket.number, "version": ticket.last_event_id}
    await first.send_json_to({**claim, "request_id": "a"})
    won = await receive(first, "action.result")
    await second.send_json_to({**claim, "request_id": "b"})
    lost = await receive(second, "action.result")
    assert (won["request_id"], won["ok"]) == ("a", True)
    assert won["ticket"]["assignee"] == person_ref(technician)
    assert (lost["request_id"], lost["ok"]) == ("b", False)
    assert lost["error"] == f"{technician.get_full_name()} has already taken this ticket."
    assert lost["ticket"]["assignee"]["id"] == technician.pk
    assert lost["ticket"]["version"] == won["ticket"]["version"]
    kinds = await sync_to_async(lambda: list(ticket.events.values_list("kind", flat=True)))()
    assert kinds == ["opened", "assigned"]
    await first.disconnect()
    await second.disconnect()


async def test_resolving_a_closed_ticket_changes_nothing(technician, staff, make_ticket):
    def closed_ticket():
        ticket = make_ticket()
        ticket_resolve(ticket=ticket_claim(ticket=ticket, technician=technician), actor=technician)
        return ticket_close(ticket=ticket, actor=staff)

    ticket = await sync_to_async(closed_ticket)()
    events_before = await sync_to_async(TicketEvent.objects.count)()
    communicator, _ = await technician_socket(technician)
    await communicator.send_json_to(
        {
            "type": "action",
            "request_id": 7,
            "action": "status",
            "ticket": ticket.number,
            "version": ticket.last_event_id,
            "status": "resolved",
        }
    )
    result = await receive(communicator, "action.result")
    assert result["ok"] is False
    assert result["request_id"] == 7
    assert "not allowed" in result["error"]
    assert result["ticket"]["status"] == "closed"
    assert await sync_to_async(TicketEvent.objects.count)() == events_before
    await communicator.disconnect()


async def test_action_on_a_stale_version_changes_nothing(technician, other_technician, make_ticket):
    ticket = await sync_to_async(make_ticket)()
    seen_version = ticket.last_event_id
    await sync_to_async(ticket_assign)(ticket=ticket, actor=other_technician, assignee=other_technician)
    events_before = await sync_to_async(TicketEvent.objects.count)()
    communicator, _ = await technician_socket(technician)
    await communicator.send_json_to(
        {
            "type": "action",
            "request_id": "p",
            "action": "priority",
            "ticket": ticket.number,
            "version": seen_version,
            "priority": 1,
            "reason": "Whole ministry offline",
        }
    )
    result = await receive(communicator, "action.result")
    assert result["ok"] is False
    assert "changed" in result["error"]
    assert await sync_to_async(TicketEvent.objects.count)() == events_before
    assert (await sync_to_async(Ticket.objects.get)(pk=ticket.pk)).priority == ticket.priority
    await communicator.disconnect()


async def test_acknowledge_over_the_socket_is_broadcast_to_everyone(technician, other_technician, make_ticket):
    ticket = await sync_to_async(make_ticket)()
    actor, _ = await technician_socket(technician)
    watcher, _ = await technician_socket(other_technician)
    await actor.send_json_to(
        {
            "type": "action",
            "request_id": 1,
            "action": "acknowledge",
            "ticket": ticket.number,
            "version": ticket.last_event_id,
        }
    )
    result = await receive(actor, "action.result")
    assert result["ok"] is True
    assert result["error"] is None
    event = await receive(watcher, "event", where=lambda m: m["event"]["kind"] == "acknowledged")
    assert event["ticket"]["status"] == "acknowledged"
    assert event["event"]["actor"] == person_ref(technician)
    assert event["ticket"]["version"] == result["ticket"]["version"] > ticket.last_event_id
    await actor.disconnect()
    await watcher.disconnect()


async def test_unreadable_message_is_answered_with_an_error(technician):
    communicator, _ = await technician_socket(technician)
    await communicator.send_to(text_data="not json")
    error = await receive(communicator, "error")
    assert error["error"]
    await communicator.send_json_to({"type": "resync", "since": "yesterday"})
    error = await receive(communicator, "error")
    assert error["about"] == "resync"
    await communicator.disconnect()


async def test_heartbeat_carries_the_newest_cursor(technician, make_ticket, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, snapshot = await technician_socket(technician)
    ticket = await sync_to_async(make_ticket)()
    beat = await receive(communicator, "heartbeat", where=lambda m: m["cursor"] > snapshot["cursor"])
    assert beat["cursor"] == await sync_to_async(lambda: Ticket.objects.get(pk=ticket.pk).last_event_id)()
    assert beat["server_time"]
    await communicator.disconnect()


async def test_technicians_see_each_other_online_and_who_views_and_types(technician, other_technician, make_ticket):
    ticket = await sync_to_async(make_ticket)()
    first, _ = await technician_socket(technician)
    second, _ = await technician_socket(other_technician)
    both = {technician.pk, other_technician.pk}
    seen = await receive(first, "presence", where=lambda m: {user["id"] for user in m["online"]} == both)
    assert seen["tickets"] == {}

    await second.send_json_to({"type": "view", "ticket": ticket.number})
    viewing = await receive(first, "presence", where=lambda m: str(ticket.number) in m["tickets"])
    assert viewing["tickets"][str(ticket.number)] == [
        {**person_ref(other_technician), "typing": False}
    ]
    await second.send_json_to({"type": "typing", "ticket": ticket.number, "typing": True})
    typing = await receive(
        first, "presence", where=lambda m: any(v["typing"] for v in m["tickets"].get(str(ticket.number), []))
    )
    assert typing["tickets"][str(ticket.number)][0]["id"] == other_technician.pk

    await second.disconnect()
    gone = await receive(first, "presence", where=lambda m: {user["id"] for user in m["online"]} == {technician.pk})
    assert gone["tickets"] == {}
    await first.disconnect()


async def test_a_claim_on_a_stale_version_changes_nothing(technician, staff, make_ticket):
    ticket = await sync_to_async(make_ticket)()
    await sync_to_async(ticket_comment)(ticket=ticket, author=staff, body="It is the whole floor")
    events_before = await sync_to_async(TicketEvent.objects.count)()
    communicator, _ = await technician_socket(technician)
    await communicator.send_json_to(
        {"type": "action", "request_id": "c", "action": "claim", "ticket": ticket.number,
         "version": ticket.last_event_id}
    )
    result = await receive(communicator, "action.result")
    assert result["ok"] is False
    assert "changed" in result["error"]
    assert result["ticket"]["assignee"] is None
    assert await sync_to_async(TicketEvent.objects.count)() == events_before
    await communicator.disconnect()


async def test_a_finished_ticket_is_frozen_for_the_socket(technician, other_technician, staff, make_ticket):
    def arrange():
        return [finished(make_ticket, technician, staff, status) for status in (Status.CLOSED, Status.CANCELLED)]

    tickets = await sync_to_async(arrange)()
    events_before = await sync_to_async(TicketEvent.objects.count)()
    communicator, _ = await technician_socket(technician)
    attempts = [
        {"action": "assign", "assignee": other_technician.pk},
        {"action": "priority", "priority": 1, "reason": "Whole ministry offline"},
        {"action": "claim"},
    ]
    for ticket in tickets:
        for attempt in attempts:
            request_id = f"{ticket.number}-{attempt['action']}"
            await communicator.send_json_to(
                {"type": "action", "request_id": request_id, "ticket": ticket.number,
                 "version": ticket.last_event_id, **attempt}
            )
            result = await receive(communicator, "action.result", where=lambda m, r=request_id: m["request_id"] == r)
            assert result["ok"] is False, request_id
            assert "no longer open" in result["error"], request_id
            assert result["ticket"]["status"] == ticket.status
            assert result["ticket"]["assignee"]["id"] == technician.pk
            assert result["ticket"]["priority"] == ticket.priority
    assert await sync_to_async(TicketEvent.objects.count)() == events_before
    await communicator.disconnect()


async def test_what_a_socket_is_sent_does_not_consult_its_session(technician, make_ticket, monkeypatch):
    """A socket reads its login session when it connects and never writes it: the events sent to a thousand consoles
    must not each ask whether the session changed (Channels' session middleware did, at every message)."""
    communicator, _snapshot = await technician_socket(technician)
    consulted: list[str] = []
    monkeypatch.setattr(SessionBase, "is_empty", lambda session: consulted.append("is_empty") or False)
    ticket = await sync_to_async(make_ticket)()
    await receive(communicator, "event", where=lambda m: m["ticket"]["number"] == ticket.number)
    assert consulted == []
    await communicator.disconnect()

"""What the console socket does with messages it cannot or must not handle: it answers with an error and stays
usable, and however a socket ends, its heartbeat and presence end with it."""

from __future__ import annotations

import asyncio
import functools
import json
import logging

import pytest
from channels.db import database_sync_to_async

from tests.tickets.test_console_socket import receive, technician_socket
from tickets.console import consumers
from tickets.console.inbound import (
    BURST,
    MAX_MESSAGE_CHARS,
    OVERRUNS_BEFORE_CLOSE,
    RESYNC_COST,
    MessageBudget,
    Verdict,
    message_decode,
)
from tickets.models import ConsolePresence, TicketEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


def heartbeat_tasks(name: str = "Console heartbeat") -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if not task.done() and task.get_name() == name]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        '{"type": "resync", "since": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"type": "view", "ticket": {"a": {"b": {"c": {"d": {"e": 1}}}}}}',
        '{"type": "note", "body": "' + "x" * MAX_MESSAGE_CHARS + '"}',
    ],
    ids=["deep-list", "deep-value", "five-levels", "oversized"],
)
async def test_a_deep_or_huge_message_gets_an_error_and_the_socket_stays_usable(text, technician):
    communicator, snapshot = await technician_socket(technician)
    await communicator.send_to(text_data=text)
    error = await receive(communicator, "error")
    assert error["error"] == "The console did not understand that message."
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    assert (await receive(communicator, "resync"))["events"] == []
    await communicator.disconnect()


def test_brackets_typed_inside_a_text_do_not_count_as_nesting():
    message = {"type": "action", "action": "note", "body": 'see [[[[[[[[ and {{{{{{ \\" ]]]]'}
    assert message_decode(json.dumps(message)) == message


async def test_a_socket_that_crashes_leaves_no_heartbeat_or_presence_behind(technician, monkeypatch, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.05
    communicator, _snapshot = await technician_socket(technician)
    await receive(communicator, "heartbeat")
    assert len(heartbeat_tasks()) == 1
    assert await database_sync_to_async(ConsolePresence.objects.count)() == 1

    def broken(text):
        raise RuntimeError("a bug in a handler")

    monkeypatch.setattr(consumers, "message_decode", broken)
    await communicator.send_to(text_data='{"type": "resync", "since": 0}')
    with pytest.raises(RuntimeError, match="a bug in a handler"):
        await asyncio.wait_for(communicator.future, timeout=5)
    assert heartbeat_tasks() == []
    assert await database_sync_to_async(ConsolePresence.objects.count)() == 0


async def test_text_with_a_lone_surrogate_is_refused_like_nul_and_nothing_is_written(technician, make_ticket, caplog):
    ticket = await database_sync_to_async(make_ticket)()
    communicator, snapshot = await technician_socket(technician)
    await communicator.send_to(
        text_data=f'{{"type": "action", "request_id": "r\\udc00", "action": "note", "ticket": {ticket.number},'
        f' "version": {ticket.last_event_id}, "body": "a\\ud800b"}}'
    )
    assert (await receive(communicator, "error"))["error"] == "The console did not understand that message."
    assert await database_sync_to_async(TicketEvent.objects.filter(ticket=ticket).count)() == 1
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    assert (await receive(communicator, "resync"))["events"] == []
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
    await communicator.disconnect()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_warns_once_then_drops_then_closes_and_forgives_a_client_that_calms_down():
    clock = FakeClock()
    budget = MessageBudget(rate=2, burst=4, clock=clock)
    assert [budget.spend() for _ in range(4)] == [Verdict.ACCEPT] * 4
    assert budget.spend() is Verdict.WARN
    assert {budget.spend() for _ in range(OVERRUNS_BEFORE_CLOSE - 1)} == {Verdict.DROP}
    clock.now += 0.5
    assert budget.spend() is Verdict.ACCEPT
    assert budget.spend() is Verdict.CLOSE
    clock.now += 2
    assert budget.spend() is Verdict.ACCEPT
    assert budget.spend(3) is Verdict.ACCEPT
    assert budget.spend() is Verdict.WARN


async def test_a_flood_gets_one_error_then_the_socket_is_closed(technician, make_ticket):
    ticket = await database_sync_to_async(make_ticket)()
    communicator, _snapshot = await technician_socket(technician)
    for _ in range(int(BURST) + OVERRUNS_BEFORE_CLOSE + 10):
        await communicator.send_json_to({"type": "view", "ticket": ticket.number})
    errors = []

    async def until_closed() -> dict:
        while True:
            output = await communicator.receive_output(timeout=5)
            if output["type"] == "websocket.close":
                return output
            message = json.loads(output["text"])
            if message["type"] == "error":
                errors.append(message)

    output = await asyncio.wait_for(until_closed(), timeout=30)
    assert output["code"] == 4429
    assert [error["about"] for error in errors] == ["rate"]
    assert errors[0]["error"] == "Too many messages: the console ignores them for a moment."
    await communicator.disconnect()


async def test_resyncs_cost_more_than_other_messages(technician, monkeypatch):
    # A bucket that barely refills: on a loaded machine a resync can take as long as the bucket needs to refill its
    # cost, so the test counts the cost, not the speed.
    monkeypatch.setattr(consumers, "MessageBudget", functools.partial(consumers.MessageBudget, rate=0.01))
    communicator, snapshot = await technician_socket(technician)
    for _ in range(int(BURST // RESYNC_COST) + 1):
        await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    assert (await receive(communicator, "error"))["about"] == "rate"
    await communicator.disconnect()

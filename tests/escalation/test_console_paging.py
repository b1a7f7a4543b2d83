"""What the console shows of paging: each queue row, in the snapshot and in every live event, says whom the ticket
was paged to, at which step, and when the next step fires; acknowledging clears it."""

from __future__ import annotations

import json

import pytest

from tests.escalation.conftest import MINUTE, T0, fire_due
from tickets.console.queue import console_snapshot
from tickets.console.selectors import console_me
from tickets.models import Level, Ticket
from tickets.selectors import event_messages_get, ticket_row
from tickets.services import ticket_acknowledge

pytestmark = pytest.mark.django_db


def snapshot_row(user, number: int) -> dict:
    rows = json.loads(console_snapshot(me=console_me(user=user)).texts[0])["tickets"]
    return next(row for row in rows if row["number"] == number)


def contract_row(number: int) -> dict:
    ticket = Ticket.objects.select_related("agency", "service", "team", "assignee", "escalation").get(number=number)
    return ticket_row(ticket)


def test_the_queue_row_and_the_live_event_carry_the_page(make_ticket, chain, alice):
    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH, now=T0)
    assert snapshot_row(alice, ticket.number)["paging"] is None

    fire_due(T0)
    paging = snapshot_row(alice, ticket.number)["paging"]
    assert paging["targets"] == [{"id": alice.pk, "name": "Alice Primary"}]
    assert (paging["kind"], paging["trigger"], paging["step"], paging["steps"], paging["stopped"]) == (
        "paged",
        "step",
        1,
        3,
        False,
    )
    assert snapshot_row(alice, ticket.number) == contract_row(ticket.number)
    latest = Ticket.objects.get(pk=ticket.pk).last_event_id
    assert event_messages_get(event_ids=[latest])[0]["ticket"]["paging"] == paging

    ticket_acknowledge(ticket=ticket, actor=alice, now=T0 + MINUTE)
    row = snapshot_row(alice, ticket.number)
    assert row["paging"]["stopped"] is True
    assert row["paging"]["next_at"] is None
    assert row == contract_row(ticket.number)

"""Closing belongs to the requester: they confirm the fix, or the ticket closes itself once they leave it unanswered
for HELPDESK_AUTOCLOSE_WORKING_DAYS working days. A technician cannot close it for them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tickets.console.actions import console_action
from tickets.exceptions import NotAllowed
from tickets.models import Channel, Status, Ticket, TicketEvent
from tickets.services import (
    ticket_autoclose_due,
    ticket_claim,
    ticket_comment,
    ticket_reopen,
    ticket_resolve,
    ticket_set_status,
)

QATAR = ZoneInfo("Asia/Qatar")
# Resolved on Sunday 29 November 2026 in Doha: the five whole working days after it are Monday to Thursday and the
# next Sunday, so the ticket closes itself as that Sunday ends.
RESOLVED_AT = dt.datetime(2026, 11, 29, 10, 0, tzinfo=QATAR)
DUE_AT = dt.datetime(2026, 12, 7, 0, 0, tzinfo=QATAR)


@pytest.fixture
def resolved(make_ticket, technician):
    ticket = make_ticket(now=RESOLVED_AT - dt.timedelta(hours=2))
    ticket_claim(ticket=ticket, technician=technician, now=RESOLVED_AT - dt.timedelta(hours=1))
    return ticket_resolve(ticket=ticket, actor=technician, note="Replaced the switch.", now=RESOLVED_AT)


@pytest.mark.django_db
def test_a_technician_cannot_close_a_resolved_ticket(resolved, technician):
    with pytest.raises(NotAllowed, match="Only the requester closes a ticket"):
        ticket_set_status(ticket=resolved, actor=technician, status=Status.CLOSED)
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED
    assert not TicketEvent.objects.filter(ticket=resolved, kind=TicketEvent.Kind.CLOSED).exists()


@pytest.mark.django_db
def test_the_console_refuses_a_close_with_the_reason(resolved, technician):
    result = console_action(
        user=technician,
        action="status",
        number=resolved.number,
        data={"version": resolved.last_event_id, "status": "closed"},
    )
    assert result.ok is False
    assert "Only the requester closes a ticket" in (result.error or "")
    assert Ticket.objects.get(pk=resolved.pk).status == Status.RESOLVED


@pytest.mark.django_db
def test_the_requester_confirms_the_fix(resolved, staff):
    ticket_set_status(ticket=resolved, actor=staff, status=Status.CLOSED, channel=Channel.WEB)
    assert Ticket.objects.get(pk=resolved.pk).status == Status.CLOSED


@pytest.mark.django_db
def test_an_unanswered_fix_closes_itself_after_five_working_days(resolved, staff, client, settings):
    settings.HELPDESK_AUTOCLOSE_WORKING_DAYS = 5
    assert ticket_autoclose_due(now=DUE_AT - dt.timedelta(minutes=1)) == 0
    assert Ticket.objects.get(pk=resolved.pk).status == Status.RESOLVED

    assert ticket_autoclose_due(now=DUE_AT) == 1
    ticket = Ticket.objects.get(pk=resolved.pk)
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at == DUE_AT
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert (event.kind, event.actor, event.channel) == (TicketEvent.Kind.CLOSED, None, Channel.SYSTEM)
    assert event.before == {"status": "resolved"}
    assert ticket_autoclose_due(now=DUE_AT + dt.timedelta(days=30)) == 0

    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "The ticket closed itself: the fix was not answered in time." in page


@pytest.mark.django_db
def test_the_requester_is_told_when_the_ticket_will_close_itself(resolved, staff, client, settings):
    settings.HELPDESK_AUTOCLOSE_WORKING_DAYS = 3
    client.force_login(staff)
    arabic = client.get(f"/tickets/{resolved.number}/", headers={"accept-language": "ar"}).content.decode()
    assert "من دون رد، تُغلق التذكرة تلقائيًا بعد 3 أيام عمل." in arabic
    page = client.get(f"/tickets/{resolved.number}/", headers={"accept-language": "en"}).content.decode()
    assert "Without an answer, the ticket closes itself after 3 working days." in page


@pytest.mark.django_db
def test_a_reply_after_the_fix_starts_the_wait_again(resolved, staff, settings):
    settings.HELPDESK_AUTOCLOSE_WORKING_DAYS = 5
    answered_at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=QATAR)
    ticket_comment(ticket=resolved, author=staff, body="Still slow on floor 2.", now=answered_at)
    assert ticket_autoclose_due(now=DUE_AT) == 0
    # Answered on Tuesday: Wednesday, Thursday, Sunday, Monday and Tuesday are the five working days after it.
    assert ticket_autoclose_due(now=dt.datetime(2026, 12, 8, 23, 59, tzinfo=QATAR)) == 0
    assert ticket_autoclose_due(now=dt.datetime(2026, 12, 9, 0, 0, tzinfo=QATAR)) == 1


@pytest.mark.django_db
def test_internal_notes_do_not_keep_a_ticket_open(resolved, technician, settings):
    settings.HELPDESK_AUTOCLOSE_WORKING_DAYS = 5
    ticket_comment(ticket=resolved, author=technician, body="Watching it.", internal=True, now=DUE_AT)
    assert ticket_autoclose_due(now=DUE_AT) == 1


@pytest.mark.django_db
def test_a_reopened_ticket_does_not_close_itself(resolved, staff, settings):
    settings.HELPDESK_AUTOCLOSE_WORKING_DAYS = 5
    ticket_reopen(ticket=resolved, actor=staff, note="It failed again.", now=RESOLVED_AT + dt.timedelta(hours=1))
    assert ticket_autoclose_due(now=DUE_AT + dt.timedelta(days=30)) == 0
    assert Ticket.objects.get(pk=resolved.pk).status == Status.IN_PROGRESS

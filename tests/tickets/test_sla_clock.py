"""The SLA clock through the ticket services: deadlines on the calendar, pauses, re-targets, reopening, the first
response, the clock entry of each change's event, and the due times on the ticket page."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from escalation.models import BusinessCalendar, ClosureDate, SlaPolicy
from tests.factories import ServiceFactory
from tickets.console.queue import console_snapshot, queue_rows
from tickets.console.selectors import console_me
from tickets.models import Level, Status, Ticket, TicketEvent
from tickets.selectors import ticket_row
from tickets.services import (
    ticket_acknowledge,
    ticket_claim,
    ticket_close,
    ticket_comment,
    ticket_reopen,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db
QATAR = ZoneInfo("Asia/Qatar")
P1 = {"impact": Level.HIGH, "urgency": Level.HIGH}
P2 = {"impact": Level.HIGH, "urgency": Level.MEDIUM}
P3 = {"impact": Level.MEDIUM, "urgency": Level.MEDIUM}


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


def due(ticket) -> tuple[dt.datetime, dt.datetime]:
    ticket.refresh_from_db()
    return ticket.response_due_at, ticket.resolution_due_at


def last_event(ticket) -> TicketEvent:
    return ticket.events.order_by("-id").first()


def test_p3_opened_thursday_afternoon_is_due_after_the_weekend(make_ticket):
    ticket = make_ticket(now=at(2026, 11, 26, 13, 0), **P3)
    # 4 working hours: 1 on Thursday, 3 on Sunday. 21 working hours: Thursday 1, Sunday 7, Monday 7, Tuesday 6.
    assert due(ticket) == (at(2026, 11, 29, 10, 0), at(2026, 12, 1, 13, 0))
    assert ticket.resolution_warning_at == at(2026, 12, 1, 7, 45)  # 75 %: 15 h 45 min of working time
    assert ticket.events.get().after["sla"] == {
        "response_due_at": at(2026, 11, 29, 10, 0).astimezone(dt.UTC).isoformat(),
        "resolution_due_at": at(2026, 12, 1, 13, 0).astimezone(dt.UTC).isoformat(),
        "resolution_warning_at": at(2026, 12, 1, 7, 45).astimezone(dt.UTC).isoformat(),
    }


def test_an_eid_holiday_is_skipped(make_ticket):
    # Eid al-Adha is Wednesday 27 and Thursday 28 May 2026, then the weekend.
    ticket = make_ticket(now=at(2026, 5, 26, 13, 0), **P3)
    assert due(ticket)[0] == at(2026, 5, 31, 10, 0)


def test_a_closure_date_is_skipped(make_ticket):
    calendar = BusinessCalendar.objects.get(code="working-week")
    ClosureDate.objects.create(calendar=calendar, date=dt.date(2026, 11, 29), reason_en="Extra holiday")
    ticket = make_ticket(now=at(2026, 11, 26, 13, 0), **P3)
    assert due(ticket)[0] == at(2026, 11, 30, 10, 0)


def test_around_the_clock_ignores_holidays_and_closures(make_ticket):
    calendar = BusinessCalendar.objects.get(code="working-week")
    ClosureDate.objects.create(calendar=calendar, date=dt.date(2026, 5, 31))
    eid_night = at(2026, 5, 27, 23, 30, 10)
    assert due(make_ticket(now=eid_night, **P1)) == (at(2026, 5, 27, 23, 45, 10), at(2026, 5, 28, 3, 30, 10))
    closed_sunday = at(2026, 5, 31, 9, 0)
    assert due(make_ticket(now=closed_sunday, **P2)) == (at(2026, 5, 31, 9, 30), at(2026, 5, 31, 17, 0))


def test_an_agency_or_service_override_wins(make_ticket, agency):
    around = BusinessCalendar.objects.get(code="24x7")
    hour = dt.timedelta(hours=1)
    SlaPolicy.objects.create(priority=3, agency=agency, first_response=hour, resolution=6 * hour, calendar=around)
    thursday = at(2026, 11, 26, 13, 0)
    assert due(make_ticket(now=thursday, **P3)) == (at(2026, 11, 26, 14, 0), at(2026, 11, 26, 19, 0))

    mail = ServiceFactory(code="gov-mail")
    SlaPolicy.objects.create(priority=3, service=mail, first_response=2 * hour, resolution=3 * hour, calendar=around)
    assert due(make_ticket(now=thursday, service=mail, **P3)) == (at(2026, 11, 26, 15, 0), at(2026, 11, 26, 16, 0))


def test_pause_and_resume_with_a_priority_change_during_the_pause(make_ticket, staff, technician):
    opened = at(2026, 11, 29, 10, 0, 7)
    ticket = make_ticket(now=opened, **P2)
    ticket_claim(ticket=ticket, technician=technician, now=opened + dt.timedelta(minutes=10))
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(2026, 11, 29, 11, 0, 7))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == at(2026, 11, 29, 11, 0, 7)
    assert last_event(ticket).after["sla"] == {"paused_at": at(2026, 11, 29, 11, 0, 7).astimezone(dt.UTC).isoformat()}

    ticket_set_priority(ticket=ticket, actor=technician, priority=1, reason="Whole ministry offline",
                        now=at(2026, 11, 29, 12, 0, 7))  # fmt: skip
    assert "sla" not in last_event(ticket).after  # a paused clock takes the new targets when it resumes
    ticket_comment(ticket=ticket, author=staff, body="Here is the log you asked for.", now=at(2026, 11, 29, 13, 0, 7))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.sla_paused_at) == (Status.IN_PROGRESS, None)
    # P1 resolution (4 h) plus the 2 h the ticket waited on the requester.
    assert ticket.resolution_due_at == at(2026, 11, 29, 16, 0, 7)
    assert ticket.resolution_warning_at == at(2026, 11, 29, 15, 0, 7)
    pause = [at(2026, 11, 29, 11, 0, 7).astimezone(dt.UTC).isoformat(),
             at(2026, 11, 29, 13, 0, 7).astimezone(dt.UTC).isoformat()]  # fmt: skip
    assert ticket.sla_pauses == [pause]
    answer = last_event(ticket)
    assert answer.kind == TicketEvent.Kind.COMMENTED
    assert answer.after["sla"]["resolution_due_at"] == at(2026, 11, 29, 16, 0, 7).astimezone(dt.UTC).isoformat()
    assert answer.after["sla"]["pauses"] == [pause]

    # A second pause, ended by a technician, and another priority change: both pauses stay counted.
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(2026, 11, 29, 14, 0, 7))
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS, now=at(2026, 11, 29, 14, 30, 7))
    assert due(ticket)[1] == at(2026, 11, 29, 16, 30, 7)
    ticket_set_priority(ticket=ticket, actor=technician, priority=2, reason="Partial outage only",
                        now=at(2026, 11, 29, 15, 0, 7))  # fmt: skip
    assert due(ticket)[1] == at(2026, 11, 29, 20, 30, 7)  # 8 h + 2 h 30 min paused
    assert TicketEvent.objects.filter(ticket=ticket).count() == 8  # one event per change, clock changes included


def test_pause_and_resume_on_the_working_calendar(make_ticket, staff, technician):
    opened = at(2026, 11, 29, 7, 0)  # Sunday
    ticket = make_ticket(now=opened, **P3)
    ticket_acknowledge(ticket=ticket, actor=technician, now=at(2026, 11, 29, 8, 0))
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(2026, 11, 29, 9, 0))
    ticket_set_priority(ticket=ticket, actor=technician, priority=4, reason="Workaround in place",
                        now=at(2026, 11, 29, 10, 0))  # fmt: skip
    ticket_comment(ticket=ticket, author=staff, body="The workaround holds.", now=at(2026, 11, 30, 9, 0))
    # P4: 7 and 35 working hours; 2 used before the pause, which covered 7 working hours (Sunday 5, Monday 2).
    assert due(ticket) == (at(2026, 11, 30, 14, 0), at(2026, 12, 6, 14, 0))
    assert ticket.resolution_warning_at == at(2026, 12, 3, 12, 15)


def test_reopen_after_resolve_continues_the_clock(make_ticket, staff, technician):
    opened = at(2026, 11, 29, 10, 0)
    ticket = make_ticket(now=opened, **P2)
    ticket_claim(ticket=ticket, technician=technician, now=at(2026, 11, 29, 10, 5))
    ticket_resolve(ticket=ticket, actor=technician, note="Rebooted the router.", now=at(2026, 11, 29, 11, 0))
    assert last_event(ticket).after["sla"] == {"stopped_at": at(2026, 11, 29, 11, 0).astimezone(dt.UTC).isoformat()}
    ticket_reopen(ticket=ticket, actor=staff, note="Down again.", now=at(2026, 11, 29, 13, 0))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.sla_paused_at) == (Status.IN_PROGRESS, None, None)
    # 8 h resolution target, 1 h used before the fix: 7 h left from 13:00.
    assert ticket.resolution_due_at == at(2026, 11, 29, 20, 0)
    assert ticket.responded_at == at(2026, 11, 29, 10, 5)
    assert last_event(ticket).after["sla"]["resolution_due_at"] == at(2026, 11, 29, 20, 0).astimezone(
        dt.UTC
    ).isoformat()


def test_confirming_the_fix_leaves_the_stopped_clock_alone(make_ticket, staff, technician):
    ticket = make_ticket(now=at(2026, 11, 29, 10, 0), **P2)
    ticket_claim(ticket=ticket, technician=technician, now=at(2026, 11, 29, 10, 5))
    ticket_resolve(ticket=ticket, actor=technician, now=at(2026, 11, 29, 11, 0))
    before = due(ticket)
    ticket_close(ticket=ticket, actor=staff, now=at(2026, 11, 29, 15, 0))
    assert due(ticket) == before
    assert (ticket.status, ticket.sla_pauses) == (Status.CLOSED, [])
    assert "sla" not in last_event(ticket).after


def test_a_technicians_first_public_reply_meets_the_response_target(make_ticket, staff, technician):
    ticket = make_ticket(now=at(2026, 11, 29, 10, 0), **P2)
    ticket_comment(ticket=ticket, author=staff, body="Any news?", now=at(2026, 11, 29, 10, 2))
    ticket_comment(ticket=ticket, author=technician, body="Checking.", internal=True, now=at(2026, 11, 29, 10, 3))
    ticket.refresh_from_db()
    assert ticket.responded_at is None
    ticket_comment(ticket=ticket, author=technician, body="We are on it.", now=at(2026, 11, 29, 10, 4))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.responded_at) == (Status.NEW, at(2026, 11, 29, 10, 4))
    assert last_event(ticket).after["sla"]["responded_at"] == at(2026, 11, 29, 10, 4).astimezone(dt.UTC).isoformat()
    ticket_comment(ticket=ticket, author=technician, body="Still on it.", now=at(2026, 11, 29, 10, 9))
    ticket.refresh_from_db()
    assert ticket.responded_at == at(2026, 11, 29, 10, 4)
    assert "sla" not in last_event(ticket).after


def test_acknowledging_or_claiming_meets_the_response_target(make_ticket, technician):
    acknowledged = make_ticket(now=at(2026, 11, 29, 10, 0), **P1)
    ticket_acknowledge(ticket=acknowledged, actor=technician, now=at(2026, 11, 29, 10, 7))
    claimed = make_ticket(now=at(2026, 11, 29, 10, 0), **P1)
    ticket_claim(ticket=claimed, technician=technician, now=at(2026, 11, 29, 10, 8))
    acknowledged.refresh_from_db()
    claimed.refresh_from_db()
    assert (acknowledged.responded_at, claimed.responded_at) == (at(2026, 11, 29, 10, 7), at(2026, 11, 29, 10, 8))


def page(client, user, ticket, language="en") -> str:
    client.force_login(user)
    return client.get(f"/tickets/{ticket.number}/", headers={"accept-language": language}).content.decode()


def facts(html: str) -> str:
    return " ".join(html[html.index('class="ticket-facts'):].split())


@pytest.mark.parametrize(
    ("language", "response", "resolution", "met", "paused"),
    [
        ("en", "First response due", "Resolution due", "met", "paused while waiting on you"),
        ("ar", "موعد الاستجابة الأولى", "موعد الحل", "تحقّق", "متوقف مؤقتاً بانتظار ردّك"),
    ],
)
def test_the_page_shows_agency_staff_the_due_times(
    client, make_ticket, staff, technician, language, response, resolution, met, paused
):
    ticket = make_ticket(now=at(2026, 11, 26, 13, 0), **P3)
    shown = facts(page(client, staff, ticket, language))
    assert response in shown and resolution in shown
    # Sunday 10:00 and Tuesday 13:00, Qatar time.
    assert 'datetime="2026-11-29T10:00:00+03:00"' in shown and 'datetime="2026-12-01T13:00:00+03:00"' in shown
    assert "10:00" in shown and "13:00" in shown
    assert met not in shown

    ticket_claim(ticket=ticket, technician=technician, now=at(2026, 11, 29, 8, 0))
    assert met in facts(page(client, staff, ticket, language))

    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(2026, 11, 29, 9, 0))
    shown = facts(page(client, staff, ticket, language))
    assert shown.count(paused) == 1  # the resolution; the response target is met
    assert met in shown
    assert 'datetime="2026-12-01T13:00:00+03:00"' not in shown


def test_console_rows_carry_the_clock(make_ticket, technician):
    ticket = make_ticket(now=at(2026, 11, 29, 10, 0), **P2)
    ticket_claim(ticket=ticket, technician=technician, now=at(2026, 11, 29, 10, 4))
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(2026, 11, 29, 10, 30))
    me = console_me(user=technician)
    row = json.loads(console_snapshot(me=me).texts[0])["tickets"][0]
    assert row == queue_rows(me=me)[0] == ticket_row(Ticket.objects.get(pk=ticket.pk))
    assert (row["responded_at"], row["sla_paused_at"], row["resolution_warning_at"]) == (
        "2026-11-29T07:04:00+00:00",
        "2026-11-29T07:30:00+00:00",
        "2026-11-29T13:00:00+00:00",
    )

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from tests.factories import technician_of
from tickets.exceptions import AlreadyClaimed, InvalidInput, NotAllowed, StaleTicket
from tickets.models import Comment, Level, Priority, Status, Ticket, TicketEvent
from tickets.services import (
    ticket_assign,
    ticket_claim,
    ticket_comment,
    ticket_open,
    ticket_reopen,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
)

QATAR = ZoneInfo("Asia/Qatar")


@pytest.mark.django_db
def test_open_writes_one_event_with_number_agency_team_and_deadlines(make_ticket, staff, agency, team):
    opened = dt.datetime(2026, 11, 29, 10, 0, tzinfo=QATAR)  # a Sunday, inside working hours
    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH, now=opened)
    assert ticket.number > 100000
    assert ticket.reference == f"HD-{ticket.number}"
    assert ticket.agency == agency
    assert ticket.team == team
    assert ticket.status == Status.NEW
    assert ticket.response_due_at == opened + dt.timedelta(minutes=15)
    assert ticket.resolution_due_at == opened + dt.timedelta(hours=4)
    events = list(TicketEvent.objects.filter(ticket=ticket))
    assert len(events) == 1
    assert events[0].kind == "opened"
    assert events[0].actor == staff
    assert events[0].channel == "web"
    assert ticket.last_event_id == events[0].pk


@pytest.mark.django_db
def test_p3_deadlines_run_on_working_hours(make_ticket):
    opened = dt.datetime(2026, 11, 26, 12, 0, tzinfo=QATAR)  # Thursday 12:00, two working hours before the weekend
    ticket = make_ticket(impact=Level.MEDIUM, urgency=Level.MEDIUM, now=opened)
    assert ticket.priority == Priority.P3
    # 2 h on Thursday, then Friday and Saturday off, 2 h more from Sunday 07:00.
    assert ticket.response_due_at == dt.datetime(2026, 11, 29, 9, 0, tzinfo=QATAR)


@pytest.mark.django_db
def test_blank_subject_opens_nothing(service, staff):
    with pytest.raises(InvalidInput):
        ticket_open(service=service, requester=staff, subject="   ", impact=1, urgency=1)
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


@pytest.mark.django_db
def test_every_change_writes_exactly_one_event(make_ticket, staff, technician, other_technician):
    ticket = make_ticket()
    steps = [
        lambda: ticket_comment(ticket=ticket, author=staff, body="Any news?"),
        lambda: ticket_claim(ticket=ticket, technician=technician),
        lambda: ticket_comment(ticket=ticket, author=technician, body="Checking the switch", internal=True),
        lambda: ticket_assign(ticket=ticket, actor=technician, assignee=other_technician),
        lambda: ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason="Ministry-wide"),
        lambda: ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING),
        lambda: ticket_comment(ticket=ticket, author=staff, body="Rebooted, still down"),
        lambda: ticket_resolve(ticket=ticket, actor=other_technician, note="Replaced the uplink"),
        lambda: ticket_reopen(ticket=ticket, actor=staff, note="Down again"),
    ]
    for step in steps:
        count = TicketEvent.objects.count()
        step()
        assert TicketEvent.objects.count() == count + 1
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [
        "opened", "commented", "assigned", "commented", "assigned", "priority_changed", "status_changed",
        "commented", "resolved", "reopened",
    ]


@pytest.mark.django_db
def test_requester_answer_resumes_a_waiting_ticket(make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING)
    ticket_comment(ticket=ticket, author=staff, body="Here is the log you asked for")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert event.before == {"status": "waiting"}
    assert event.after["status"] == "in_progress"


@pytest.mark.django_db
def test_internal_note_is_hidden_event_and_staff_cannot_write_one(make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_comment(ticket=ticket, author=technician, body="Vendor case 42", internal=True)
    assert TicketEvent.objects.filter(ticket=ticket).latest("id").public is False
    with pytest.raises(NotAllowed):
        ticket_comment(ticket=ticket, author=staff, body="sneaky", internal=True)
    assert Comment.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_second_claim_sees_who_has_it(make_ticket, technician, other_technician):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    with pytest.raises(AlreadyClaimed, match=technician.get_full_name()):
        ticket_claim(ticket=ticket, technician=other_technician)
    ticket.refresh_from_db()
    assert ticket.assignee == technician
    assert ticket.status == Status.IN_PROGRESS


@pytest.mark.django_db
def test_stale_version_changes_nothing(make_ticket, staff, technician):
    ticket = make_ticket()
    seen = ticket.last_event_id
    ticket_comment(ticket=ticket, author=staff, body="More detail")
    count = TicketEvent.objects.count()
    with pytest.raises(StaleTicket):
        ticket_set_status(ticket=ticket, actor=technician, status=Status.ACKNOWLEDGED, expected_event_id=seen)
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert TicketEvent.objects.count() == count


@pytest.mark.django_db
def test_priority_change_needs_a_reason_and_moves_deadlines(make_ticket, technician):
    ticket = make_ticket(impact=Level.LOW, urgency=Level.LOW)
    with pytest.raises(InvalidInput):
        ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason=" ")
    ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason="Whole ministry offline")
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P1
    assert ticket.response_due_at == ticket.opened_at + dt.timedelta(minutes=15)


@pytest.mark.django_db
def test_only_technicians_can_be_assigned(make_ticket, technician, staff):
    ticket = make_ticket()
    with pytest.raises(InvalidInput):
        ticket_assign(ticket=ticket, actor=technician, assignee=staff)
    with pytest.raises(NotAllowed):
        ticket_assign(ticket=ticket, actor=staff, assignee=technician)


@pytest.mark.django_db
def test_attachments_are_saved_with_the_ticket(service, staff):
    upload = SimpleUploadedFile("trace.txt", b"ping timeout", content_type="text/plain")
    ticket = ticket_open(service=service, requester=staff, subject="Slow", impact=2, urgency=2,
                         attachments=[upload])
    attachment = ticket.attachments.get()
    assert attachment.name == "trace.txt"
    assert attachment.size == len(b"ping timeout")
    assert attachment.file.read() == b"ping timeout"


@pytest.mark.django_db
def test_events_are_append_only(make_ticket):
    event = TicketEvent.objects.filter(ticket=make_ticket()).get()
    event.kind = "closed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_opens_get_twenty_distinct_numbers(service, staff):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    barrier = threading.Barrier(20)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def open_one(i: int) -> None:
        try:
            barrier.wait()
            ticket = ticket_open(service=service, requester=staff, subject=f"Outage {i}", impact=1, urgency=1)
            numbers.append(ticket.number)
        except BaseException as error:  # noqa: BLE001 (reported below)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == 20
    assert len(set(numbers)) == 20
    assert Ticket.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_two_racing_claims_have_exactly_one_winner(make_ticket, technician, other_technician):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    ticket = make_ticket()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(user) -> None:
        try:
            barrier.wait()
            ticket_claim(ticket=ticket, technician=user)
            outcomes.append("won")
        except AlreadyClaimed:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (technician, other_technician)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").count() == 1


@pytest.mark.django_db
def test_non_technician_cannot_claim(make_ticket, staff):
    ticket = make_ticket()
    with pytest.raises(NotAllowed):
        ticket_claim(ticket=ticket, technician=staff)


def test_technician_factory_is_a_technician(db, team):
    from tickets.selectors import user_is_technician

    assert user_is_technician(technician_of(team, username="t9"))


@pytest.mark.django_db
def test_claiming_a_ticket_you_hold_or_assigning_it_unchanged_writes_nothing(make_ticket, technician):
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    count = TicketEvent.objects.count()
    with pytest.raises(InvalidInput):
        ticket_claim(ticket=ticket, technician=technician)
    with pytest.raises(InvalidInput):
        ticket_assign(ticket=ticket, actor=technician, assignee=technician)
    assert TicketEvent.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_an_opener_does_not_wait_for_another_openers_transaction(service, staff):
    """The number comes from a sequence: an opener whose transaction is still open (writing its attachments, say)
    holds no lock that another opener must wait for."""
    if connection.vendor != "postgresql":
        pytest.skip("the sequence is PostgreSQL's")
    holding = threading.Event()
    release = threading.Event()
    first: list[int] = []

    def slow_opener() -> None:
        try:
            with transaction.atomic():
                first.append(ticket_open(service=service, requester=staff, subject="Slow", impact=2, urgency=2).number)
                holding.set()
                release.wait(30)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=slow_opener)
    thread.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            second = ticket_open(service=service, requester=staff, subject="Quick", impact=2, urgency=2)
    finally:
        release.set()
        thread.join()
    assert second.number > first[0]

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import translation

from escalation.models import BusinessCalendar, SlaPolicy
from tests.factories import PASSWORD, technician_of
from tickets.exceptions import AlreadyClaimed, InvalidInput, NotAllowed, StaleTicket
from tickets.models import Channel, Comment, Level, Priority, Status, Ticket, TicketEvent, TicketNumberCounter
from tickets.selectors import attachment_list_for
from tickets.services import (
    ticket_assign,
    ticket_cancel,
    ticket_claim,
    ticket_close,
    ticket_comment,
    ticket_numbers_take,
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
        "opened",
        "commented",
        "assigned",
        "commented",
        "assigned",
        "priority_changed",
        "status_changed",
        "commented",
        "resolved",
        "reopened",
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
    ticket = ticket_open(service=service, requester=staff, subject="Slow", impact=2, urgency=2, attachments=[upload])
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
    barrier = threading.Barrier(20, timeout=30)
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
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(numbers) == 20
    assert len(set(numbers)) == 20
    assert Ticket.objects.count() == 20


@pytest.mark.django_db(transaction=True)
def test_two_racing_claims_have_exactly_one_winner(make_ticket, technician, other_technician):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    ticket = make_ticket()
    barrier = threading.Barrier(2, timeout=30)
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
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(outcomes) == ["lost", "won"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").count() == 1


@pytest.mark.django_db
def test_non_technician_cannot_claim(make_ticket, staff):
    ticket = make_ticket()
    with translation.override("en"), pytest.raises(NotAllowed, match=r"^Only technicians can do that\.$"):
        ticket_claim(ticket=ticket, technician=staff)


def test_a_technician_from_the_factory_logs_in_and_opens_the_live_console(db, client, team):
    technician_of(team, username="t9")
    response = client.post("/accounts/login/", {"username": "t9", "password": PASSWORD, "next": "/console/"})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    page = client.get("/console/").content.decode()
    assert '<h1 class="console-title">Live console</h1>' in page


@pytest.mark.django_db
def test_claiming_a_ticket_you_hold_or_assigning_it_unchanged_writes_nothing(make_ticket, technician):
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    count = TicketEvent.objects.count()
    with pytest.raises(InvalidInput):
        ticket_claim(ticket=ticket, technician=technician)
    with pytest.raises(InvalidInput):
        ticket_assign(ticket=ticket, actor=technician, assignee=technician)
    assert TicketEvent.objects.count() == count


@pytest.mark.django_db
def test_lifecycle_timestamps_are_set_once_and_a_reopen_clears_the_fix(client, make_ticket, staff, technician):
    opened = dt.datetime(2026, 11, 29, 8, 0, tzinfo=QATAR)  # a Sunday, inside working hours

    def at(minutes: int) -> dt.datetime:
        return opened + dt.timedelta(minutes=minutes)

    ticket = make_ticket(now=opened)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.ACKNOWLEDGED, now=at(5))
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS, now=at(10))
    ticket_resolve(ticket=ticket, actor=technician, note="Replaced the uplink", now=at(60))
    ticket.refresh_from_db()
    assert (ticket.acknowledged_at, ticket.resolved_at, ticket.closed_at) == (at(5), at(60), None)

    ticket_reopen(ticket=ticket, actor=staff, note="Down again", now=at(90))
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert (ticket.acknowledged_at, ticket.resolved_at, ticket.closed_at) == (at(5), None, None)
    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "In progress" in page
    assert "<dt>Resolved</dt>" not in page

    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=at(100))
    ticket_comment(ticket=ticket, author=staff, body="Here is the new trace", now=at(110))
    ticket_resolve(ticket=ticket, actor=technician, note="Replaced the transceiver too", now=at(120))
    ticket_close(ticket=ticket, actor=staff, now=at(150))
    ticket.refresh_from_db()
    assert (ticket.acknowledged_at, ticket.resolved_at, ticket.closed_at) == (at(5), at(120), at(150))


@pytest.mark.django_db
def test_a_stale_claim_is_refused_and_writes_nothing(make_ticket, staff, technician):
    ticket = make_ticket()
    seen = ticket.last_event_id
    ticket_comment(ticket=ticket, author=staff, body="It is the whole floor, not only my desk")
    count = TicketEvent.objects.count()
    with pytest.raises(StaleTicket):
        ticket_claim(ticket=ticket, technician=technician, expected_event_id=seen)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.status) == (None, Status.NEW)
    assert TicketEvent.objects.count() == count


def finished(make_ticket, technician, staff, status: str) -> Ticket:
    """A ticket taken by `technician`, then closed by the requester after the fix, or cancelled by them."""
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    if status == Status.CLOSED:
        ticket_resolve(ticket=ticket, actor=technician)
        return ticket_close(ticket=ticket, actor=staff)
    return ticket_cancel(ticket=ticket, actor=staff, note="Found the cable unplugged")


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.CLOSED, Status.CANCELLED])
def test_a_finished_ticket_cannot_be_assigned_reprioritised_or_claimed(
    status, make_ticket, technician, other_technician, staff
):
    ticket = finished(make_ticket, technician, staff, status)
    unassigned = finished(make_ticket, technician, staff, status)
    Ticket.objects.filter(pk=unassigned.pk).update(assignee=None)
    count = TicketEvent.objects.count()
    attempts = [
        lambda: ticket_assign(ticket=ticket, actor=technician, assignee=other_technician),
        lambda: ticket_assign(ticket=ticket, actor=technician, assignee=None),
        lambda: ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason="VIP"),
        lambda: ticket_claim(ticket=ticket, technician=technician),
        lambda: ticket_claim(ticket=unassigned, technician=other_technician),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed, match="no longer open"):
            attempt()
    for frozen in (ticket, unassigned):
        before = (frozen.status, frozen.priority)
        frozen.refresh_from_db()
        assert (frozen.status, frozen.priority) == before == (status, Priority.P3)
    assert Ticket.objects.get(pk=ticket.pk).assignee == technician
    assert Ticket.objects.get(pk=unassigned.pk).assignee is None
    assert TicketEvent.objects.count() == count


@pytest.mark.django_db
def test_only_the_requesters_answer_resumes_a_waiting_ticket(make_ticket, staff, technician):
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING)
    ticket_comment(ticket=ticket, author=technician, body="Could you send the switch's log?")
    ticket_comment(ticket=ticket, author=technician, body="Asked for the log", internal=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    assert ticket.sla_paused_at is not None
    events = list(TicketEvent.objects.filter(ticket=ticket).order_by("-id")[:2])
    assert [("status" in event.after, event.before) for event in events] == [(False, {}), (False, {})]

    ticket_comment(ticket=ticket, author=staff, body="Log attached")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.sla_paused_at is None


@pytest.mark.django_db
def test_a_new_priority_takes_the_targets_of_the_agency_and_services_own_policy(
    make_ticket, technician, agency, service
):
    around = BusinessCalendar.objects.get(code="24x7")
    hour = dt.timedelta(hours=1)
    # More specific than the default P3 row; each of the other two rows differs from it in one of the two.
    SlaPolicy.objects.create(priority=3, agency=agency, service=service, first_response=3 * hour,
                             resolution=7 * hour, calendar=around)  # fmt: skip
    SlaPolicy.objects.create(priority=3, agency=agency, first_response=1 * hour, resolution=5 * hour, calendar=around)
    SlaPolicy.objects.create(priority=3, service=service, first_response=2 * hour, resolution=6 * hour,
                             calendar=around)  # fmt: skip
    opened = dt.datetime(2026, 11, 27, 23, 0, tzinfo=QATAR)  # a Friday night: only a 24x7 calendar counts it
    ticket = make_ticket(impact=Level.LOW, urgency=Level.LOW, now=opened)
    ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P3, reason="Two floors affected")
    ticket.refresh_from_db()
    assert (ticket.response_due_at, ticket.resolution_due_at) == (opened + 3 * hour, opened + 7 * hour)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content_type", "stored_type"),
    [
        ("report.pdf", None, "application/pdf"),
        ("core-dump.unknownext", None, "application/octet-stream"),
        ("screenshot.png", "image/png", "image/png"),
    ],
)
def test_an_attachment_keeps_its_type_size_and_sender(service, staff, name, content_type, stored_type):
    upload = SimpleUploadedFile(name, b"", content_type=content_type)
    upload.content_type = content_type  # a browser may send none
    ticket = ticket_open(service=service, requester=staff, subject="Scan", impact=2, urgency=2, attachments=[upload])
    attachment = ticket.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (name, stored_type, 0)
    assert attachment.uploaded_by == staff


@pytest.mark.django_db
def test_cancelling_resolving_or_reopening_without_a_note_records_none(make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_cancel(ticket=ticket, actor=staff, channel=Channel.PHONE)
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert (event.kind, event.channel) == ("cancelled", "phone")
    assert "note" not in event.after
    other = ticket_claim(ticket=make_ticket(), technician=technician)
    ticket_resolve(ticket=other, actor=technician)
    ticket_reopen(ticket=other, actor=staff)
    events = TicketEvent.objects.filter(ticket=other).order_by("-id")[:2]
    assert [(event.kind, "note" in event.after) for event in events] == [("reopened", False), ("resolved", False)]


@pytest.mark.django_db
def test_the_first_response_records_the_clock_it_met(make_ticket, technician):
    opened = dt.datetime(2026, 11, 29, 8, 0, tzinfo=QATAR)
    ticket = make_ticket(now=opened)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.ACKNOWLEDGED, now=opened + dt.timedelta(minutes=7))
    ticket.refresh_from_db()

    def utc(value: dt.datetime) -> str:
        return value.astimezone(dt.UTC).isoformat()

    assert TicketEvent.objects.filter(ticket=ticket).latest("id").after["sla"] == {
        "response_due_at": utc(ticket.response_due_at),
        "resolution_due_at": utc(ticket.resolution_due_at),
        "resolution_warning_at": utc(ticket.resolution_warning_at),
        "responded_at": utc(opened + dt.timedelta(minutes=7)),
    }
    assert ticket.response_due_at > opened


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


@pytest.mark.django_db
def test_tickets_opened_one_after_another_take_the_next_numbers(service, staff):
    first = ticket_open(service=service, requester=staff, subject="One", impact=2, urgency=2)
    second = ticket_open(service=service, requester=staff, subject="Two", impact=2, urgency=2)
    assert second.number == first.number + 1
    if connection.vendor == "postgresql":
        assert ticket_numbers_take(count=3) == [second.number + 1, second.number + 2, second.number + 3]


@pytest.mark.django_db
def test_without_a_sequence_the_numbers_come_from_the_counter_row_the_first_take_makes(monkeypatch):
    """SQLite has no sequence: its numbers come from TicketNumberCounter's row (made on first use, after 100000).
    The same statements run on PostgreSQL, so the suite checks them there."""
    monkeypatch.setattr(connection, "vendor", "sqlite")
    TicketNumberCounter.objects.all().delete()
    TicketNumberCounter.objects.create().delete()  # the table's own ids move on; the counter is still row 1
    assert ticket_numbers_take() == [100001]
    assert ticket_numbers_take(count=3) == [100002, 100003, 100004]
    assert list(TicketNumberCounter.objects.values_list("pk", "last_number")) == [(1, 100004)]


@pytest.mark.django_db
def test_the_note_given_with_a_cancel_a_resolution_or_a_reopen_is_recorded_with_it(make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_cancel(ticket=ticket, actor=staff, note="Found the cable unplugged")
    assert TicketEvent.objects.filter(ticket=ticket).latest("id").after["note"] == "Found the cable unplugged"
    other = ticket_claim(ticket=make_ticket(), technician=technician)
    ticket_resolve(ticket=other, actor=technician, note="Replaced the switch")
    ticket_reopen(ticket=other, actor=staff, note="Down again")
    events = TicketEvent.objects.filter(ticket=other).order_by("-id")[:2]
    assert [(event.kind, event.after["note"]) for event in events] == [
        ("reopened", "Down again"),
        ("resolved", "Replaced the switch"),
    ]


@pytest.mark.django_db
def test_a_file_sent_with_an_internal_note_stays_with_the_note(make_ticket, staff, technician):
    ticket = make_ticket()
    note = ticket_comment(
        ticket=ticket,
        author=technician,
        body="Vendor's trace",
        internal=True,
        attachments=[SimpleUploadedFile("vendor.log", b"trace", content_type="text/plain")],
    )
    ticket_comment(
        ticket=ticket,
        author=technician,
        body="Here is the form",
        attachments=[SimpleUploadedFile("form.pdf", b"%PDF", content_type="application/pdf")],
    )
    assert [attachment.name for attachment in note.attachments.all()] == ["vendor.log"]
    assert [attachment.name for attachment in attachment_list_for(ticket=ticket, user=technician)] == [
        "vendor.log",
        "form.pdf",
    ]
    assert [attachment.name for attachment in attachment_list_for(ticket=ticket, user=staff)] == ["form.pdf"]

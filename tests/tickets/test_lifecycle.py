from __future__ import annotations

import itertools

import pytest

from tickets.exceptions import InvalidTransition, NotAllowed
from tickets.lifecycle import REQUESTER, SYSTEM, TECHNICIAN, TRANSITIONS, priority_for, transition_guard
from tickets.models import Level, Priority, Status, Ticket, TicketEvent
from tickets.services import ticket_set_status

ALLOWED = {
    ("new", "acknowledged"), ("new", "in_progress"), ("new", "cancelled"),
    ("acknowledged", "in_progress"), ("acknowledged", "waiting"), ("acknowledged", "resolved"),
    ("acknowledged", "cancelled"),
    ("in_progress", "waiting"), ("in_progress", "resolved"), ("in_progress", "cancelled"),
    ("waiting", "in_progress"), ("waiting", "resolved"), ("waiting", "cancelled"),
    ("resolved", "closed"), ("resolved", "in_progress"),
}
ALL_PAIRS = [(a, b) for a, b in itertools.product(Status.values, Status.values)]


def test_transition_table_is_the_documented_lifecycle():
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED


# Paths that bring a fresh ticket to each status through allowed moves.
PATH_TO = {
    "new": [],
    "acknowledged": ["acknowledged"],
    "in_progress": ["in_progress"],
    "waiting": ["in_progress", "waiting"],
    "resolved": ["in_progress", "resolved"],
    "closed": ["in_progress", "resolved", "closed"],
    "cancelled": ["cancelled"],
}


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_status_move_through_the_service(current, target, make_ticket, technician, staff):
    # Closing confirms the fix: the requester's side makes that move, the support side every other one.
    def mover(status):
        return staff if status == Status.CLOSED else technician

    ticket = make_ticket()
    for step in PATH_TO[current]:
        ticket = ticket_set_status(ticket=ticket, actor=mover(step), status=step)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    if (current, target) in ALLOWED:
        ticket_set_status(ticket=ticket, actor=mover(target), status=target)
        ticket.refresh_from_db()
        assert ticket.status == target
        assert TicketEvent.objects.filter(ticket=ticket).count() == events_before + 1
        event = TicketEvent.objects.filter(ticket=ticket).latest("id")
        assert event.before == {"status": current}
        assert event.after["status"] == target
        assert event.actor == mover(target)
        assert ticket.last_event_id == event.pk
    else:
        with pytest.raises(InvalidTransition):
            ticket_set_status(ticket=ticket, actor=technician, status=target)
        ticket.refresh_from_db()
        assert ticket.status == current
        assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_guard_names_the_forbidden_move():
    with pytest.raises(InvalidTransition, match="Closed"):
        transition_guard(Status.CLOSED, Status.IN_PROGRESS)


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        (Level.HIGH, Level.HIGH, Priority.P1),
        (Level.HIGH, Level.MEDIUM, Priority.P2),
        (Level.MEDIUM, Level.HIGH, Priority.P2),
        (Level.HIGH, Level.LOW, Priority.P3),
        (Level.MEDIUM, Level.MEDIUM, Priority.P3),
        (Level.LOW, Level.HIGH, Priority.P3),
        (Level.MEDIUM, Level.LOW, Priority.P4),
        (Level.LOW, Level.MEDIUM, Priority.P4),
        (Level.LOW, Level.LOW, Priority.P4),
    ],
)
def test_priority_matrix(impact, urgency, priority):
    assert priority_for(impact=impact, urgency=urgency) == priority


@pytest.mark.django_db
def test_opened_ticket_takes_its_priority_from_the_matrix(make_ticket):
    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH)
    assert Ticket.objects.get(pk=ticket.pk).priority == Priority.P1


@pytest.mark.django_db
def test_agency_staff_may_close_resolved_but_not_resolve(make_ticket, staff, technician):
    ticket = make_ticket()
    with pytest.raises(NotAllowed):
        ticket_set_status(ticket=ticket, actor=staff, status=Status.IN_PROGRESS)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS)
    with pytest.raises(NotAllowed):
        ticket_set_status(ticket=ticket, actor=staff, status=Status.RESOLVED)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.RESOLVED)
    ticket_set_status(ticket=ticket, actor=staff, status=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None


@pytest.mark.django_db
def test_staff_of_another_agency_cannot_touch_the_ticket(make_ticket, other_staff, technician):
    ticket = make_ticket()
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.RESOLVED)
    with pytest.raises(NotAllowed):
        ticket_set_status(ticket=ticket, actor=other_staff, status=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


# The moves agency staff make themselves: withdraw an open ticket, confirm a fix (close) or reopen it.
REQUESTER_MOVES = {
    ("new", "cancelled"), ("acknowledged", "cancelled"), ("in_progress", "cancelled"), ("waiting", "cancelled"),
    ("resolved", "closed"), ("resolved", "in_progress"),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_agency_staff_make_only_their_own_moves(current, target, make_ticket, technician, staff):
    ticket = make_ticket()
    for step in PATH_TO[current]:
        ticket = ticket_set_status(ticket=ticket, actor=staff if step == Status.CLOSED else technician, status=step)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    if (current, target) in REQUESTER_MOVES:
        ticket_set_status(ticket=ticket, actor=staff, status=target)
        assert Ticket.objects.get(pk=ticket.pk).status == target
        assert TicketEvent.objects.filter(ticket=ticket).latest("id").actor == staff
    else:
        with pytest.raises(NotAllowed, match="You are not allowed to do that."):
            ticket_set_status(ticket=ticket, actor=staff, status=target)
        assert Ticket.objects.get(pk=ticket.pk).status == current
        assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


@pytest.mark.django_db
def test_only_the_requester_or_the_helpdesk_closes_a_fix(make_ticket, technician):
    ticket = make_ticket()
    for step in PATH_TO["resolved"]:
        ticket = ticket_set_status(ticket=ticket, actor=technician, status=step)
    with pytest.raises(NotAllowed, match="Only the requester closes a ticket, by confirming the fix"):
        ticket_set_status(ticket=ticket, actor=technician, status=Status.CLOSED)
    transition_guard(Status.RESOLVED, Status.CLOSED, mover=SYSTEM)
    transition_guard(Status.RESOLVED, Status.CLOSED, mover=REQUESTER)
    with pytest.raises(NotAllowed):
        transition_guard(Status.RESOLVED, Status.IN_PROGRESS, mover=SYSTEM)
    # Without a mover only the table is checked.
    transition_guard(Status.RESOLVED, Status.CLOSED)
    with pytest.raises(InvalidTransition, match=r"That status change is not allowed. \(Resolved → Waiting"):
        transition_guard(Status.RESOLVED, Status.WAITING, mover=TECHNICIAN)

"""The one adapter between a console command and the ticket services, as the socket and the action endpoint both
call it: what each command does, and what each refusal says with the HTTP status that names its kind."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation

from tickets.console.actions import MAX_ID, bigint_or_none, console_action
from tickets.models import Comment, Priority, Status, Ticket, TicketEvent
from tickets.services import ticket_comment

pytestmark = pytest.mark.django_db


def act(user, ticket, action: str, language: str | None = None, **data):
    return console_action(user=user, action=action, number=ticket.number, data=data, language=language)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (0, 0),
        (MAX_ID, MAX_ID),
        ("42", 42),
        (MAX_ID + 1, None),
        (-1, None),
        ("-1", None),
        (True, None),
        ("4x", None),
        (1.0, None),
        (None, None),
        ([1], None),
    ],
)
def test_ids_and_versions_are_whole_numbers_that_fit_a_bigint(value, number):
    assert bigint_or_none(value) == number


def test_each_refusal_says_what_is_wrong_with_the_status_of_its_kind(technician, staff, make_ticket):
    ticket = make_ticket()
    version = ticket.last_event_id
    refusals = [
        (staff, "claim", {"version": version}, 403, "Only technicians can use the console."),
        (AnonymousUser(), "claim", {"version": version}, 403, "Only technicians can use the console."),
        (technician, "delete", {"version": version}, 404, "Unknown console action."),
        (technician, "claim", {}, 400, "The ticket version is missing."),
        (technician, "claim", {"version": ""}, 400, "The ticket version is missing."),
        (technician, "claim", {"version": "1.5"}, 400, "The ticket version must be a whole number."),
        (technician, "priority", {"version": version, "reason": "x"}, 400, "The priority is missing."),
        (technician, "priority", {"version": version, "priority": "high"}, 400, "The priority must be a whole number."),
        (technician, "assign", {"version": version, "assignee": "x"}, 400, "The assignee must be a whole number."),
        (technician, "assign", {"version": version, "assignee": MAX_ID}, 400, "There is no such technician."),
        (technician, "status", {"version": version, "status": "archived"}, 400, "Unknown status."),
        (technician, "status", {"version": version, "status": ["resolved"]}, 400, "Unknown status."),
    ]
    for user, action, data, status, error in refusals:
        result = act(user, ticket, action, **data)
        assert (result.ok, result.http_status, result.error) == (False, status, error), (action, data)
        assert result.as_json() == {"ok": False, "error": error, "ticket": result.ticket}
    unknown = console_action(user=technician, action="claim", number=MAX_ID, data={"version": version})
    assert (unknown.ok, unknown.http_status, unknown.error) == (False, 404, "No ticket has that number.")
    assert TicketEvent.objects.count() == 1


def test_a_refused_input_or_conflict_comes_with_the_tickets_row(technician, other_technician, make_ticket):
    ticket = make_ticket()
    invalid = act(technician, ticket, "reply", version=ticket.last_event_id, body=" ")
    assert (invalid.http_status, invalid.error) == (400, "The comment is empty.")
    assert invalid.ticket["number"] == ticket.number
    act(other_technician, ticket, "claim", version=ticket.last_event_id)
    conflict = act(technician, ticket, "claim", version=ticket.last_event_id)
    assert conflict.http_status == 409
    assert conflict.ticket["assignee"]["id"] == other_technician.pk


def test_a_deactivated_technician_cannot_act_on_an_open_socket(technician, make_ticket):
    ticket = make_ticket()
    technician.is_active = False
    technician.save()
    result = act(technician, ticket, "claim", version=ticket.last_event_id)
    assert (result.http_status, result.error) == (403, "Only technicians can use the console.")
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_an_inactive_technician_cannot_be_given_a_ticket(technician, other_technician, make_ticket):
    ticket = make_ticket()
    other_technician.is_active = False
    other_technician.save()
    result = act(technician, ticket, "assign", version=ticket.last_event_id, assignee=other_technician.pk)
    assert (result.http_status, result.error) == (400, "There is no such technician.")


def test_refusals_are_in_the_language_asked(technician, make_ticket):
    ticket = make_ticket()
    assert act(technician, ticket, "delete", language="ar").error == "إجراء غير معروف في لوحة المتابعة."
    assert act(technician, ticket, "claim", language="ar").error == "الحقل إصدار التذكرة مفقود."
    assert act(technician, ticket, "claim").error == "The ticket version is missing."


def test_each_command_reaches_its_service_from_the_console(technician, other_technician, make_ticket):
    ticket = make_ticket()

    def run(action: str, **data):
        version = Ticket.objects.get(pk=ticket.pk).last_event_id
        result = act(technician, ticket, action, version=version, **data)
        assert (result.ok, result.http_status, result.error) == (True, 200, None), action
        assert result.ticket["version"] > version
        return TicketEvent.objects.filter(ticket=ticket).latest("id")

    assert run("acknowledge").kind == "acknowledged"
    assert run("note", body="Vendor case 42").public is False
    assert run("reply", body="We are on it.").public is True
    assert run("priority", priority=str(Priority.P1), reason="Ministry-wide").after["reason"] == "Ministry-wide"
    assert run("assign", assignee=other_technician.pk).after["assignee"]["id"] == other_technician.pk
    assert run("status", status=Status.WAITING, note="Asked for the log").after["note"] == "Asked for the log"
    events = TicketEvent.objects.filter(ticket=ticket).exclude(kind="opened")
    assert set(events.values_list("channel", flat=True)) == {"console"}
    assert set(events.values_list("actor", flat=True)) == {technician.pk}
    comments = Comment.objects.filter(ticket=ticket).order_by("id")
    assert [(c.body, c.internal, c.channel) for c in comments] == [
        ("Vendor case 42", True, "console"),
        ("We are on it.", False, "console"),
    ]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == (Status.WAITING, Priority.P1, other_technician)


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("acknowledge", {}),
        ("claim", {}),
        ("assign", {"assignee": "OTHER"}),
        ("status", {"status": Status.IN_PROGRESS}),
        ("priority", {"priority": "1", "reason": "Ministry-wide"}),
        ("note", {"body": "Vendor case 42"}),
        ("reply", {"body": "We are on it."}),
    ],
)
def test_a_command_on_a_stale_version_changes_nothing(technician, other_technician, staff, make_ticket, action, data):
    ticket = make_ticket()
    seen = ticket.last_event_id
    ticket_comment(ticket=ticket, author=staff, body="It is the whole floor")
    data = {key: other_technician.pk if value == "OTHER" else value for key, value in data.items()}
    result = act(technician, ticket, action, version=seen, **data)
    assert (result.http_status, result.error) == (
        409,
        "The ticket changed while you were looking at it. Reload it and try again.",
    )
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


def test_a_text_that_is_not_text_is_no_text(technician, make_ticket):
    ticket = make_ticket()
    result = act(technician, ticket, "reply", version=ticket.last_event_id, body=123)
    assert (result.http_status, result.error) == (400, "The comment is empty.")


def test_without_a_language_the_active_one_answers(technician, make_ticket):
    ticket = make_ticket()
    with translation.override("ar"):
        assert act(technician, ticket, "delete").error == "إجراء غير معروف في لوحة المتابعة."

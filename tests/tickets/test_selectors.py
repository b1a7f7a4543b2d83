"""The reads the pages and the live console are built from (tickets.selectors): what they hand out, to whom, and at
what cost in queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from escalation.models import TicketEscalation
from tests.factories import UserFactory, person_ref, staff_of
from tickets import selectors
from tickets.models import ArabicName, Attachment, Comment, Ticket, TicketEvent
from tickets.selectors import (
    EVENT_MESSAGE_RELATED,
    attachment_list_for,
    comment_list_for,
    event_cursor_latest,
    event_message,
    event_note,
    roles_per_request,
    ticket_row,
    user_display_name,
    user_has_history,
    user_is_technician,
    user_role,
)
from tickets.services import ticket_claim, ticket_comment, ticket_set_priority, ticket_set_status

pytestmark = pytest.mark.django_db

# Sunday 29 November 2026, 10:00 in Qatar: a working day.
T0 = dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def khalid(technician):
    """A technician with an Arabic name."""
    technician.first_name, technician.last_name = "Khalid", "Al-Naimi"
    technician.save()
    ArabicName.objects.create(user=technician, name="خالد النعيمي")
    return technician


@pytest.fixture
def claimed(make_ticket, khalid):
    """A ticket opened at T0 and claimed by Khalid four minutes later, read as the console reads it."""
    opened = make_ticket(subject="Printer offline", now=T0)
    ticket_claim(ticket=opened, technician=khalid, now=T0 + 4 * MINUTE)
    return Ticket.objects.select_related("agency", "service", "team", "assignee__arabic_name").get(pk=opened.pk)


def test_a_queue_row_carries_every_field_the_console_shows(claimed, khalid, team):
    ticket = claimed
    assert ticket.acknowledged_at is not None and ticket.response_due_at is not None
    assert ticket_row(ticket) == {
        "number": ticket.number,
        "reference": f"HD-{ticket.number}",
        "agency": {"code": "moph", "name_en": "Ministry of Public Health", "name_ar": "وزارة الصحة العامة"},
        "service": {"code": "gov-network", "name_en": "Government Network", "name_ar": "الشبكة الحكومية"},
        "team": {"id": team.pk, "code": "network-ops", "name_en": "Network Operations", "name_ar": "عمليات الشبكة"},
        "subject": "Printer offline",
        "channel": "web",
        "priority": ticket.priority,
        "status": "in_progress",
        "is_open": True,
        "assignee": person_ref(khalid, arabic="خالد النعيمي"),
        "opened_at": "2026-11-29T07:00:00+00:00",
        "acknowledged_at": "2026-11-29T07:04:00+00:00",
        "response_due_at": ticket.response_due_at.isoformat(),
        "resolution_due_at": ticket.resolution_due_at.isoformat(),
        "resolution_warning_at": ticket.resolution_warning_at.isoformat(),
        "responded_at": "2026-11-29T07:04:00+00:00",
        "sla_paused_at": None,
        "paging": None,
        "version": ticket.last_event_id,
    }


@pytest.fixture
def internal_note(make_ticket, technician):
    """The event of an internal note written at T0 + 1 minute, read as the live console reads it."""
    ticket = make_ticket(now=T0)
    ticket_comment(ticket=ticket, author=technician, body="Checking the switch", internal=True, now=T0 + MINUTE)
    return TicketEvent.objects.select_related(*EVENT_MESSAGE_RELATED).order_by("-pk").first()


def test_a_live_message_carries_the_change_and_the_row_after_it(internal_note, technician):
    event = internal_note
    ticket = event.ticket
    comment = Comment.objects.get(ticket=ticket)

    assert event_message(event) == {
        "cursor": event.pk,
        "event": {
            "id": event.pk,
            "kind": "commented",
            "ticket": ticket.number,
            "actor": person_ref(technician),
            "channel": "web",
            "before": {},
            "after": {"comment_id": comment.pk, "internal": True, "attachments": []},
            "public": False,
            "created_at": "2026-11-29T07:01:00+00:00",
        },
        "ticket": ticket_row(event.ticket),
    }
    assert event_message(event)["ticket"]["version"] == event.pk


def test_the_timeline_note_is_the_status_note_for_all_and_the_priority_reason_for_technicians(make_ticket, technician):
    ticket = make_ticket(now=T0)
    opened = ticket.events.get()
    ticket_claim(ticket=ticket, technician=technician, now=T0 + MINUTE)
    ticket_set_status(ticket=ticket, actor=technician, status="waiting", note="Which floor?", now=T0 + 2 * MINUTE)
    ticket_set_priority(
        ticket=ticket, actor=technician, priority=1, reason="Whole ministry offline", now=T0 + 3 * MINUTE
    )
    reprioritised, waiting = ticket.events.order_by("-pk")[:2]

    assert event_note(waiting, technician=False) == event_note(waiting, technician=True) == "Which floor?"
    assert event_note(reprioritised, technician=True) == "Whole ministry offline"
    assert event_note(reprioritised, technician=False) == ""
    assert event_note(opened, technician=True) == event_note(opened, technician=False) == ""


def test_the_event_cursor_starts_at_zero_and_follows_the_newest_event(make_ticket):
    assert event_cursor_latest() == 0
    ticket = make_ticket()
    assert event_cursor_latest() == ticket.last_event_id == TicketEvent.objects.get().pk


def test_every_trace_of_a_user_in_a_tickets_record_counts_as_history(make_ticket, agency, technician):
    strangers = {name: staff_of(agency, username=name) for name in ("requester", "assignee", "author", "uploader")}
    assert not any(user_has_history(user) for user in strangers.values())

    ticket = make_ticket()
    Ticket.objects.filter(pk=ticket.pk).update(requester=strangers["requester"], assignee=strangers["assignee"])
    Comment.objects.create(ticket=ticket, author=strangers["author"], body="Hello", created_at=T0)
    Attachment.objects.create(
        ticket=ticket,
        file=SimpleUploadedFile("log.txt", b"log"),
        name="log.txt",
        size=3,
        content_type="text/plain",
        uploaded_by=strangers["uploader"],
        created_at=T0,
    )
    actor_only = UserFactory(username="actor-only")
    TicketEvent.objects.create(ticket=ticket, kind="commented", actor=actor_only, channel="web", created_at=T0)

    assert all(user_has_history(user) for user in [*strangers.values(), actor_only])
    assert not user_has_history(technician)


def test_an_inactive_technician_and_a_visitor_are_not_technicians(technician):
    assert user_role(AnonymousUser()).technician is False
    assert user_is_technician(technician) is True
    technician.is_active = False
    technician.save()
    assert user_is_technician(technician) is False


def test_a_users_role_is_asked_once_per_request_and_afresh_outside_one(technician, team, django_assert_num_queries):
    with roles_per_request():
        with django_assert_num_queries(1):
            assert user_is_technician(technician)
            assert user_is_technician(technician)
        team.members.remove(technician)
        assert user_is_technician(technician)
    assert not user_is_technician(technician)


def test_the_role_question_also_names_the_user_and_their_agency(staff, agency, django_assert_num_queries):
    staff.first_name, staff.last_name = "Aisha", "Al-Mohannadi"
    staff.save()
    ArabicName.objects.create(user=staff, name="عائشة المهندي")
    user = User.objects.get(pk=staff.pk)
    with django_assert_num_queries(1):
        role = user_role(user)
        assert user.agency_membership.agency == agency == role.membership.agency
        with translation.override("ar"):
            assert user_display_name(user) == "عائشة المهندي"
        assert user_display_name(user) == "Aisha Al-Mohannadi"


def test_a_person_is_named_in_the_pages_language_and_in_both_and_a_blank_arabic_name_falls_back(khalid):
    user = User.objects.select_related("arabic_name").get(pk=khalid.pk)
    both = {"en": "Khalid Al-Naimi", "ar": "خالد النعيمي"}
    assert selectors.user_ref(user) == {"id": khalid.pk, "name": "Khalid Al-Naimi", "names": both}
    with translation.override("ar"):
        assert selectors.user_ref(user) == {"id": khalid.pk, "name": "خالد النعيمي", "names": both}
        assert selectors.user_ref(None) is None

    user.arabic_name.name = ""
    with translation.override("ar"):
        assert selectors.person_ref(user) == person_ref(khalid)
        assert user_display_name(user) == "Khalid Al-Naimi"


def test_agency_staff_read_the_replies_without_the_internal_notes_in_the_order_written(make_ticket, staff, technician):
    ticket = make_ticket(now=T0)
    later = ticket_comment(ticket=ticket, author=staff, body="It is back", now=T0 + 3 * MINUTE)
    # Written after the reply but dated before it (the service takes the time the words were said): read by time.
    note = ticket_comment(ticket=ticket, author=technician, body="Rebooted", internal=True, now=T0 + 2 * MINUTE)
    reply = ticket_comment(ticket=ticket, author=technician, body="Rebooting", now=T0 + 2 * MINUTE)

    assert list(comment_list_for(ticket=ticket, user=technician)) == [note, reply, later]
    assert list(comment_list_for(ticket=ticket, user=staff)) == [reply, later]


def test_agency_staff_download_every_file_but_those_sent_with_an_internal_note(make_ticket, staff, technician):
    def upload(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, b"trace", content_type="text/plain")

    ticket = make_ticket(attachments=[upload("opened.txt")], now=T0)
    ticket_comment(ticket=ticket, author=staff, body="Log", attachments=[upload("later.txt")], now=T0 + 3 * MINUTE)
    ticket_comment(
        ticket=ticket,
        author=technician,
        body="Dump",
        internal=True,
        attachments=[upload("note.txt")],
        now=T0 + 2 * MINUTE,
    )
    ticket_comment(ticket=ticket, author=technician, body="Fix", attachments=[upload("reply.txt")], now=T0 + 2 * MINUTE)

    def names(user) -> list[str]:
        return [attachment.name for attachment in attachment_list_for(ticket=ticket, user=user)]

    assert names(technician) == ["opened.txt", "note.txt", "reply.txt", "later.txt"]
    assert names(staff) == ["opened.txt", "reply.txt", "later.txt"]


def test_a_ticket_opened_before_the_escalation_engine_shows_no_paging(make_ticket):
    # No migration made escalation records for the tickets already open when the engine came.
    ticket = make_ticket()
    TicketEscalation.objects.filter(ticket=ticket).delete()
    row = ticket_row(Ticket.objects.select_related("agency", "service", "team", "escalation").get(pk=ticket.pk))
    assert row["paging"] is None
    assert row["number"] == ticket.number

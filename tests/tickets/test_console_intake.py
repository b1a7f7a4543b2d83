"""A technician opens a ticket for a caller, a visitor at the desk or an e-mail's sender, from the console: through
`ticket_open`, with the technician as the event's actor and the caller as the requester."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from notifications.models import Notification
from tests.factories import person_ref, staff_of
from tests.tickets.test_console_http import logged_in, with_csrf
from tickets.exceptions import InvalidInput, NotAllowed
from tickets.models import Channel, Level, Priority, Ticket, TicketEvent
from tickets.sentences import event_sentence
from tickets.services import ticket_open

pytestmark = pytest.mark.django_db

NEW_URL = "/console/tickets/new/"



def test_a_ticket_opened_for_a_caller_names_the_technician_as_actor_and_the_caller_as_requester(
    service, agency, staff, technician
):
    ticket = ticket_open(
        service=service,
        agency=agency,
        requester=staff,
        actor=technician,
        channel=Channel.PHONE,
        subject="E-mail down for the whole floor",
        impact=Level.HIGH,
        urgency=Level.HIGH,
    )

    event = ticket.events.get()
    assert event.kind == TicketEvent.Kind.OPENED
    assert event.actor == technician
    assert event.channel == Channel.PHONE
    assert event.after["requester"] == {"id": staff.pk, "name": staff.get_full_name()}
    assert ticket.requester == staff
    assert ticket.agency == agency
    assert ticket.channel == Channel.PHONE
    assert ticket.priority == Priority.P1
    with translation.override("en"):
        sentence = event_sentence(event)
    assert sentence == (
        f"{technician.get_full_name()} opened the ticket for {staff.get_full_name()} via Phone."
    )
    with translation.override("ar"):
        assert "نيابةً عن" in event_sentence(event)


def test_a_ticket_for_someone_who_is_not_a_user_keeps_their_name_and_phone(service, agency, technician):
    ticket = ticket_open(
        service=service,
        agency=agency,
        requester_name="Mariam Al-Kuwari",
        contact_phone="+97444001234",
        actor=technician,
        channel=Channel.WALK_IN,
        subject="Badge printer offline",
        impact=Level.LOW,
        urgency=Level.MEDIUM,
    )

    assert ticket.requester is None
    assert ticket.requester_name == "Mariam Al-Kuwari"
    assert ticket.contact_phone == "+97444001234"
    event = ticket.events.get()
    assert event.actor == technician
    assert event.channel == Channel.WALK_IN
    with translation.override("en"):
        assert event_sentence(event).endswith("opened the ticket for Mariam Al-Kuwari via Walk-in.")


def test_only_a_technician_opens_a_ticket_for_someone_else(service, agency, staff, other_staff):
    with pytest.raises(NotAllowed):
        ticket_open(
            service=service, agency=agency, requester=staff, actor=other_staff, subject="x", impact=2, urgency=2
        )
    assert not Ticket.objects.exists()


def test_a_ticket_opened_for_an_agency_names_only_a_member_of_it_as_requester(service, other_agency, staff):
    """As the hotline does: the agency given, the requester not on behalf of anyone. Only the agency's own staff can
    be told of its tickets, so a member of another agency is refused, not made its requester."""
    with pytest.raises(InvalidInput, match="not a member of that agency"):
        ticket_open(service=service, agency=other_agency, requester=staff, subject="x", impact=2, urgency=2)
    assert not Ticket.objects.exists()


def test_the_requester_must_belong_to_the_ticket_agency(service, other_agency, staff, technician):
    with pytest.raises(InvalidInput, match="not a member of that agency"):
        ticket_open(
            service=service, agency=other_agency, requester=staff, actor=technician, subject="x", impact=2, urgency=2
        )
    with pytest.raises(InvalidInput, match="Name the person"):
        ticket_open(service=service, agency=other_agency, actor=technician, subject="x", impact=2, urgency=2)
    assert not Ticket.objects.exists()


def form_data(service, agency, **overrides):
    data = {
        "channel": Channel.PHONE,
        "agency": agency.pk,
        "requester": "",
        "requester_name": "",
        "contact_phone": "",
        "service": service.pk,
        "impact": Level.HIGH,
        "urgency": Level.MEDIUM,
        "subject": "Cannot reach the data exchange platform",
        "description": "Since 09:00, every call times out.",
    }
    data.update(overrides)
    return data


def test_console_opens_a_ticket_for_a_member_of_the_agency_with_attachments(
    service, agency, staff, technician, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("error.txt", b"timeout after 30 s", content_type="text/plain")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = logged_in(technician).post(
            NEW_URL, {**form_data(service, agency, requester=staff.pk), "attachments": [upload]}
        )

    assert response.status_code == 200, response.content
    row = response.json()["ticket"]
    ticket = Ticket.objects.get(number=row["number"])
    assert row["reference"] == ticket.reference
    assert row["status"] == "new"
    assert ticket.requester == staff
    assert ticket.priority == Priority.P2
    assert ticket.events.get().actor == technician
    assert [attachment.name for attachment in ticket.attachments.all()] == ["error.txt"]
    assert ticket.attachments.get().uploaded_by == technician
    # Published to the consoles and to the agency's live pages after commit, like any ticket.
    assert len(callbacks) >= 2


def test_the_agency_sees_the_ticket_opened_for_it_in_its_list(service, agency, staff, technician):
    logged_in(technician).post(NEW_URL, form_data(service, agency, requester_name="Visitor", contact_phone="4400 1234"))
    ticket = Ticket.objects.get()
    assert ticket.contact_phone == "+97444001234"

    page = logged_in(staff).get("/tickets/")
    assert ticket.reference in page.content.decode()


def test_console_form_refuses_a_requester_of_another_agency_and_says_what_is_missing(
    service, agency, other_agency, technician
):
    outsider = staff_of(other_agency, username="outsider")
    client = logged_in(technician)

    response = client.post(NEW_URL, form_data(service, agency, requester=outsider.pk))
    assert response.status_code == 400
    assert "requester" in response.json()["errors"]

    response = client.post(NEW_URL, form_data(service, agency, subject="", channel="web"))
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"subject", "channel", "requester_name", "contact_phone"} <= set(errors)
    assert response.json()["error"] == "Correct the marked fields."
    assert not Ticket.objects.exists()


def test_console_form_is_for_technicians_only(service, agency, staff):
    response = logged_in(staff).post(NEW_URL, form_data(service, agency, requester=staff.pk))
    assert response.status_code == 403
    assert not Ticket.objects.exists()
    assert Client().post(NEW_URL, form_data(service, agency)).status_code == 302


def test_members_of_an_agency_are_offered_with_their_phone(agency, staff, other_staff, technician):
    staff.agency_membership.phone = "+97444000001"
    staff.agency_membership.save()

    members = logged_in(technician).get(f"/console/agencies/{agency.pk}/members/").json()["members"]

    assert members == [{**person_ref(staff), "phone": "+97444000001"}]
    assert logged_in(staff).get(f"/console/agencies/{agency.pk}/members/").status_code == 403


def test_console_page_offers_the_new_ticket_form_in_arabic(technician, agency):
    client = logged_in(technician)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get("/console/").content.decode()
    assert 'id="new-ticket-form"' in html
    assert "حضور شخصي" in html
    assert agency.name_ar in html


def test_console_form_needs_the_csrf_token(service, agency, staff, technician):
    client = logged_in(technician, enforce_csrf=True)
    assert client.post(NEW_URL, form_data(service, agency, requester=staff.pk)).status_code == 403
    assert not Ticket.objects.exists()
    response = client.post(NEW_URL, form_data(service, agency, requester=staff.pk), **with_csrf(client))
    assert response.status_code == 200
    assert Ticket.objects.get().requester == staff


def test_the_member_a_ticket_is_opened_for_is_told_its_number_and_the_technician_is_not(
    service, agency, staff, technician
):
    ticket = ticket_open(
        service=service, agency=agency, requester=staff, actor=technician, subject="x", impact=2, urgency=2
    )
    told = Notification.objects.filter(ticket=ticket)
    assert [(item.recipient_id, item.kinds) for item in told] == [(staff.pk, ["opened"])]

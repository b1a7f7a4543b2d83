"""An agency whose access is suspended (inactive) no longer works: its staff are refused, with the reason, at login,
on every page and by every service they could reach (the hotline calls the same services)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import PASSWORD
from tickets.exceptions import AgencySuspended
from tickets.models import Channel, Comment, Level, Ticket
from tickets.services import ticket_comment, ticket_open

SUSPENDED = "Your agency&#x27;s access to the helpdesk is suspended."


@pytest.fixture
def ticket(make_ticket, staff):
    return make_ticket(attachments=[SimpleUploadedFile("trace.txt", b"ping timeout", content_type="text/plain")])


@pytest.fixture
def suspend(agency):
    def apply():
        agency.active = False
        agency.save()

    return apply


@pytest.mark.django_db
def test_staff_of_a_suspended_agency_cannot_log_in(client, staff, suspend):
    suspend()
    response = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 200
    assert SUSPENDED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_logged_in_member_is_refused_everywhere_once_the_agency_is_suspended(client, staff, suspend, ticket,
                                                                               service):
    client.force_login(staff)
    attachment = ticket.attachments.get()
    suspend()
    for path in ["/tickets/", "/tickets/new/", f"/tickets/{ticket.number}/",
                 f"/tickets/{ticket.number}/attachments/{attachment.pk}/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert SUSPENDED in response.content.decode(), path
    assert client.get("/", follow=True).status_code == 403
    posts = {
        "/tickets/new/": {"service": service.pk, "impact": 1, "urgency": 1, "subject": "Down", "description": "x"},
        f"/tickets/{ticket.number}/comments/": {"body": "Any news?"},
        f"/tickets/{ticket.number}/cancel/": {"version": ticket.last_event_id, "reason": "Fixed itself"},
    }
    for path, data in posts.items():
        response = client.post(path, data)
        assert response.status_code == 403, path
        assert SUSPENDED in response.content.decode(), path
    assert Ticket.objects.count() == 1
    assert not Comment.objects.exists()
    assert Ticket.objects.get().status == "new"


@pytest.mark.django_db
def test_the_services_refuse_the_agency_whatever_the_channel(staff, suspend, ticket, agency, service, technician):
    suspend()
    with pytest.raises(AgencySuspended):
        ticket_open(service=service, subject="Caller reports an outage", impact=Level.HIGH, urgency=Level.HIGH,
                    channel=Channel.PHONE, agency=agency, caller_phone="+97455501234")
    with pytest.raises(AgencySuspended):
        ticket_comment(ticket=ticket, author=staff, body="Any news?")
    # The support side still finishes the agency's tickets.
    ticket_comment(ticket=ticket, author=technician, body="Closing this out.", internal=True)
    assert Ticket.objects.count() == 1

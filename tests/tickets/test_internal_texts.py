"""Which texts the agency reads: a status note is written to them (the console says so); a priority change's reason
is for colleagues and stays internal."""

from __future__ import annotations

import pytest

from tickets.models import Priority, Status
from tickets.services import ticket_set_priority, ticket_set_status

REASON = "Minister's office escalated it by phone"
NOTE = "We replaced the switch on floor 3."


@pytest.fixture
def worked(make_ticket, technician):
    ticket = make_ticket()
    ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason=REASON)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS)
    return ticket_set_status(ticket=ticket, actor=technician, status=Status.RESOLVED, note=NOTE)


@pytest.mark.django_db
def test_the_agency_sees_the_priority_change_and_the_status_note_but_not_the_reason(worked, client, staff):
    client.force_login(staff)
    page = client.get(f"/tickets/{worked.number}/").content.decode()
    assert "changed the priority from P3 medium to P1 critical" in page
    assert NOTE in page
    assert REASON not in page
    assert REASON.replace("'", "&#x27;") not in page


@pytest.mark.django_db
def test_technicians_see_the_reason(worked, client, technician):
    client.force_login(technician)
    page = client.get(f"/tickets/{worked.number}/").content.decode()
    assert REASON.replace("'", "&#x27;") in page
    assert NOTE in page


@pytest.mark.django_db
def test_the_console_labels_which_texts_the_agency_sees(client, technician):
    client.force_login(technician)
    page = client.get("/console/").content.decode()
    assert "Reason (technicians only, not shown to the agency)" in page
    assert "Note to the agency (optional)" in page
    assert "Public reply (the agency sees it)" in page

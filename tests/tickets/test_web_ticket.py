"""One ticket's page: its facts, its timeline as sentences, replies, confirming a fix, reopening, cancelling and
downloading attachments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.models import Comment, Status, TicketEvent
from tickets.services import ticket_claim, ticket_comment, ticket_resolve, ticket_set_status

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def resolved(ticket, technician, note="Replaced the faulty switch."):
    ticket_claim(ticket=ticket, technician=technician)
    ticket_resolve(ticket=ticket, actor=technician, note=note)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_page_shows_the_facts_in_qatar_time(client, make_ticket, staff, technician):
    technician.first_name, technician.last_name = "Aisha", "Al-Kuwari"
    technician.save()
    ticket = make_ticket(now=dt.datetime(2026, 11, 29, 5, 30, tzinfo=dt.UTC))
    ticket_claim(ticket=ticket, technician=technician)
    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()

    assert f"HD-{ticket.number}" in page
    assert "Network down in building 3" in page
    assert "Government Network" in page
    assert "Ministry of Public Health" in page
    assert "P3 medium" in page
    assert "In progress" in page
    assert "Aisha Al-Kuwari" in page
    # 05:30 UTC is 08:30 in Doha, for the eye and for the machine-readable time.
    assert '<time datetime="2026-11-29T08:30:00+03:00">29 Nov 2026, 08:30</time>' in page
    assert "05:30" not in page


@pytest.mark.django_db
def test_timeline_tells_each_change_as_a_sentence(client, make_ticket, staff, technician):
    technician.first_name, technician.last_name = "Aisha", "Al-Kuwari"
    technician.save()
    staff.first_name, staff.last_name = "Omar", "Haddad"
    staff.save()
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING)
    ticket_comment(ticket=ticket, author=staff, body="It fails on <every> floor.")
    ticket_resolve(ticket=ticket, actor=technician, note="Replaced the core switch.")
    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()

    sentences = [
        "Omar Haddad opened the ticket via Web.",
        "Aisha Al-Kuwari took the ticket.",
        "Aisha Al-Kuwari changed the status from In progress to Waiting on requester.",
        "Omar Haddad wrote a reply. The ticket is back in progress.",
        "Aisha Al-Kuwari marked the ticket as resolved.",
    ]
    positions = [page.index(sentence) for sentence in sentences]
    assert positions == sorted(positions)
    assert "It fails on &lt;every&gt; floor." in page
    assert "Replaced the core switch." in page


@pytest.mark.django_db
def test_internal_notes_and_their_files_are_hidden_from_agency_staff(client, make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_comment(
        ticket=ticket,
        author=technician,
        body="Vendor contract number 4471, escalate to them.",
        internal=True,
        attachments=[SimpleUploadedFile("contract.png", PNG, content_type="image/png")],
    )
    ticket_comment(ticket=ticket, author=technician, body="We are looking into it.")
    note_file = ticket.attachments.get()

    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "We are looking into it." in page
    assert "Vendor contract number 4471" not in page
    assert "added an internal note" not in page
    assert "contract.png" not in page
    assert client.get(f"/tickets/{ticket.number}/attachments/{note_file.pk}/").status_code == 404

    client.force_login(technician)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Vendor contract number 4471" in page
    assert "added an internal note" in page
    assert "contract.png" in page
    assert client.get(f"/tickets/{ticket.number}/attachments/{note_file.pk}/").status_code == 200


@pytest.mark.django_db
def test_reply_is_added_and_shown(client, make_ticket, staff):
    ticket = make_ticket()
    client.force_login(staff)
    screenshot = SimpleUploadedFile("b4.png", PNG, content_type="image/png")
    response = client.post(
        f"/tickets/{ticket.number}/comments/",
        {"body": "Building 4 is affected too.", "attachments": [screenshot]},
        follow=True,
    )
    assert response.redirect_chain == [(f"/tickets/{ticket.number}/", 302)]
    page = response.content.decode()
    assert "Your reply has been added." in page
    assert "Building 4 is affected too." in page
    assert "b4.png" in page
    assert Comment.objects.get().author == staff


@pytest.mark.django_db
def test_empty_reply_is_refused_with_its_error(client, make_ticket, staff):
    ticket = make_ticket()
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.number}/comments/", {"body": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_reply_on_a_finished_ticket_shows_the_service_message(client, make_ticket, staff, technician):
    ticket = resolved(make_ticket(), technician)
    ticket_set_status(ticket=ticket, actor=staff, status=Status.CLOSED)
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.number}/comments/", {"body": "One more thing"})
    assert response.status_code == 400
    assert "This ticket is finished; open a new one." in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.django_db
def test_confirming_the_fix_closes_the_ticket(client, make_ticket, staff, technician):
    ticket = resolved(make_ticket(), technician)
    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Confirm the fix" in page
    assert "Reopen the ticket" in page

    response = client.post(f"/tickets/{ticket.number}/close/", {"version": ticket.last_event_id}, follow=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    page = response.content.decode()
    assert "The ticket is closed." in page
    assert "confirmed the fix and closed the ticket." in page
    assert "Confirm the fix" not in page


@pytest.mark.django_db
def test_confirming_a_ticket_that_is_not_resolved_is_a_409_with_the_reason(client, make_ticket, staff):
    ticket = make_ticket()
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.number}/close/", {"version": ticket.last_event_id})
    assert response.status_code == 409
    assert "That status change is not allowed." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


@pytest.mark.django_db
def test_acting_on_an_old_version_of_the_page_is_a_409(client, make_ticket, staff, technician):
    ticket = resolved(make_ticket(), technician)
    seen_version = ticket.last_event_id
    ticket_comment(ticket=ticket, author=technician, body="Please confirm by phone as well.")
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.number}/close/", {"version": seen_version})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The ticket changed while you were looking at it." in page
    assert "Please confirm by phone as well." in page
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


@pytest.mark.django_db
def test_reopening_needs_a_reason_and_puts_it_on_the_timeline(client, make_ticket, staff, technician):
    ticket = resolved(make_ticket(), technician)
    client.force_login(staff)
    refused = client.post(f"/tickets/{ticket.number}/reopen/", {"version": ticket.last_event_id, "reason": ""})
    assert refused.status_code == 400
    assert "This field is required." in refused.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED

    response = client.post(
        f"/tickets/{ticket.number}/reopen/",
        {"version": ticket.last_event_id, "reason": "Building 3 is still offline."},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    page = response.content.decode()
    assert "reopened the ticket." in page
    assert "Building 3 is still offline." in page
    assert TicketEvent.objects.filter(ticket=ticket, kind="reopened").count() == 1


@pytest.mark.django_db
def test_cancelling_an_open_ticket(client, make_ticket, staff):
    ticket = make_ticket()
    client.force_login(staff)
    response = client.post(
        f"/tickets/{ticket.number}/cancel/",
        {"version": ticket.last_event_id, "reason": "It came back by itself."},
        follow=True,
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    page = response.content.decode()
    assert "The ticket is cancelled." in page
    assert "cancelled the ticket." in page
    assert "It came back by itself." in page
    assert "Cancel the ticket" not in page


@pytest.mark.django_db
def test_action_without_the_page_version_is_a_400(client, make_ticket, staff):
    ticket = make_ticket()
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.number}/cancel/", {})
    assert response.status_code == 400
    assert "The form was out of date." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


@pytest.mark.django_db
def test_attachment_downloads_as_a_file_with_its_type(client, make_ticket, staff):
    ticket = make_ticket(
        attachments=[SimpleUploadedFile("rapport réseau.pdf", b"%PDF-1.7\n...", content_type="application/pdf")]
    )
    attachment = ticket.attachments.get()
    client.force_login(staff)
    response = client.get(f"/tickets/{ticket.number}/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''rapport%20r%C3%A9seau.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.7\n..."


@pytest.mark.django_db
def test_attachment_with_an_unknown_stored_type_is_served_as_bytes(client, make_ticket, staff):
    ticket = make_ticket(attachments=[SimpleUploadedFile("page.txt", b"<html>", content_type="text/html")])
    client.force_login(staff)
    response = client.get(f"/tickets/{ticket.number}/attachments/{ticket.attachments.get().pk}/")
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.django_db
def test_technician_sees_the_page_with_a_link_to_the_console(client, make_ticket, technician):
    ticket = make_ticket()
    client.force_login(technician)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'href="/console/"' in page
    assert "Cancel the ticket" not in page

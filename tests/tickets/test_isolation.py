"""Who can reach a ticket through the web pages: every ticket URL for every kind of user, in one matrix."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.models import Comment, Status
from tickets.services import ticket_claim, ticket_resolve

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


# What each request does, given the ticket: (method, url, data).
REQUESTS = {
    "detail": lambda t: ("get", f"/tickets/{t.number}/", None),
    "comment": lambda t: ("post", f"/tickets/{t.number}/comments/", {"body": "Still broken on floor 2."}),
    "close": lambda t: ("post", f"/tickets/{t.number}/close/", {"version": t.last_event_id}),
    "reopen": lambda t: ("post", f"/tickets/{t.number}/reopen/", {"version": t.last_event_id, "reason": "No."}),
    "cancel": lambda t: ("post", f"/tickets/{t.number}/cancel/", {"version": t.last_event_id}),
    "attachment": lambda t: ("get", f"/tickets/{t.number}/attachments/{t.attachments.get().pk}/", None),
    "list_q_number": lambda t: ("get", f"/tickets/?q={t.number}", None),
    "list_q_reference": lambda t: ("get", f"/tickets/?q=HD-{t.number}", None),
    "list_service": lambda t: ("get", f"/tickets/?service={t.service_id}", None),
}
# Close and reopen need a resolved ticket; the others an open one.
NEEDS_RESOLVED = {"close", "reopen"}
LIST_REQUESTS = {"list_q_number", "list_q_reference", "list_service"}

# user -> what they get: "login" (302 to the login page), "ok" (200, or 302 back to the ticket after an action,
# and the ticket shows in lists), "hidden" (404 for ticket URLs; lists are 200 without the ticket).
EXPECTED = {"anonymous": "login", "staff": "ok", "other_staff": "hidden", "technician": "ok"}
# Closing confirms the fix, so it is the requester's move: a technician who sees the ticket is refused (403).
REFUSED = {("technician", "close")}


@pytest.mark.django_db
@pytest.mark.parametrize("user_kind", list(EXPECTED))
@pytest.mark.parametrize("request_kind", list(REQUESTS))
def test_every_ticket_url_for_every_kind_of_user(
    client, make_ticket, staff, other_staff, technician, other_technician, user_kind, request_kind
):
    ticket = make_ticket(attachments=[SimpleUploadedFile("screen.png", PNG, content_type="image/png")])
    if request_kind in NEEDS_RESOLVED:
        ticket_claim(ticket=ticket, technician=other_technician)
        ticket_resolve(ticket=ticket, actor=other_technician, note="Switch replaced.")
        ticket.refresh_from_db()
    users = {"staff": staff, "other_staff": other_staff, "technician": technician}
    if user_kind in users:
        client.force_login(users[user_kind])
    method, url, data = REQUESTS[request_kind](ticket)
    version_before = ticket.last_event_id

    response = getattr(client, method)(url, data or {})

    ticket.refresh_from_db()
    expected = EXPECTED[user_kind]
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    elif request_kind in LIST_REQUESTS:
        assert response.status_code == 200
        shown = f'href="/tickets/{ticket.number}/"' in response.content.decode()
        assert shown is (expected == "ok")
    elif expected == "hidden":
        assert response.status_code == 404
        assert f"HD-{ticket.number}" not in response.content.decode()
    elif (user_kind, request_kind) in REFUSED:
        assert response.status_code == 403
        assert "Only the requester closes a ticket" in response.content.decode()
        assert ticket.last_event_id == version_before
    elif method == "post":
        assert response.status_code == 302
        assert response["Location"] == f"/tickets/{ticket.number}/"
        assert ticket.last_event_id > version_before
    else:
        assert response.status_code == 200
        if request_kind == "attachment":
            assert b"".join(response.streaming_content) == PNG
        else:
            assert f"HD-{ticket.number}" in response.content.decode()

    if expected != "ok" and method == "post":
        assert ticket.last_event_id == version_before
        assert not Comment.objects.exists()
        assert ticket.status in (Status.NEW, Status.RESOLVED)

"""The console's HTTP side: the page, the ticket panel JSON and the action endpoint (the same adapter as the socket)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.test import Client
from django.utils.crypto import get_random_string

from tests.factories import PASSWORD, person_ref
from tests.tickets.test_services import finished
from tickets.models import Status, Ticket, TicketEvent
from tickets.services import ticket_assign, ticket_claim, ticket_comment, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """The manifest storage used when DEBUG is off needs collectstatic; the page only needs static URLs."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def logged_in(user, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    assert client.login(request=HttpRequest(), username=user.get_username(), password=PASSWORD)
    return client


def with_csrf(client: Client) -> dict[str, str]:
    """Give the client a CSRF cookie and return the header a browser's script sends with it."""
    token = get_random_string(32)
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    return {"HTTP_X_CSRFTOKEN": token}


def action_url(ticket: Ticket, action: str) -> str:
    return f"/console/tickets/{ticket.number}/actions/{action}/"


def test_console_page_sends_anonymous_users_to_log_in(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/console/")


def test_console_page_is_forbidden_to_agency_staff(staff):
    response = logged_in(staff).get("/console/")
    assert response.status_code == 403


def test_console_page_carries_the_client_configuration(technician, other_technician, team):
    response = logged_in(technician).get("/console/")
    assert response.status_code == 200
    config = response.context["console_config"]
    assert config["ws_path"] == "/ws/console/"
    assert config["me"] == {"id": technician.pk, "name": technician.get_full_name(), "team_ids": [team.pk]}
    assert config["teams"] == [{"id": team.pk, "code": team.code, "name_en": team.name_en, "name_ar": team.name_ar}]
    assert {user["id"] for user in config["technicians"]} == {technician.pk, other_technician.pk}
    assert config["ticket_url"] == "/console/tickets/0/"
    assert config["action_url"] == "/console/tickets/0/actions/ACTION/"
    assert config["heartbeat_seconds"] == settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS
    assert config["language"] == "en"
    assert 'id="console-config"' in response.content.decode()


def test_console_page_offers_the_moves_a_technician_can_make(technician):
    html = logged_in(technician).get("/console/").content.decode()
    status_select = html.split('id="status-select"')[1].split("</select>")[0]
    assert 'value="resolved"' in status_select and 'value="waiting"' in status_select
    assert 'value="new"' not in status_select and 'value="closed"' not in status_select
    priority_select = html.split('id="priority-select"')[1].split("</select>")[0]
    assert priority_select.count("<option") == 4
    assert "P1 critical" in priority_select


def test_console_page_config_follows_the_chosen_language(technician):
    client = logged_in(technician)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    assert client.get("/console/").context["console_config"]["language"] == "ar"


def test_panel_shows_technicians_everything_including_internal_notes(technician, make_ticket, staff):
    ticket = make_ticket(contact_phone="+97444000000")
    ticket_comment(ticket=ticket, author=technician, body="Core switch reboot scheduled", internal=True)
    ticket_comment(ticket=ticket, author=staff, body="Still down on floor 2")
    response = logged_in(technician).get(f"/console/tickets/{ticket.number}/")
    assert response.status_code == 200
    panel = response.json()
    assert panel["ticket"]["number"] == ticket.number
    assert panel["description"] == ticket.description
    assert panel["requester"] == person_ref(staff)
    assert panel["contact_phone"] == "+97444000000"
    assert panel["agency_ticket_url"] == f"/tickets/{ticket.number}/"
    assert [item["kind"] for item in panel["timeline"]] == ["opened", "commented", "commented"]
    assert panel["timeline"][1]["comment"] == {"body": "Core switch reboot scheduled", "internal": True}
    assert panel["timeline"][1]["public"] is False
    assert panel["timeline"][2]["comment"] == {"body": "Still down on floor 2", "internal": False}
    assert panel["ticket"]["version"] == panel["timeline"][-1]["id"]


def test_panel_attachment_links_download_through_the_checked_view(technician, make_ticket):
    upload = SimpleUploadedFile("switch.log", b"port 24 flapping", content_type="text/plain")
    ticket = make_ticket(attachments=[upload])
    client = logged_in(technician)
    [attachment] = client.get(f"/console/tickets/{ticket.number}/").json()["attachments"]
    assert attachment["name"] == "switch.log"
    assert attachment["url"].startswith(f"/tickets/{ticket.number}/attachments/")
    download = client.get(attachment["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"port 24 flapping"


def test_panel_is_forbidden_to_agency_staff_even_for_their_own_ticket(staff, make_ticket):
    ticket = make_ticket()
    response = logged_in(staff).get(f"/console/tickets/{ticket.number}/")
    assert response.status_code == 403
    assert response.json()["error"]
    assert "Network down" not in response.content.decode()


def test_panel_of_an_unknown_ticket_is_404(technician):
    response = logged_in(technician).get("/console/tickets/999999999/")
    assert response.status_code == 404
    assert response.json()["error"]


def test_action_without_csrf_token_is_refused_and_changes_nothing(technician, make_ticket):
    ticket = make_ticket()
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(action_url(ticket, "claim"), {"version": ticket.last_event_id})
    assert response.status_code == 403
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_claim_with_csrf_token_succeeds_and_returns_the_new_row(technician, make_ticket):
    ticket = make_ticket()
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(action_url(ticket, "claim"), {"version": ticket.last_event_id}, **with_csrf(client))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["error"] is None
    assert body["ticket"]["assignee"] == person_ref(technician)
    assert body["ticket"]["status"] == Status.IN_PROGRESS
    assert body["ticket"]["version"] == Ticket.objects.get(pk=ticket.pk).last_event_id > ticket.last_event_id


def test_agency_staff_cannot_post_console_actions(staff, make_ticket):
    ticket = make_ticket()
    client = logged_in(staff, enforce_csrf=True)
    response = client.post(
        action_url(ticket, "status"), {"version": ticket.last_event_id, "status": "cancelled"}, **with_csrf(client)
    )
    assert response.status_code == 403
    assert response.json()["ok"] is False
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_stale_version_is_409_and_changes_nothing(technician, other_technician, make_ticket):
    ticket = make_ticket()
    ticket_assign(ticket=ticket, actor=other_technician, assignee=other_technician)
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(
        action_url(ticket, "note"),
        {"version": ticket.last_event_id, "body": "Checking the uplink"},
        **with_csrf(client),
    )
    assert response.status_code == 409
    body = response.json()
    assert body["ok"] is False
    assert "changed" in body["error"]
    assert body["ticket"]["assignee"]["id"] == other_technician.pk
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


def test_claim_of_a_ticket_someone_has_is_409_naming_them(technician, other_technician, make_ticket):
    ticket = make_ticket()
    ticket_assign(ticket=ticket, actor=other_technician, assignee=other_technician)
    version = Ticket.objects.get(pk=ticket.pk).last_event_id
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(action_url(ticket, "claim"), {"version": version}, **with_csrf(client))
    assert response.status_code == 409
    assert other_technician.get_full_name() in response.json()["error"]


def test_invalid_input_is_400(technician, make_ticket):
    ticket = make_ticket()
    client = logged_in(technician, enforce_csrf=True)
    headers = with_csrf(client)
    response = client.post(
        action_url(ticket, "priority"),
        {"version": ticket.last_event_id, "priority": "urgent", "reason": "x"},
        **headers,
    )
    assert response.status_code == 400
    assert "priority" in response.json()["error"]
    response = client.post(action_url(ticket, "reply"), {"version": ticket.last_event_id, "body": "  "}, **headers)
    assert response.status_code == 400
    response = client.post(action_url(ticket, "claim"), {}, **headers)
    assert response.status_code == 400
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_unknown_ticket_or_action_is_404(technician, make_ticket):
    ticket = make_ticket()
    client = logged_in(technician, enforce_csrf=True)
    headers = with_csrf(client)
    assert client.post("/console/tickets/999999999/actions/claim/", {"version": 1}, **headers).status_code == 404
    assert client.post(action_url(ticket, "delete"), {"version": ticket.last_event_id}, **headers).status_code == 404


def test_reply_and_reassign_through_the_endpoint(technician, other_technician, make_ticket):
    ticket = make_ticket()
    client = logged_in(technician, enforce_csrf=True)
    headers = with_csrf(client)
    reply = client.post(
        action_url(ticket, "reply"), {"version": ticket.last_event_id, "body": "We are on it."}, **headers
    ).json()
    assert reply["ok"] is True
    assign = client.post(
        action_url(ticket, "assign"),
        {"version": reply["ticket"]["version"], "assignee": other_technician.pk},
        **headers,
    ).json()
    assert assign["ticket"]["assignee"]["id"] == other_technician.pk
    back = client.post(
        action_url(ticket, "assign"), {"version": assign["ticket"]["version"], "assignee": ""}, **headers
    ).json()
    assert back["ok"] is True
    assert back["ticket"]["assignee"] is None
    comment = ticket.comments.get()
    assert (comment.body, comment.internal, comment.channel) == ("We are on it.", False, "console")


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("reply", {"body": "a\x00b"}),
        ("note", {"body": "a\x00b"}),
        ("status", {"status": "waiting", "note": "a\x00b"}),
        ("status", {"status": "waiting", "note": "x" * 2001}),
        ("priority", {"priority": "1", "reason": "a\x00b"}),
        ("priority", {"priority": "99999999999999999999999", "reason": "outage"}),
    ],
    ids=["reply-nul", "note-nul", "status-nul", "status-note-too-long", "priority-reason-nul", "priority-huge"],
)
def test_text_and_numbers_the_database_cannot_hold_are_a_400(technician, make_ticket, action, fields):
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    response = logged_in(technician).post(action_url(ticket, action), {"version": ticket.last_event_id, **fields})
    assert response.status_code == 400
    assert response.json()["error"]
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


def test_a_claim_on_a_stale_version_is_409_and_changes_nothing(technician, staff, make_ticket):
    ticket = make_ticket()
    ticket_comment(ticket=ticket, author=staff, body="It is the whole floor, not only my desk")
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(action_url(ticket, "claim"), {"version": ticket.last_event_id}, **with_csrf(client))
    assert response.status_code == 409
    body = response.json()
    assert "changed" in body["error"]
    assert (body["ticket"]["assignee"], body["ticket"]["status"]) == (None, Status.NEW)
    assert body["ticket"]["version"] == Ticket.objects.get(pk=ticket.pk).last_event_id
    assert TicketEvent.objects.filter(ticket=ticket).count() == 2


FROZEN_ACTIONS = [
    ("assign", {"assignee": "OTHER"}),
    ("assign", {"assignee": ""}),
    ("priority", {"priority": "1", "reason": "Whole ministry offline"}),
    ("claim", {}),
]


@pytest.mark.parametrize("status", [Status.CLOSED, Status.CANCELLED])
@pytest.mark.parametrize(("action", "fields"), FROZEN_ACTIONS, ids=["assign", "unassign", "priority", "claim"])
def test_a_finished_ticket_is_frozen_for_the_console(
    action, fields, status, technician, other_technician, staff, make_ticket
):
    ticket = finished(make_ticket, technician, staff, status)
    events = TicketEvent.objects.filter(ticket=ticket).count()
    fields = {key: str(other_technician.pk) if value == "OTHER" else value for key, value in fields.items()}
    client = logged_in(technician, enforce_csrf=True)
    response = client.post(
        action_url(ticket, action), {"version": ticket.last_event_id, **fields}, **with_csrf(client)
    )
    assert response.status_code == 409
    body = response.json()
    assert body["ok"] is False
    assert "no longer open" in body["error"]
    assert body["ticket"]["status"] == status
    assert body["ticket"]["assignee"]["id"] == technician.pk
    assert body["ticket"]["priority"] == ticket.priority
    assert TicketEvent.objects.filter(ticket=ticket).count() == events


def test_a_technicians_console_reply_leaves_a_waiting_ticket_waiting(technician, make_ticket):
    ticket = ticket_claim(ticket=make_ticket(), technician=technician)
    ticket = ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING)
    client = logged_in(technician, enforce_csrf=True)
    body = client.post(
        action_url(ticket, "reply"), {"version": ticket.last_event_id, "body": "Any news?"}, **with_csrf(client)
    ).json()
    assert body["ok"] is True
    assert body["ticket"]["status"] == Status.WAITING
    assert body["ticket"]["sla_paused_at"] is not None
    assert Ticket.objects.get(pk=ticket.pk).status == Status.WAITING

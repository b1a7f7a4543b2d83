"""The agency's ticket form and page as their users work them: the priority impact and urgency give is on the form
before sending, a failed submit lands on the error summary, a ticket that waits on its requester says so at the top,
and the files sent with a reply are listed with that reply."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tickets.models import Level, Status
from tickets.services import ticket_claim, ticket_comment, ticket_set_status

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def get(client, user, path: str, language: str = "en") -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def priorities_on(html: str) -> dict:
    found = re.search(r'data-priorities="([^"]+)"', html)
    assert found, "the form carries no priority table"
    return json.loads(html_lib.unescape(found.group(1)))


@pytest.mark.django_db
def test_the_form_carries_the_priority_each_impact_and_urgency_give(client, staff, service):
    html = get(client, staff, "/tickets/new/")
    table = priorities_on(html)
    assert len(table) == 9
    assert table[f"{Level.HIGH}:{Level.HIGH}"] == {"value": 1, "label": "P1 critical"}
    assert table[f"{Level.MEDIUM}:{Level.LOW}"] == {"value": 4, "label": "P4 low"}
    assert "Priority this gives:" in html
    assert re.search(r'<script src="/static/tickets/ticket_form\.js" nonce="[^"]+" defer></script>', html)
    assert "<style" not in html and "onchange" not in html

    arabic = priorities_on(get(client, staff, "/tickets/new/", "ar"))
    assert arabic[f"{Level.HIGH}:{Level.HIGH}"] == {"value": 1, "label": "P1 حرجة"}


@pytest.mark.django_db
def test_a_failed_submit_shows_an_error_summary_that_takes_the_focus_and_links_each_field(client, staff, service):
    client.force_login(staff)
    response = client.post("/tickets/new/", {"service": str(service.pk), "impact": "1", "urgency": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    summary = re.search(r'<div class="alert alert--error"[^>]*data-error-summary[^>]*>.*?</div>', html, re.S)
    assert summary, "no error summary"
    assert 'tabindex="-1"' in summary.group(0)
    assert '<a href="#id_subject">Subject: This field is required.</a>' in summary.group(0)
    assert '<a href="#id_description">Description: This field is required.</a>' in summary.group(0)


@pytest.mark.django_db
def test_a_ticket_waiting_on_its_requester_says_so_with_the_question(client, make_ticket, staff, technician):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    assert "Waiting on you" not in get(client, staff, f"/tickets/{ticket.number}/")

    ticket_set_status(
        ticket=ticket, actor=technician, status=Status.WAITING, note="Which floor is affected?"
    )
    html = get(client, staff, f"/tickets/{ticket.number}/")
    banner = re.search(r'<div data-live-region="waiting">(.*?)</div>', html, re.S).group(1)
    assert "Waiting on you" in banner
    assert "Which floor is affected?" in banner
    assert 'href="#reply"' in banner and 'id="reply"' in html
    assert "بانتظار ردّك" in get(client, staff, f"/tickets/{ticket.number}/", "ar")

    client.force_login(technician)
    assert "Waiting on you" not in client.get(f"/tickets/{ticket.number}/").content.decode()

    ticket_comment(ticket=ticket, author=staff, body="The third floor.")
    assert "Waiting on you" not in get(client, staff, f"/tickets/{ticket.number}/")


@pytest.mark.django_db
def test_files_are_listed_with_the_reply_they_came_with(client, make_ticket, staff, technician):
    opened_with = SimpleUploadedFile("first.png", PNG, content_type="image/png")
    ticket = make_ticket(attachments=[opened_with])
    later = SimpleUploadedFile("floor3.png", PNG, content_type="image/png")
    ticket_comment(ticket=ticket, author=staff, body="Photo of the switch.", attachments=[later])
    html = get(client, staff, f"/tickets/{ticket.number}/")

    description = re.search(r'aria-labelledby="description-heading">(.*?)</section>', html, re.S).group(1)
    assert "first.png" in description and "floor3.png" not in description
    reply = re.search(r'<li class="timeline__item timeline__item--commented.*?</li>\s*</ul>', html, re.S).group(0)
    assert "Photo of the switch." in reply and "floor3.png" in reply
    assert 'aria-label="Files sent with this reply"' in reply

"""The agency's ticket page in a real browser, against a real daphne on the Redis channel layer: a technician's public
reply appears on the open page without a reload, by the push after commit, with the new status; an internal note
does not."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LIVE_DELIVERY_SECONDS, SERVER_HEARTBEAT_SECONDS
from tests.browser.test_console_live import committed_elsewhere, log_in
from tickets.services import ticket_claim, ticket_comment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_heartbeat_seconds() -> float:
    return SERVER_HEARTBEAT_SECONDS



def test_a_technicians_reply_appears_on_the_open_agency_page_without_reload(
    staff, technician, make_ticket, daphne_server, browser
):
    ticket = committed_elsewhere(make_ticket, subject="Printer offline on floor 2")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    log_in(page, daphne_server.url, staff.username, f"/tickets/{ticket.number}/")
    # The page's socket is open once the server's hello is in (the page keeps its cursor).
    expect(page.locator("[data-live-page]")).to_have_attribute("data-live-state", "connected")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    committed_elsewhere(ticket_claim, ticket=ticket, technician=technician)
    committed_elsewhere(ticket_comment, ticket=ticket, author=technician, body="Swap the toner", internal=True)
    started = time.monotonic()
    committed_elsewhere(ticket_comment, ticket=ticket, author=technician, body="Please restart the printer.")

    timeline = page.locator("[data-live-region=timeline]")
    expect(timeline).to_contain_text("Please restart the printer.", timeout=LIVE_DELIVERY_SECONDS * 1000)
    assert time.monotonic() - started < LIVE_DELIVERY_SECONDS
    expect(page.locator("[data-live-region=badges]")).to_contain_text("In progress")
    expect(page.locator("[data-live-region=facts]")).to_contain_text(technician.get_full_name())
    assert "Swap the toner" not in timeline.inner_text()
    assert navigations == []
    context.close()

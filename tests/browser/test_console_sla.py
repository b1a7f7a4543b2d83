"""The console's SLA countdown in a real browser: a technician's first public reply ends the response countdown while
the ticket is still new, and the countdown stops and says "paused" while the ticket waits on the requester."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_live import committed_elsewhere, open_console
from tickets.models import Level

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_countdown_follows_the_response_and_stops_while_paused(make_ticket, technician, daphne_server, browser):
    ticket = committed_elsewhere(make_ticket, subject="Tawtheeq login loops", impact=Level.HIGH, urgency=Level.MEDIUM)
    context = browser.new_context(locale="en-GB")
    console = context.new_page()
    try:
        open_console(console, daphne_server.url, technician.username)
        row = console.locator(f'.q-row[data-number="{ticket.number}"]')
        sla = row.locator(".sla")
        expect(sla.locator(".sla-kind")).to_have_text("Response")
        expect(sla).to_contain_text("due in")

        row.click()
        console.fill("#form-reply textarea[name=body]", "We are looking at the identity provider.")
        console.click("#form-reply button[type=submit]")
        expect(console.locator("#action-result")).to_have_text("Reply sent to the agency.")
        expect(row.locator(".q-status")).to_have_text("New")
        expect(sla.locator(".sla-kind")).to_have_text("Resolution")
        expect(console.locator("#fact-response")).to_contain_text("✓")

        console.click("#action-claim")
        expect(row.locator(".q-status")).to_have_text("In progress")
        console.click("#menu-status summary")
        console.select_option("#status-select", "waiting")
        console.click("#form-status button[type=submit]")
        expect(row.locator(".q-status")).to_have_text("Waiting on requester")
        expect(sla).to_have_attribute("data-level", "paused")
        expect(sla.locator(".sla-time")).to_have_text("paused")
        expect(console.locator("#fact-resolution")).to_contain_text("paused")
    finally:
        context.close()

"""The live console in a real browser, against a real daphne on the Redis channel layer: a ticket opened on the
agency's form appears in a technician's console without a reload, is claimed there, a second technician sees who has
it, and the agency sees the new status."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import LIVE_DELIVERY_SECONDS, SERVER_HEARTBEAT_SECONDS
from tests.factories import PASSWORD
from tickets.models import ArabicName, Level, Ticket
from tickets.services import ticket_claim

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_heartbeat_seconds() -> float:
    return SERVER_HEARTBEAT_SECONDS

SUBJECT = "Government Network down in building 3"


def log_in(page: Page, base_url: str, username: str, next_path: str) -> None:
    """Through the real login form, as a person would."""
    page.goto(f"{base_url}/accounts/login/?next={next_path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{base_url}{next_path}")


def open_console(page: Page, base_url: str, username: str) -> None:
    log_in(page, base_url, username, "/console/")
    status = page.locator("#connection-status")
    expect(status).to_have_attribute("data-state", "connected")
    expect(status).to_contain_text("Connected")


def committed_elsewhere(function, **kwargs):
    """Run ORM code in another thread, away from the event loop Playwright's sync API keeps in this one, as another
    process would; its connection is closed so that the test database can be flushed and dropped."""

    def run():
        try:
            return function(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=60)


def test_ticket_opened_on_the_form_reaches_the_console_live_and_is_claimed_there(
    service, staff, technician, other_technician, daphne_server, browser
):
    live_server_url = daphne_server.url
    tech_name = technician.get_full_name() or technician.get_username()
    other_name = other_technician.get_full_name() or other_technician.get_username()
    contexts = [browser.new_context(locale="en-GB") for _ in range(3)]
    console, agency, second_console = (context.new_page() for context in contexts)
    csp_violations: list[str] = []

    def record_csp_violation(message) -> None:
        if "Content Security Policy" in message.text:
            csp_violations.append(message.text)

    console.on("console", record_csp_violation)
    try:
        open_console(console, live_server_url, technician.username)
        expect(console.locator("#queue-empty")).to_be_visible()
        console.evaluate("window.consoleNotReloaded = true")

        log_in(agency, live_server_url, staff.username, "/tickets/new/")
        agency.select_option("select[name=service]", str(service.pk))
        agency.select_option("select[name=impact]", str(Level.HIGH))
        agency.select_option("select[name=urgency]", str(Level.MEDIUM))
        agency.fill("input[name=subject]", SUBJECT)
        agency.fill("textarea[name=description]", "No connectivity on floors 2 to 4 since 08:00.")
        agency.fill("input[name=contact_phone]", "+974 4400 1234")
        agency.click("form[action$='/tickets/new/'] button[type=submit]")
        agency.wait_for_url(re.compile(r"/tickets/\d+/$"))
        committed_at = time.monotonic()
        number = int(re.search(r"/tickets/(\d+)/$", agency.url).group(1))
        expect(agency.locator(".ticket-header")).to_contain_text(f"HD-{number}")

        row = console.locator(f'.q-row[data-number="{number}"]')
        expect(row).to_be_visible(timeout=LIVE_DELIVERY_SECONDS * 1000)
        assert time.monotonic() - committed_at <= LIVE_DELIVERY_SECONDS
        assert console.evaluate("window.consoleNotReloaded") is True
        expect(row).to_contain_text(SUBJECT)
        expect(row).to_contain_text(f"HD-{number}")
        expect(row.locator(".q-status")).to_have_text("New")
        expect(row.locator(".sla")).to_contain_text("due in")
        expect(row).to_have_class(re.compile(r"\bis-new\b"))
        expect(console.locator("#announce-queue")).to_contain_text(f"New ticket HD-{number}")

        console.keyboard.press("j")
        expect(row).to_be_focused()
        console.keyboard.press("Enter")
        expect(console.locator("#ticket-panel")).to_be_visible()
        expect(console.locator("#panel-title")).to_have_text(SUBJECT)
        expect(console.locator("#panel-timeline")).to_contain_text(f"{staff.get_full_name()} opened the ticket")

        console.click("#action-claim")
        expect(console.locator("#action-result")).to_have_text("You took this ticket.")
        expect(row.locator(".q-status")).to_have_text("In progress")
        expect(row.locator(".q-assignee")).to_have_text(tech_name)
        expect(console.locator("#panel-timeline")).to_contain_text(f"{tech_name} took the ticket")

        open_console(second_console, live_server_url, other_technician.username)
        second_console.click(f'.q-row[data-number="{number}"]')
        expect(second_console.locator("#panel-title")).to_have_text(SUBJECT)
        expect(console.locator("#panel-presence")).to_contain_text(f"Also viewing: {other_name}")
        second_console.click("#action-claim")
        expect(second_console.locator("#action-result")).to_have_text(f"{tech_name} has already taken this ticket.")
        expect(second_console.locator("#action-result")).to_have_attribute("data-ok", "false")

        agency.reload()
        expect(agency.locator(".ticket-header")).to_contain_text("In progress")

        console.click("form.lang-switch button[value=ar]")
        console.wait_for_url(f"{live_server_url}/console/")
        expect(console.locator("html")).to_have_attribute("dir", "rtl")
        expect(console.locator("h1")).to_have_text("لوحة المتابعة المباشرة")
        expect(console.locator("#connection-status")).to_have_attribute("data-state", "connected")
        expect(console.locator("#connection-status")).to_contain_text("متصل")
        expect(console.locator(f'.q-row[data-number="{number}"] .q-status')).to_have_text("قيد المعالجة")
        assert csp_violations == []
    finally:
        for context in contexts:
            context.close()


def test_console_reconnects_by_itself_and_shows_what_it_missed(make_ticket, technician, daphne_server, browser):
    context = browser.new_context(locale="en-GB")
    console = context.new_page()
    try:
        open_console(console, daphne_server.url, technician.username)
        console.evaluate("window.consoleNotReloaded = true")
        status = console.locator("#connection-status")

        daphne_server.stop()
        expect(status).to_have_attribute("data-state", re.compile(r"^(reconnecting|offline)$"))
        expect(status).to_contain_text(re.compile(r"Reconnecting|Offline"))
        missed = committed_elsewhere(make_ticket, subject="Data centre power alarm")
        daphne_server.start()

        expect(status).to_have_attribute("data-state", "connected", timeout=20_000)
        expect(status).to_contain_text("Connected")
        expect(console.locator(f'.q-row[data-number="{missed.number}"]')).to_contain_text("Data centre power alarm")
        expect(console.locator("#announce-queue")).to_contain_text("Back online. The queue is up to date.")
        assert console.evaluate("window.consoleNotReloaded") is True
    finally:
        context.close()


def test_a_change_made_from_an_arabic_page_names_people_in_english_on_an_english_console(
    make_ticket, technician, other_technician, daphne_server, browser
):
    committed_elsewhere(ArabicName.objects.create, user=other_technician, name="يوسف الخليفي")
    ticket = committed_elsewhere(make_ticket, subject="Core switch down")
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        open_console(page, daphne_server.url, technician.username)
        row = page.locator(f'.q-row[data-number="{ticket.number}"]')
        expect(row.locator(".q-assignee")).to_have_text("Unassigned")

        def claim_from_an_arabic_page() -> None:
            with translation.override("ar"):
                ticket_claim(ticket=Ticket.objects.get(pk=ticket.pk), technician=other_technician)

        committed_elsewhere(claim_from_an_arabic_page)
        expect(row.locator(".q-assignee")).to_have_text(other_technician.get_full_name())
    finally:
        context.close()

"""The console as technicians on duty work it, in a real browser (English and Arabic, a 1366x768 desk screen and a
390x844 phone): a call becomes a ticket without leaving the console, the conversation comes first with the reply box
in sight, the controls always tell the ticket's state and why a button is off, and a paged technician can read and
act on a ticket from a phone. Screenshots of a failing test are kept (tests/browser/artifacts.py)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Browser, Page, expect

from tests.browser.test_console_live import committed_elsewhere, log_in
from tickets.models import Level, SavedReply, Ticket
from tickets.services import ticket_claim, ticket_comment, ticket_set_priority

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESK = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
LONG_SUBJECT = "Government Correspondence System rejects attachments larger than two megabytes for every department"


def console_page(browser: Browser, base_url: str, username: str, *, language: str = "en", viewport=DESK) -> Page:
    context = browser.new_context(locale="ar-QA" if language == "ar" else "en-GB", viewport=viewport)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page = context.new_page()
    log_in(page, base_url, username, "/console/")
    expect(page.locator("#connection-status")).to_have_attribute("data-state", "connected")
    return page


def box(page: Page, selector: str) -> dict[str, float]:
    found = page.locator(selector).bounding_box()
    assert found is not None, f"{selector} is not displayed"
    return found


def assert_in_viewport(page: Page, selector: str, viewport=DESK) -> None:
    area = box(page, selector)
    assert area["x"] >= 0 and area["y"] >= 0, (selector, area)
    assert area["x"] + area["width"] <= viewport["width"] + 0.5, (selector, area)
    assert area["y"] + area["height"] <= viewport["height"] + 0.5, (selector, area)


def ticket_get(number: int) -> Ticket:
    return Ticket.objects.select_related("requester", "assignee").get(number=number)


def opened_event_actor(number: int) -> int:
    return Ticket.objects.get(number=number).events.get(kind="opened").actor_id


def test_a_call_becomes_a_ticket_from_the_console_live_everywhere(
    service, agency, staff, technician, other_technician, daphne_server, browser
):
    base = daphne_server.url
    console = console_page(browser, base, technician.username)
    colleague = console_page(browser, base, other_technician.username)
    console.evaluate("window.consoleNotReloaded = true")
    agency_page = browser.new_context(locale="en-GB").new_page()
    log_in(agency_page, base, staff.username, "/tickets/")
    expect(agency_page.locator("[data-live-page]")).to_have_attribute("data-live-state", "connected")

    # From the keyboard, as a technician with a caller on the line: n opens the form.
    console.keyboard.press("n")
    dialog = console.locator("#new-ticket-dialog")
    expect(dialog).to_be_visible()
    expect(console.locator("#nt-agency-filter")).to_be_focused()
    console.fill("#nt-agency-filter", "public health")
    expect(console.locator("#nt-agency")).to_have_value(str(agency.pk))
    expect(console.locator("#nt-requester option")).to_have_count(2)
    console.select_option("#nt-requester", str(staff.pk))
    expect(console.locator('[data-field="requester_name"]')).to_be_hidden()
    console.check('input[name=channel][value="phone"]')
    console.select_option("#nt-service", str(service.pk))
    console.select_option("#nt-impact", str(Level.HIGH))
    console.select_option("#nt-urgency", str(Level.MEDIUM))
    expect(console.locator("#nt-priority")).to_have_text("Priority: P2 high")
    console.fill("#nt-subject", "Cannot send correspondence to the Ministry of Finance")
    console.fill("#nt-description", "The caller gets a timeout for every message since 09:00.")
    log = {"name": "error.txt", "mimeType": "text/plain", "buffer": b"timeout"}
    console.set_input_files("#nt-attachments", files=[log])
    console.click("#new-ticket-submit")

    expect(dialog).to_be_hidden()
    expect(console.locator("#panel-title")).to_have_text("Cannot send correspondence to the Ministry of Finance")
    result = console.locator("#action-result")
    expect(result).to_contain_text(re.compile(r"Ticket HD-\d+ is open"))
    number = int(re.search(r"HD-(\d+)", result.inner_text()).group(1))
    tech_name, staff_name = technician.get_full_name(), staff.get_full_name()
    opened = f"{tech_name} opened the ticket for {staff_name} via Phone."
    expect(console.locator("#panel-timeline")).to_contain_text(opened)
    expect(console.locator("#panel-attachments")).to_contain_text("error.txt")
    expect(console.locator(f'.q-row[data-number="{number}"]')).to_be_visible()
    expect(colleague.locator(f'.q-row[data-number="{number}"]')).to_contain_text("Cannot send correspondence")
    assert console.evaluate("window.consoleNotReloaded") is True

    ticket = committed_elsewhere(ticket_get, number=number)
    assert ticket.requester == staff and ticket.channel == "phone" and ticket.priority == 2
    assert committed_elsewhere(opened_event_actor, number=number) == technician.pk

    # The agency's open list shows it without a reload.
    expect(agency_page.locator("[data-live-region=tickets]")).to_contain_text(f"HD-{number}")

    # Found again by its number from the search box, and by the caller's words.
    console.keyboard.press("/")
    expect(console.locator("#search-q")).to_be_focused()
    console.keyboard.type(f"HD-{number}")
    console.keyboard.press("Enter")
    expect(console.locator("#search-list .s-row")).to_have_count(1)
    expect(console.locator("#search-list")).to_contain_text("Cannot send correspondence")


def test_a_walk_in_is_opened_in_arabic_with_a_name_and_phone(service, agency, technician, daphne_server, browser):
    console = console_page(browser, daphne_server.url, technician.username, language="ar")
    expect(console.locator("html")).to_have_attribute("dir", "rtl")
    console.click("#new-ticket-open")
    console.fill("#nt-agency-filter", "الصحة")
    expect(console.locator("#nt-agency")).to_have_value(str(agency.pk))
    console.check('input[name=channel][value="walk_in"]')
    expect(console.locator('[data-field="requester_name"]')).to_be_visible()
    console.fill("#nt-requester_name", "مريم الكواري")
    console.fill("#nt-contact_phone", "4400 1234")
    console.select_option("#nt-service", str(service.pk))
    console.select_option("#nt-impact", str(Level.MEDIUM))
    console.select_option("#nt-urgency", str(Level.MEDIUM))
    expect(console.locator("#nt-priority")).to_have_text("الأولوية: P3 متوسطة")
    console.fill("#nt-subject", "الطابعة لا تعمل في الاستقبال")
    console.click("#new-ticket-submit")

    expect(console.locator("#panel-title")).to_have_text("الطابعة لا تعمل في الاستقبال")
    expect(console.locator("#action-result")).to_contain_text(re.compile(r"فُتحت التذكرة HD-\d+\. أعطِ هذا الرقم"))
    expect(console.locator("#panel-timeline")).to_contain_text("نيابةً عن مريم الكواري عبر حضور شخصي")
    expect(console.locator("#fact-phone")).to_have_text("+97444001234")

    # A form that reaches the server without what it needs is told so beside each field, in Arabic.
    console.click("#new-ticket-open")
    console.evaluate("for (const node of document.querySelectorAll('#new-ticket-form [required]')) node.required = 0")
    console.click("#new-ticket-submit")
    expect(console.locator("#nt-error")).to_have_text("صحّح الحقول المشار إليها.")
    expect(console.locator('[data-field="subject"] .nt-field-error')).to_be_visible()
    expect(console.locator("#nt-subject")).to_have_attribute("aria-invalid", "true")


def many_comments(*, number: int, staff_id: int, technician_id: int) -> None:
    ticket = Ticket.objects.get(number=number)
    users = get_user_model().objects.in_bulk([staff_id, technician_id])
    for index in range(12):
        author = users[staff_id] if index % 2 else users[technician_id]
        ticket_comment(ticket=ticket, author=author, body=f"Message {index}: " + "details of the fault. " * 6)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_conversation_comes_first_and_the_reply_box_is_in_sight_at_1366x768(
    language, make_ticket, staff, technician, team, daphne_server, browser
):
    ticket = committed_elsewhere(make_ticket, subject=LONG_SUBJECT, description="First line.\n" * 12)
    committed_elsewhere(many_comments, number=ticket.number, staff_id=staff.pk, technician_id=technician.pk)
    committed_elsewhere(
        SavedReply.objects.create,
        name_en="Looking into it",
        name_ar="قيد الفحص",
        body_en="We are looking into it and will call you back.",
        body_ar="نحن نفحص المشكلة وسنعاود الاتصال بك.",
        team=team,
    )
    console = console_page(browser, daphne_server.url, technician.username, language=language)
    console.click(f'.q-row[data-number="{ticket.number}"]')
    expect(console.locator("#panel-timeline li")).to_have_count(13)

    assert console.evaluate("window.scrollY") == 0
    assert_in_viewport(console, "#reply-body")
    assert_in_viewport(console, "#form-reply button[type=submit]")
    assert_in_viewport(console, "#action-claim")
    # Header, action bar, then the description and the timeline, oldest first as on the agency's page.
    head, bar, description = box(console, ".panel-head"), box(console, ".panel-bar"), box(console, "#panel-description")
    assert head["y"] < bar["y"] < description["y"] < box(console, "#reply-body")["y"] - 100
    items = console.locator("#panel-timeline li")
    expect(items.first).to_have_attribute("data-kind", "opened")
    expect(items.last).to_contain_text("Message 11")

    console.select_option("#saved-reply", label="قيد الفحص")
    reply = console.locator("#reply-body")
    expect(reply).to_have_value("نحن نفحص المشكلة وسنعاود الاتصال بك.")
    expect(reply).to_be_focused()
    reply.press("End")
    reply.press_sequentially(" 44001234")
    console.click("#form-reply button[type=submit]")
    expect(reply).to_have_value("")
    expect(items).to_have_count(14)
    expect(items.last).to_contain_text("نحن نفحص المشكلة وسنعاود الاتصال بك. 44001234")
    expect(items.last).to_be_in_viewport()

    agency = browser.new_context(locale="en-GB").new_page()
    agency.context.add_cookies([{"name": "django_language", "value": language, "url": daphne_server.url}])
    log_in(agency, daphne_server.url, staff.username, f"/tickets/{ticket.number}/")
    agency_items = agency.locator("[data-live-region=timeline] > li")
    expect(agency_items.first).to_have_class(re.compile(r"timeline__item--opened"))
    expect(agency_items.last).to_contain_text("44001234")


def priority_of(number: int) -> int:
    return Ticket.objects.get(number=number).priority


def test_controls_tell_the_current_state_and_a_stale_form_cannot_send_an_old_value(
    make_ticket, technician, other_technician, daphne_server, browser
):
    ticket = committed_elsewhere(make_ticket, subject="Tawtheeq login loops")
    tech_name = technician.get_full_name()
    console = console_page(browser, daphne_server.url, technician.username)
    console.click(f'.q-row[data-number="{ticket.number}"]')
    send = console.locator("#form-reply button[type=submit]")
    expect(send).to_be_disabled()
    expect(send).to_have_attribute("title", "Write the text first.")
    expect(console.locator("#why-reply")).to_have_text("Write the text first.")

    console.click("#action-claim")
    claim = console.locator("#action-claim")
    expect(claim).to_be_disabled()
    expect(claim).to_have_attribute("title", "You already have this ticket.")
    expect(console.locator("#why-claim")).to_have_text("You already have this ticket.")
    expect(console.locator("#action-acknowledge")).to_have_attribute(
        "title", "Only a new ticket can be acknowledged; this one already is."
    )
    expect(console.locator("#bar-status")).to_have_text("In progress")
    expect(console.locator("#bar-assignee")).to_have_text(tech_name)

    console.click("#menu-status summary")
    expect(console.locator("#status-select")).to_have_value("in_progress")
    change = console.locator("#form-status button[type=submit]")
    expect(change).to_be_disabled()
    expect(change).to_have_attribute("title", "This is the ticket’s status now: choose another one.")
    expect(console.locator('#status-select option[value="waiting"]')).to_be_enabled()
    console.select_option("#status-select", "waiting")
    console.fill("#form-status input[name=note]", "Which browser do you use?")
    expect(change).to_be_enabled()
    change.click()
    expect(console.locator("#bar-status")).to_have_text("Waiting on requester")
    expect(console.locator("#form-status")).to_be_hidden()
    expect(console.locator("#status-select")).to_have_value("waiting")
    expect(console.locator("#form-status input[name=note]")).to_have_value("")

    console.click("#menu-assign summary")
    expect(console.locator("#assign-select")).to_have_value(str(technician.pk))
    expect(console.locator("#form-assign button[type=submit]")).to_have_attribute(
        "title", "The ticket is already assigned that way."
    )

    # A priority chosen while a colleague changes it is refused as stale, and the form shows the new priority.
    console.click("#menu-priority summary")
    expect(console.locator("#priority-select")).to_have_value("3")
    console.select_option("#priority-select", "1")
    console.fill("#form-priority input[name=reason]", "Whole ministry affected")
    current = committed_elsewhere(ticket_get, number=ticket.number)
    committed_elsewhere(
        ticket_set_priority, ticket=current, actor=other_technician, priority=2, reason="VIP user"
    )
    expect(console.locator("#bar-priority")).to_have_text("P2")
    console.click("#form-priority button[type=submit]")
    expect(console.locator("#action-result")).to_have_text(
        "The ticket changed while you were looking at it. Reload it and try again."
    )
    expect(console.locator("#priority-select")).to_have_value("2")
    assert committed_elsewhere(priority_of, number=ticket.number) == 2

    # Sent again from the fresh form, it goes through; the reason box empties.
    expect(console.locator("#form-priority")).to_be_visible()
    console.select_option("#priority-select", "1")
    console.fill("#form-priority input[name=reason]", "Whole ministry affected")
    console.click("#form-priority button[type=submit]")
    expect(console.locator("#bar-priority")).to_have_text("P1")
    assert committed_elsewhere(priority_of, number=ticket.number) == 1
    console.click("#menu-priority summary")
    expect(console.locator("#form-priority input[name=reason]")).to_have_value("")
    expect(console.locator("#priority-select")).to_have_value("1")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_paged_technician_reads_and_acts_on_a_ticket_from_a_phone(
    language, make_ticket, technician, other_technician, daphne_server, browser
):
    ticket = committed_elsewhere(make_ticket, subject=LONG_SUBJECT, impact=Level.HIGH, urgency=Level.HIGH)
    claimed = committed_elsewhere(make_ticket, subject="Office 365 licences", impact=Level.LOW, urgency=Level.LOW)
    committed_elsewhere(ticket_claim, ticket=claimed, technician=other_technician)
    console = console_page(browser, daphne_server.url, technician.username, language=language, viewport=PHONE)

    row = console.locator(f'.q-row[data-number="{ticket.number}"]')
    for part in (".c-badge", ".q-ref", ".q-status", ".q-assignee", ".q-subject-text", ".sla-time"):
        expect(row.locator(part)).to_be_visible()
        assert_in_viewport(console, f'.q-row[data-number="{ticket.number}"] {part}', PHONE)
    expect(row.locator(".q-ref")).to_have_text(f"HD-{ticket.number}")
    expect(console.locator(f'.q-row[data-number="{claimed.number}"] .q-assignee')).to_have_text(
        other_technician.get_full_name()
    )
    subject = row.locator(".q-subject-text")
    lines = subject.evaluate(
        "node => node.getBoundingClientRect().height / parseFloat(getComputedStyle(node).lineHeight)"
    )
    assert 1.5 < lines < 2.5, lines
    # The countdown shows whole: nothing cut off in its box, and no sideways scrolling of the page.
    sla = row.locator(".sla-time")
    assert sla.evaluate("node => node.scrollWidth <= node.clientWidth + 1")
    assert console.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    row.click()
    panel = box(console, "#ticket-panel")
    assert [round(panel[key]) for key in ("x", "y", "width", "height")] == [0, 0, PHONE["width"], PHONE["height"]]
    for part in ("#panel-close", "#action-claim", "#reply-body", "#form-reply button[type=submit]", "#panel-sla"):
        assert_in_viewport(console, part, PHONE)
    panel_sla = console.locator("#panel-sla .sla-time")
    expect(panel_sla).to_be_visible()
    assert panel_sla.evaluate("node => node.scrollWidth <= node.clientWidth + 1")

    console.click("#action-claim")
    expect(console.locator("#bar-assignee")).to_have_text(technician.get_full_name())
    console.click("#menu-status summary")
    assert_in_viewport(console, "#form-status button[type=submit]", PHONE)
    console.keyboard.press("Escape")
    expect(console.locator("#form-status")).to_be_hidden()
    console.click("#panel-close")
    expect(console.locator("#ticket-panel")).to_be_hidden()
    expect(row.locator(".q-assignee")).to_have_text(technician.get_full_name())

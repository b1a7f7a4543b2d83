"""The agency's pages as their users see them in a real browser, in English and Arabic: the ticket list on a 390x844
phone shows every ticket's priority and status without sideways scrolling; on the ticket page phone numbers, ticket
numbers and sizes keep their left-to-right order inside Arabic text, sizes use the language's units and decimal
point, and people are named in the page's language."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from tests.browser.test_console_live import committed_elsewhere, log_in
from tickets.models import ArabicName, Level

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_SUBJECT = "Government Correspondence System rejects every attachment larger than two megabytes since the update"
# 1.5 MiB: "1.5 MB" in English, "1.5 ميغابايت" in Arabic (Django alone writes "1,5 م.ب").
PNG_1_5_MIB = b"\x89PNG\r\n\x1a\n" + b"\0" * (1_572_864 - 8)

# The horizontal positions of the first and last character of an element's text as the browser lays it out.
FIRST_AND_LAST_X = """(element) => {
  const text = element.firstChild;
  const range = document.createRange();
  range.setStart(text, 0); range.setEnd(text, 1);
  const first = range.getBoundingClientRect();
  range.setStart(text, text.length - 1); range.setEnd(text, text.length);
  const last = range.getBoundingClientRect();
  return [first.left, last.left];
}"""


def open_as(browser, server_url: str, username: str, path: str, *, language: str, viewport=None) -> Page:
    context = browser.new_context(locale="ar-QA" if language == "ar" else "en-GB", viewport=viewport or PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": server_url}])
    page = context.new_page()
    log_in(page, server_url, username, path)
    return page


def reads_left_to_right(page: Page, selector: str) -> None:
    first, last = page.locator(selector).first.evaluate(FIRST_AND_LAST_X)
    assert first < last, f"{selector} is laid out right to left"


@pytest.mark.parametrize(("language", "heading"), [("en", "Tickets of"), ("ar", "تذاكر")])
def test_the_ticket_list_on_a_phone_shows_priority_and_status_without_sideways_scrolling(
    language, heading, staff, make_ticket, daphne_server, browser, screenshots_on_failure
):
    for impact, urgency, subject in [
        (Level.HIGH, Level.HIGH, LONG_SUBJECT),
        (Level.MEDIUM, Level.MEDIUM, "Printer offline"),
        (Level.LOW, Level.LOW, "Mailbox quota"),
    ]:
        committed_elsewhere(make_ticket, impact=impact, urgency=urgency, subject=subject)
    page = open_as(browser, daphne_server.url, staff.username, "/tickets/", language=language)
    screenshots_on_failure.append(page)
    expect(page.locator("h1")).to_contain_text(heading)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    for index in range(3):
        row = rows.nth(index)
        for badge in (row.locator(".priority"), row.locator(".status")):
            expect(badge).to_be_visible()
            box = badge.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    urgent = rows.filter(has_text=LONG_SUBJECT)
    expect(urgent.locator(".priority")).to_have_text("P1 حرجة" if language == "ar" else "P1 critical")
    subject = urgent.locator(".cell-subject")
    assert subject.bounding_box()["width"] <= PHONE["width"]
    reads_left_to_right(page, "tbody tr .ticket-ref")
    page.context.close()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_ticket_page_keeps_numbers_left_to_right_and_speaks_the_pages_language(
    language, staff, make_ticket, daphne_server, browser, screenshots_on_failure
):
    committed_elsewhere(ArabicName.objects.create, user=staff, name="عائشة المهندي")
    upload = SimpleUploadedFile("screen.png", PNG_1_5_MIB, content_type="image/png")
    ticket = committed_elsewhere(make_ticket, contact_phone="+97444000000", attachments=[upload])
    page = open_as(
        browser,
        daphne_server.url,
        staff.username,
        f"/tickets/{ticket.number}/",
        language=language,
        viewport={"width": 1280, "height": 900},
    )
    screenshots_on_failure.append(page)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")

    phone = page.locator(".facts a.phone")
    expect(phone).to_have_text("+974 4400 0000")
    reads_left_to_right(page, ".facts a.phone")
    reads_left_to_right(page, ".ticket-header .ticket-ref")

    size = page.locator(".attachments .size")
    expect(size).to_have_text("1.5\u00a0ميغابايت" if language == "ar" else "1.5\u00a0MB")
    assert size.evaluate("(element) => getComputedStyle(element).unicodeBidi") == "isolate"
    opened = page.locator(".facts time").first
    assert opened.evaluate("(element) => getComputedStyle(element).unicodeBidi") == "isolate"

    requester = page.locator(".facts dd").filter(has_text="عائشة المهندي" if language == "ar" else staff.last_name)
    expect(requester).to_have_count(1)
    if language == "ar":
        expect(page.locator(".facts")).not_to_contain_text(staff.get_full_name())
        expect(opened).to_contain_text("،")
    page.context.close()


def test_the_ticket_form_previews_the_priority_and_lands_on_the_error_summary(
    staff, service, daphne_server, browser, screenshots_on_failure
):
    page = open_as(browser, daphne_server.url, staff.username, "/tickets/new/", language="en")
    screenshots_on_failure.append(page)
    preview = page.locator("[data-priority-preview]")
    expect(preview).to_be_hidden()
    page.select_option("select[name=impact]", str(Level.HIGH))
    expect(preview).to_be_hidden()
    page.select_option("select[name=urgency]", str(Level.HIGH))
    expect(preview).to_have_text("Priority this gives: P1 critical")
    page.select_option("select[name=urgency]", str(Level.LOW))
    expect(preview.locator(".priority--p3")).to_have_text("P3 medium")

    page.select_option("select[name=service]", str(service.pk))
    page.fill("input[name=subject]", "Printer offline")
    page.fill("textarea[name=description]", "Since this morning.")
    page.fill("input[name=contact_phone]", "12")
    page.click("form.form button[type=submit]")
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Contact phone: Enter a valid phone number")
    expect(preview).to_have_text("Priority this gives: P3 medium")
    page.context.close()

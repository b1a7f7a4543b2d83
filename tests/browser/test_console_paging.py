"""Paging on the live console, in a real browser beside a real daphne and a real escalation worker: a P1 opened on
the agency's form pages the team's on-call technician at once, the console says so on the queue row and in the
ticket's timeline without a reload, and the paged technician acknowledges in one click, which stops the chain."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from escalation.models import EscalationDue, OnCallOverride
from tests.browser.test_console_live import committed_elsewhere, log_in, open_console
from tickets.models import Level

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE_SECONDS = 5


def step_states(*, number: int) -> list[str]:
    steps = EscalationDue.objects.filter(ticket__number=number, trigger="step")
    return sorted(steps.values_list("state", flat=True))


def test_a_p1_from_the_form_pages_the_oncall_technician_live_who_acknowledges_in_one_click(
    service, staff, technician, daphne_server, escalation_worker, browser
):
    now = timezone.now()
    committed_elsewhere(
        OnCallOverride.objects.create,
        team=service.team,
        user=technician,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=1),
    )
    tech_name = technician.get_full_name()
    contexts = [browser.new_context(locale="en-GB") for _ in range(2)]
    console, agency = (context.new_page() for context in contexts)
    try:
        open_console(console, daphne_server.url, technician.username)
        console.evaluate("window.consoleNotReloaded = true")

        log_in(agency, daphne_server.url, staff.username, "/tickets/new/")
        agency.select_option("select[name=service]", str(service.pk))
        agency.select_option("select[name=impact]", str(Level.HIGH))
        agency.select_option("select[name=urgency]", str(Level.HIGH))
        agency.fill("input[name=subject]", "Government Network down across the ministry")
        agency.fill("textarea[name=description]", "No connectivity in any building since 08:00.")
        agency.fill("input[name=contact_phone]", "+974 4400 1234")
        agency.click("form[action$='/tickets/new/'] button[type=submit]")
        agency.wait_for_url(re.compile(r"/tickets/\d+/$"))
        number = int(re.search(r"/tickets/(\d+)/$", agency.url).group(1))

        item = console.locator("#queue-list li").filter(has=console.locator(f'.q-row[data-number="{number}"]'))
        paging = item.locator(".q-paging")
        expect(paging).to_contain_text(f"Paged {tech_name}", timeout=PAGE_SECONDS * 1000)
        expect(paging).to_contain_text("step 1 of 3")
        expect(paging).to_contain_text(re.compile(r"next step in 4:\d\d"))
        expect(console.locator("#announce-urgent")).to_contain_text(f"You are paged about HD-{number}")
        assert console.evaluate("window.consoleNotReloaded") is True

        item.locator(".q-row").click()
        expect(console.locator("#fact-paging")).to_contain_text(f"Paged {tech_name}")
        expect(console.locator("#panel-timeline")).to_contain_text(f"The helpdesk paged {tech_name} (step 1 of 3).")

        item.locator(".q-ack").click()
        expect(item.locator(".q-status")).to_have_text("Acknowledged")
        expect(paging).to_be_empty()
        expect(item.locator(".q-ack")).to_be_hidden()
        assert committed_elsewhere(step_states, number=number) == ["cancelled", "cancelled", "done"]
    finally:
        for context in contexts:
            context.close()

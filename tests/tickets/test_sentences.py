"""One module tells ticket events and labels choices: the agency's page, the console's panel and its labels all say
the same thing, in the reader's language."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from tickets.models import Channel, Priority, TicketEvent
from tickets.sentences import SENTENCES, event_sentence
from tickets.services import ticket_claim, ticket_set_priority

pytestmark = pytest.mark.django_db


def console_client(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_every_event_kind_has_its_own_sentence():
    assert set(TicketEvent.Kind.values) <= set(SENTENCES)


def test_a_kind_without_a_sentence_is_still_told():
    event = TicketEvent(kind="future_kind", channel=Channel.SYSTEM)
    assert event_sentence(event) == "The helpdesk: future_kind."


def test_console_panel_and_agency_page_tell_the_same_sentences(make_ticket, technician, staff):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    ticket_set_priority(ticket=ticket, actor=technician, priority=Priority.P1, reason="Whole ministry offline")

    panel = console_client(technician, "en").get(f"/console/tickets/{ticket.number}/").json()
    sentences = [item["sentence"] for item in panel["timeline"]]
    assert sentences == [
        f"{staff.get_full_name()} opened the ticket via Web.",
        f"{technician.get_full_name()} took the ticket.",
        f"{technician.get_full_name()} changed the priority from P3 medium to P1 critical.",
    ]
    agency_page = console_client(staff, "en").get(f"/tickets/{ticket.number}/").content.decode()
    assert all(sentence in agency_page for sentence in sentences[:2])


def test_console_panel_tells_events_in_the_technicians_language(make_ticket, technician, staff):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    panel = console_client(technician, "ar").get(f"/console/tickets/{ticket.number}/").json()
    assert [item["sentence"] for item in panel["timeline"]] == [
        f"فتح {staff.get_full_name()} التذكرة عبر الموقع الإلكتروني.",
        f"تولّى {technician.get_full_name()} التذكرة.",
    ]


def test_console_labels_come_from_the_choices_in_the_chosen_language(technician):
    response = console_client(technician, "ar").get("/console/")
    labels = response.context["console_config"]["labels"]
    assert labels["status"]["waiting"] == "بانتظار مقدّم الطلب"
    assert labels["priority"]["1"] == "P1 حرجة"
    assert labels["channel"]["phone"] == "الهاتف"
    assert labels["kind"]["priority_changed"] == "تغيير الأولوية"
    filter_select = response.content.decode().split('id="filter-priority"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d)">([^<]+)</option>', filter_select)[0] == ("1", "P1 حرجة")

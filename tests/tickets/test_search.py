"""Technicians find any ticket they may see from one box: by number, words (English and Arabic), requester or phone,
closed tickets included."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import staff_of
from tests.tickets.test_console_http import logged_in
from tickets.models import Channel, Level, Status
from tickets.search import ticket_search
from tickets.services import ticket_open, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(service, agency, other_agency, staff, technician):
    """Tickets of two agencies: Arabic and English words, a hotline caller's number, a closed one."""
    outsider = staff_of(other_agency, username="other-requester", first_name="Hessa", last_name="Al-Thani")

    def make(**kwargs):
        values = {"service": service, "impact": Level.MEDIUM, "urgency": Level.MEDIUM, "requester": staff, **kwargs}
        return ticket_open(**values)

    network = make(subject="انقطاع الشبكة في المبنى الرئيسي", description="لا يوجد اتصال بالإنترنت منذ الصباح")
    printers = make(subject="Printers offline", description="The printers on floor 2 stopped responding.")
    called = make(
        subject="Caller reports slow e-mail",
        requester=None,
        agency=agency,
        channel=Channel.PHONE,
        caller_phone="+97455123456",
        contact_phone="+97455123456",
    )
    other = make(subject="Printers jammed at commerce", requester=outsider)
    closed = make(subject="VPN certificate expired")
    ticket_set_status(ticket=closed, actor=technician, status=Status.CANCELLED, note="Renewed")
    return {"network": network, "printers": printers, "called": called, "other": other, "closed": closed}


def numbers(found):
    return [ticket.number for ticket in found]


def test_arabic_words_are_found_in_any_of_their_forms(technician, tickets):
    assert numbers(ticket_search(user=technician, query="الشبكة")) == [tickets["network"].number]
    # Without the article, and a word of the description: the Arabic stemmer matches them.
    assert numbers(ticket_search(user=technician, query="شبكة")) == [tickets["network"].number]
    assert numbers(ticket_search(user=technician, query="الإنترنت")) == [tickets["network"].number]


def test_english_words_match_their_stems_in_subject_and_description(technician, tickets):
    found = numbers(ticket_search(user=technician, query="printer responding"))
    assert found == [tickets["printers"].number]
    assert set(numbers(ticket_search(user=technician, query="printers"))) == {
        tickets["printers"].number,
        tickets["other"].number,
    }


@pytest.mark.parametrize("written", ["HD-{n}", "hd-{n}", "HD {n}", "{n}", "#{n}", " {n} "])
def test_a_ticket_number_is_found_however_it_is_written(technician, tickets, written):
    number = tickets["printers"].number
    assert numbers(ticket_search(user=technician, query=written.format(n=number))) == [number]


def test_a_ticket_number_in_arabic_digits_is_found(technician, tickets):
    number = tickets["printers"].number
    arabic = str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert numbers(ticket_search(user=technician, query=arabic)) == [number]


@pytest.mark.parametrize(
    "written", ["+974 5512 3456", "00974-5512-3456", "55123456", "5512 3456", "(+974) 55 12 34 56"]
)
def test_a_caller_phone_is_found_in_any_format(technician, tickets, written):
    assert numbers(ticket_search(user=technician, query=written)) == [tickets["called"].number]


def test_a_requester_is_found_by_name_and_by_the_phone_on_file(technician, staff, tickets):
    membership = staff.agency_membership
    membership.phone = "+97444770011"
    membership.save()
    found = set(numbers(ticket_search(user=technician, query="4477 0011")))
    assert tickets["network"].number in found and tickets["called"].number not in found
    assert numbers(ticket_search(user=technician, query="Hessa")) == [tickets["other"].number]


def test_closed_and_cancelled_tickets_are_found(technician, tickets):
    assert numbers(ticket_search(user=technician, query="VPN certificate")) == [tickets["closed"].number]


def test_only_tickets_the_user_may_see_are_found(staff, other_staff, tickets, technician):
    everything = set(numbers(ticket_search(user=technician, query="printers")))
    assert tickets["other"].number in everything
    assert numbers(ticket_search(user=staff, query="printers")) == [tickets["printers"].number]
    assert numbers(ticket_search(user=other_staff, query=str(tickets["printers"].number))) == []


def test_nothing_is_found_for_an_empty_query_or_words_that_match_nothing(technician, tickets):
    assert ticket_search(user=technician, query="   ") == []
    assert ticket_search(user=technician, query="kubernetes") == []
    # Search syntax a technician may type by accident is not an error.
    assert ticket_search(user=technician, query='"unbalanced -( & |') == []


def test_plain_text_fallback_without_postgresql(technician, tickets, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert numbers(ticket_search(user=technician, query="floor 2")) == [tickets["printers"].number]
    assert numbers(ticket_search(user=technician, query="الشبكة")) == [tickets["network"].number]


def test_console_search_endpoint_answers_rows_for_technicians_only(technician, staff, tickets):
    response = logged_in(technician).get("/console/search/", {"q": f"HD-{tickets['closed'].number}"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["number"] == tickets["closed"].number
    assert row["status"] == "cancelled"
    assert row["is_open"] is False
    assert logged_in(staff).get("/console/search/", {"q": "printers"}).status_code == 403

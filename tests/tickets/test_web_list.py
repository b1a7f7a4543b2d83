"""The ticket list at /tickets/: newest first, paginated, narrowed by each filter."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tests.factories import ServiceFactory, UserFactory
from tickets.models import Level, Status, Ticket
from tickets.services import ticket_set_status

QATAR = ZoneInfo("Asia/Qatar")
ROW_LINK = re.compile(r'<a class="ticket-ref" dir="ltr" href="/tickets/(\d+)/">')


def listed(client, query: str = "") -> list[int]:
    response = client.get(f"/tickets/{query}")
    assert response.status_code == 200
    return [int(number) for number in ROW_LINK.findall(response.content.decode())]


@pytest.fixture
def tickets(make_ticket, team, staff, technician):
    """Four tickets of the staff's agency, opened a day apart, with different services, priorities and states."""
    cloud = ServiceFactory(code="gov-cloud", name_en="Government Cloud", name_ar="السحابة الحكومية", team=team)
    day = dt.datetime(2026, 11, 22, 9, 0, tzinfo=QATAR)
    made = {
        "vpn": make_ticket(subject="VPN tunnel drops", impact=Level.HIGH, urgency=Level.HIGH, now=day),
        "mail": make_ticket(subject="Mail delayed", description="Messages to MOCI bounce", now=day + dt.timedelta(1)),
        "cloud": make_ticket(service=cloud, subject="VM will not start", impact=Level.LOW, urgency=Level.LOW,
                             now=day + dt.timedelta(2)),
        "printer": make_ticket(subject="Printer queue", now=day + dt.timedelta(days=3, hours=14, minutes=30)),
    }
    ticket_set_status(ticket=made["mail"], actor=staff, status=Status.CANCELLED)
    return {name: Ticket.objects.get(pk=ticket.pk) for name, ticket in made.items()}


@pytest.mark.django_db
def test_list_is_newest_first(client, staff, tickets):
    client.force_login(staff)
    names = ["printer", "cloud", "mail", "vpn"]
    assert listed(client) == [tickets[name].number for name in names]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=cancelled", ["mail"]),
        ("?status=new", ["printer", "cloud", "vpn"]),
        ("?priority=1", ["vpn"]),
        ("?priority=4", ["cloud"]),
        ("?q=vpn", ["vpn"]),
        ("?q=moci", ["mail"]),
        ("?q=nothing+like+this", []),
        ("?opened_from=2026-11-23&opened_to=2026-11-24", ["cloud", "mail"]),
        ("?opened_from=2026-11-25", ["printer"]),
        ("?opened_to=2026-11-22", ["vpn"]),
        ("?status=new&priority=3", ["printer"]),
        ("?status=bogus", []),
        ("?opened_from=yesterday", []),
    ],
)
def test_each_filter_narrows_the_list(client, staff, tickets, query, expected):
    client.force_login(staff)
    assert listed(client, query) == [tickets[name].number for name in expected]


@pytest.mark.django_db
def test_service_filter(client, staff, tickets):
    client.force_login(staff)
    cloud = tickets["cloud"].service
    assert listed(client, f"?service={cloud.pk}") == [tickets["cloud"].number]
    assert listed(client, "?service=987654") == []


@pytest.mark.django_db
def test_q_finds_a_ticket_by_its_number_with_or_without_the_prefix(client, staff, tickets):
    client.force_login(staff)
    number = tickets["mail"].number
    for query in (f"?q={number}", f"?q=HD-{number}", f"?q=hd{number}", f"?q=+HD-{number}+"):
        assert listed(client, query) == [number]


@pytest.mark.django_db
def test_date_range_follows_qatar_days(client, staff, tickets):
    # The printer ticket was opened at 23:30 Qatar time on the 25th, which is still the 25th in Qatar (20:30 UTC).
    client.force_login(staff)
    assert listed(client, "?opened_from=2026-11-25&opened_to=2026-11-25") == [tickets["printer"].number]


@pytest.mark.django_db
def test_invalid_filter_shows_why(client, staff, tickets):
    client.force_login(staff)
    page = client.get("/tickets/?status=bogus").content.decode()
    assert "Some filters are not valid" in page
    assert "Select a valid choice." in page


@pytest.mark.django_db
def test_list_is_paginated_by_25_and_keeps_the_filters(client, staff, make_ticket):
    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=QATAR)
    numbers = [make_ticket(subject=f"Outage {n}", now=start + dt.timedelta(hours=n)).number for n in range(27)]
    make_ticket(subject="Unrelated", now=start + dt.timedelta(days=3))
    client.force_login(staff)

    first = client.get("/tickets/?q=outage")
    assert [int(n) for n in ROW_LINK.findall(first.content.decode())] == numbers[::-1][:25]
    assert "Page 1 of 2" in first.content.decode()
    assert 'href="?q=outage&amp;page=2"' in first.content.decode()
    assert listed(client, "?q=outage&page=2") == numbers[1::-1]
    assert listed(client, "?q=outage&page=99") == numbers[1::-1]


@pytest.mark.django_db
def test_staff_see_only_their_agency_and_technicians_see_all(client, tickets, other_staff, technician):
    client.force_login(other_staff)
    assert listed(client) == []
    assert listed(client, f"?q={tickets['vpn'].number}") == []
    client.force_login(technician)
    assert len(listed(client)) == 4


@pytest.mark.django_db
def test_user_without_agency_or_team_gets_a_clear_403(client, tickets):
    client.force_login(UserFactory(username="visitor"))
    response = client.get("/tickets/")
    assert response.status_code == 403
    assert "not linked to an agency" in response.content.decode()

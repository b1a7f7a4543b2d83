"""What the pages agency staff meet first ask the database: each question once (the request's user comes with their
role and agency in one query), the list without counting every ticket of the agency. The limits are what the pages ask
today, below the issue's targets (form 4, list 6, ticket page 8); sessions come from the cache, as with Redis."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import SESSION_KEY

from tests.tickets.test_web_intake import NEW_URL, form_data
from tickets.auth import RoleModelBackend
from tickets.models import ArabicName, Ticket
from tickets.selectors import roles_per_request, user_is_technician
from tickets.services import ticket_claim, ticket_comment, ticket_numbers_take


@pytest.fixture(autouse=True)
def _sessions_in_the_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "security.session_store"


@pytest.fixture
def logged_in(client, staff):
    client.force_login(staff)
    client.get("/tickets/")  # the session is in the cache from now on
    return client


@pytest.mark.django_db
def test_the_form_asks_two_questions(logged_in, service, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = logged_in.get(NEW_URL)
    assert response.status_code == 200
    assert service.name_en in response.content.decode()


@pytest.mark.django_db
def test_the_list_asks_four_questions(logged_in, make_ticket, django_assert_max_num_queries):
    for n in range(30):
        make_ticket(subject=f"Outage {n}")
    with django_assert_max_num_queries(4):
        response = logged_in.get("/tickets/")
    page = response.content.decode()
    assert "Outage 29" in page
    assert "30 tickets" in page
    assert "Page 1 of 2" in page


@pytest.mark.django_db
def test_the_ticket_page_asks_seven_questions(
    logged_in, staff, make_ticket, technician, django_assert_max_num_queries
):
    ticket = make_ticket(subject="VPN tunnel drops")
    ticket_comment(ticket=ticket, author=technician, body="Looking at the tunnel now.")
    ticket_comment(ticket=ticket, author=staff, body="Thank you.")
    with django_assert_max_num_queries(7):
        response = logged_in.get(f"/tickets/{ticket.number}/")
    page = response.content.decode()
    assert "Looking at the tunnel now." in page
    assert "Thank you." in page


@pytest.mark.django_db
def test_naming_the_requester_and_the_assignee_in_arabic_costs_the_ticket_page_no_question(
    logged_in, staff, make_ticket, technician, django_assert_max_num_queries
):
    ArabicName.objects.create(user=staff, name="عائشة المهندي")
    ArabicName.objects.create(user=technician, name="خالد النعيمي")
    ticket = make_ticket(subject="VPN tunnel drops")
    ticket_claim(ticket=ticket, technician=technician)
    ticket_comment(ticket=ticket, author=technician, body="Looking at the tunnel now.")
    logged_in.cookies["django_language"] = "ar"
    with django_assert_max_num_queries(8):
        response = logged_in.get(f"/tickets/{ticket.number}/")
    page = response.content.decode()
    assert "عائشة المهندي" in page and "خالد النعيمي" in page
    assert "Looking at the tunnel now." in page


@pytest.mark.django_db
def test_opening_a_ticket_saves_only_what_changed(logged_in, service, django_assert_max_num_queries):
    # The first ticket of a process, or the first after a settings change, also reads the settings revision twice
    # before it reads the team's chain and the SLA policy; the next ones read only the revision (below).
    with django_assert_max_num_queries(20) as captured:
        response = logged_in.post(NEW_URL, form_data(service))
    assert response.status_code == 302
    updates = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("UPDATE")]
    ticket_updates = [sql for sql in updates if '"tickets_ticket"' in sql.split("SET")[0]]
    assert len(ticket_updates) == 1
    assert ticket_updates[0].split("SET")[1].split("WHERE")[0].count("=") == 2  # last_event_id, updated_at


@pytest.mark.django_db
def test_the_next_ticket_opened_does_not_read_the_chain_or_the_policy_again(
    logged_in, service, django_assert_max_num_queries
):
    assert logged_in.post(NEW_URL, form_data(service)).status_code == 302
    with django_assert_max_num_queries(16) as captured:
        assert logged_in.post(NEW_URL, form_data(service)).status_code == 302
    settings_tables = ("escalation_escalationchain", "escalation_escalationstep", "escalation_slapolicy")
    assert [query["sql"] for query in captured if any(table in query["sql"] for table in settings_tables)] == []


@pytest.mark.django_db
def test_a_long_list_is_paged_without_counting_every_ticket(logged_in, staff, service, make_ticket):
    agency = staff.agency_membership.agency
    now = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    Ticket.objects.bulk_create(
        Ticket(
            number=number,
            agency=agency,
            service=service,
            team=service.team,
            subject=f"Printer {n}",
            priority=3,
            opened_at=now + dt.timedelta(minutes=n),
        )
        for n, number in enumerate(ticket_numbers_take(count=1001))
    )
    first = logged_in.get("/tickets/").content.decode()
    assert "More than 1000 tickets" in first
    assert "Page 1<" in first
    assert 'rel="next"' in first
    last = logged_in.get("/tickets/?page=41").content.decode()
    assert "Printer 0<" in last
    assert "1001 tickets" in last
    assert "Page 41 of 41" in last
    assert 'rel="next"' not in last


@pytest.mark.django_db
def test_a_user_read_with_their_role_is_asked_again_outside_a_request(staff, team, django_assert_num_queries):
    user = RoleModelBackend().get_user(staff.pk)
    with roles_per_request(), django_assert_num_queries(0):
        assert user_is_technician(user) is False
    team.members.add(staff)
    # A worker or a test keeps its user objects: outside a request the role is read afresh, not from the user's row.
    assert user_is_technician(user) is True


@pytest.mark.django_db
def test_a_session_naming_a_user_who_is_not_there_is_served_as_a_visitor(client, staff):
    """A login session outlives a restored database, say: its user id finds no row, and the page asks for a login
    instead of failing."""
    client.force_login(staff)
    session = client.session
    session[SESSION_KEY] = "987654"
    session.save()
    assert RoleModelBackend().get_user(987654) is None
    response = client.get("/tickets/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")

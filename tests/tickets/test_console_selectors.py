"""The console's reads and its presence table, without a socket."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import AgencyFactory, ServiceFactory, TeamFactory, staff_of, technician_of
from tickets.console import consumers, presence
from tickets.console.queue import console_snapshot, queue_rows
from tickets.console.selectors import console_access_lost, console_me, console_missed, console_resync
from tickets.models import ConsolePresence, Ticket, TicketEvent
from tickets.selectors import ticket_row
from tickets.services import ticket_assign, ticket_claim, ticket_comment, ticket_open

pytestmark = pytest.mark.django_db


def snapshot_of(user) -> dict:
    return json.loads(console_snapshot(me=console_me(user=user)).texts[0])


def contract_rows() -> dict[int, dict]:
    tickets = Ticket.objects.select_related("agency", "service", "team", "assignee")
    return {ticket.number: ticket_row(ticket) for ticket in tickets}


def test_queue_rows_are_exactly_the_contract_rows(technician, other_technician, make_ticket):
    claimed = make_ticket(subject="Claimed")
    ticket_claim(ticket=claimed, technician=other_technician)
    make_ticket(subject='Printer "HP\\\\2" في الطابق\n الثاني </script>')
    rows = {row["number"]: row for row in queue_rows(me=console_me(user=technician))}
    assert rows == contract_rows()
    assert {row["number"]: row for row in snapshot_of(technician)["tickets"]} == contract_rows()


def test_snapshot_costs_the_same_few_queries_however_many_tickets(technician, service, django_assert_max_num_queries):
    me = console_me(user=technician)
    for n in range(12):
        agency = AgencyFactory(code=f"agency-q{n}")
        requester = staff_of(agency, username=f"requester-q{n}")
        ticket = ticket_open(service=service, requester=requester, subject=f"Outage {n}", impact=2, urgency=2)
        ticket_assign(ticket=ticket, actor=technician, assignee=technician_of(service.team, username=f"tech-q{n}"))
    with django_assert_max_num_queries(8):
        snapshot = json.loads(console_snapshot(me=me).texts[0])
    assert len(snapshot["tickets"]) == 12
    assert len({row["assignee"]["id"] for row in snapshot["tickets"]}) == 12


def test_snapshot_queue_rule_excludes_other_teams_tickets_held_by_others(technician, make_ticket):
    elsewhere = TeamFactory(code="messaging")
    colleague = technician_of(elsewhere, username="mail-tech")
    ticket = make_ticket(service=ServiceFactory(code="gov-mail", team=elsewhere))
    assert ticket.number in {row["number"] for row in snapshot_of(technician)["tickets"]}
    ticket_claim(ticket=ticket, technician=colleague)
    assert ticket.number not in {row["number"] for row in snapshot_of(technician)["tickets"]}


def test_snapshot_rows_follow_every_change_and_rename(technician, other_technician, make_ticket, agency, team):
    ticket = make_ticket(subject="Cached row")
    assert snapshot_of(technician)["tickets"][0]["assignee"] is None
    ticket_claim(ticket=ticket, technician=other_technician)
    assert snapshot_of(technician)["tickets"] == list(contract_rows().values())
    agency.name_en = "Ministry of Public Health (renamed)"
    agency.save()
    team.name_ar = "فريق الشبكة"
    team.save()
    other_technician.first_name = "Renamed"
    other_technician.save()
    row = snapshot_of(technician)["tickets"][0]
    assert row["agency"]["name_en"] == "Ministry of Public Health (renamed)"
    assert row["team"]["name_ar"] == "فريق الشبكة"
    assert row["assignee"]["name"].startswith("Renamed ")
    assert [row] == list(contract_rows().values())


def test_snapshot_of_a_large_queue_comes_in_parts_in_queue_order(technician, other_technician, make_ticket, agency,
                                                                  service):
    # More rows than a snapshot message holds, and than are rendered by number: written in one insert, without
    # events (a row's version is all the snapshot reads of them).
    opened = timezone.now() - dt.timedelta(hours=1)
    Ticket.objects.bulk_create(
        Ticket(number=200000 + n, agency=agency, service=service, team=service.team, subject=f"Ticket {n}",
               priority=1 + n % 4, opened_at=opened + dt.timedelta(seconds=n % 7), last_event_id=10**9 + n)
        for n in range(1200)
    )
    ticket = make_ticket(subject="Opened through the service")
    me = console_me(user=technician)

    def parts() -> list[dict]:
        return [json.loads(text) for text in console_snapshot(me=me).texts]

    first = parts()
    assert [(part["type"], len(part["tickets"]), part["more"]) for part in first] == [
        ("snapshot", 500, True), ("snapshot.more", 500, True), ("snapshot.more", 201, False)
    ]
    assert {part["cursor"] for part in first} == {ticket.last_event_id}
    rows = [row for part in first for row in part["tickets"]]
    assert [(row["priority"], row["opened_at"]) for row in rows] == sorted(
        (row["priority"], row["opened_at"]) for row in rows
    )
    assert rows == queue_rows(me=me)

    # The next snapshot reuses the encoded rows and renders again only the one that changed.
    ticket_claim(ticket=ticket, technician=other_technician)
    again = [row for part in parts() for row in part["tickets"]]
    assert again == queue_rows(me=me)
    changed = [row for row in again if row["number"] == ticket.number]
    assert changed[0]["assignee"]["id"] == other_technician.pk
    assert [row for row in again if row["number"] != ticket.number] == [
        row for row in rows if row["number"] != ticket.number
    ]


def test_non_technicians_have_no_console(staff):
    assert console_me(user=staff) is None


def test_resync_and_missed_events_replay_the_event_log(technician, make_ticket):
    me = console_me(user=technician)
    start = console_snapshot(me=me).cursor
    first = make_ticket(subject="One")
    ticket_comment(ticket=first, author=technician, body="Internal detail", internal=True)
    make_ticket(subject="Two")
    ids = list(TicketEvent.objects.filter(pk__gt=start).order_by("pk").values_list("pk", flat=True))
    resync = json.loads(console_resync(me=me, since=start)[0])
    assert [message["cursor"] for message in resync["events"]] == ids
    assert resync["events"][1]["event"]["public"] is False

    windows = [
        (start, ids[-1], frozenset({ids[0], ids[2]}), me),
        (start, ids[-1], frozenset(ids), me),
        (ids[0], ids[1], frozenset(), me),
        (ids[-1], ids[-1], frozenset(), me),
    ]
    missed = [[json.loads(text) for text in texts] for texts in console_missed(windows=windows)]
    assert [[message["cursor"] for message in texts] for texts in missed] == [[ids[1]], [], [ids[1]], []]
    assert missed[0][0]["type"] == "event"
    assert missed[0][0] == missed[2][0]


def test_presence_ignores_rows_of_dead_processes_and_sweeps_them(technician, other_technician, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 5
    now = timezone.now()
    presence.presence_join(channel_name="alive", user=technician, now=now)
    ConsolePresence.objects.create(
        channel_name="dead", user=other_technician, ticket_number=100001, last_seen=now - dt.timedelta(seconds=16)
    )
    state = presence.presence_state(now=now)
    assert [user["id"] for user in state["online"]] == [technician.pk]
    assert state["tickets"] == {}
    assert presence.presence_sweep(now=now) == 1
    assert list(ConsolePresence.objects.values_list("channel_name", flat=True)) == ["alive"]


def test_presence_groups_sockets_by_user(technician, other_technician):
    presence.presence_join(channel_name="tab-1", user=technician)
    presence.presence_join(channel_name="tab-2", user=technician)
    presence.presence_join(channel_name="other", user=other_technician)
    presence.presence_set(channel_name="tab-1", user=technician, ticket_number=100005, typing=False)
    presence.presence_set(channel_name="tab-2", user=technician, ticket_number=100005, typing=True)
    presence.presence_set(channel_name="other", user=other_technician, ticket_number=100005, typing=False)
    state = presence.presence_state()
    assert sorted(user["id"] for user in state["online"]) == sorted([technician.pk, other_technician.pk])
    viewers = {viewer["id"]: viewer["typing"] for viewer in state["tickets"]["100005"]}
    assert viewers == {technician.pk: True, other_technician.pk: False}
    presence.presence_leave(channel_name="tab-2")
    viewers = {viewer["id"]: viewer["typing"] for viewer in presence.presence_state()["tickets"]["100005"]}
    assert viewers == {technician.pk: False, other_technician.pk: False}


def test_a_heartbeat_checks_the_sessions_and_the_rights_of_all_sockets_in_one_query(
    client, settings, technician, other_technician, team, django_assert_num_queries
):
    """Every console asks at each heartbeat; with the sessions in the cache, that is one query for all of them."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    client.force_login(technician)
    session_key = client.session.session_key
    other = Client()
    other.force_login(other_technician)
    other_key = other.session.session_key
    sockets = [(technician.pk, session_key), (other_technician.pk, other_key), (technician.pk, "no-such-session")]
    with django_assert_num_queries(1):
        assert console_access_lost(sockets=sockets) == [None, None, "session"]
    team.members.remove(technician)
    assert console_access_lost(sockets=sockets[:2]) == ["rights", None]
    technician.set_password("a-new-password-2026")
    technician.save()
    assert console_access_lost(sockets=sockets[:2]) == ["session", None]


def test_one_heartbeat_of_many_sockets_asks_what_one_socket_asks(client, settings, technician, make_ticket):
    """A process's consoles beat together: thirty sockets cost the queries of one, each still gets what it missed,
    and a socket whose session ended is told to close and its presence is not refreshed."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 3600
    client.force_login(technician)
    session_key = client.session.session_key
    me = console_me(user=technician)
    start = console_snapshot(me=me).cursor
    make_ticket(subject="One")
    make_ticket(subject="Two")
    ids = list(TicketEvent.objects.filter(pk__gt=start).order_by("pk").values_list("pk", flat=True))
    earlier = timezone.now() - dt.timedelta(seconds=1)

    def beat(n: int, key: str = session_key) -> consumers._Beat:
        presence.presence_join(channel_name=f"socket-{n}", user=technician, now=earlier)
        delivered = frozenset(ids[:1] if n % 2 else ids)
        return consumers._Beat(f"socket-{n}", technician, key, me, start, ids[-1], delivered)

    beats = [beat(n) for n in range(30)] + [beat(30, key="no-such-session")]
    consumers._heartbeats(beats[:1])  # this process's sweep of dead processes' rows, once a period
    with CaptureQueriesContext(connection) as one:
        consumers._heartbeats(beats[1:2])
    with CaptureQueriesContext(connection) as all_of_them:
        shared, outcomes = consumers._heartbeats(beats)
    assert len(all_of_them) == len(one) <= 5
    assert shared.cursor == json.loads(shared.text)["cursor"] == ids[-1]
    assert [[json.loads(text)["cursor"] for text in outcome] for outcome in outcomes[:4]] == [[], ids[1:], [], ids[1:]]
    assert outcomes[30] == "session"
    seen = dict(ConsolePresence.objects.values_list("channel_name", "last_seen"))
    assert min(seen[f"socket-{n}"] for n in range(30)) > earlier == seen["socket-30"]

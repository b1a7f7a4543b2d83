"""The worker command as processes: it wakes at once on a ticket change, stops cleanly on SIGTERM, two of them fire
5,000 due rows exactly once between them, and one killed with SIGKILL in the middle of a batch loses nothing."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from escalation import rules
from escalation.models import DueState, EscalationDue, TicketEscalation, WorkerHeartbeat
from hotline.backends import LocmemBackend
from tests.conftest import shared_database_url
from tests.escalation.conftest import on_call
from tests.factories import UserFactory
from tickets.models import Level, Priority, Ticket, TicketEvent

# Generous: the machine the suite runs on may be busy.
PROCESS_SECONDS = 600


def wait_for(condition: Callable[[], bool], *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds} s")
        time.sleep(0.02)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start `manage.py escalation_worker` processes on the test database; each is stopped at the end."""
    if connection.vendor != "postgresql":
        pytest.skip("worker processes need PostgreSQL (DATABASE_URL) to share the test database")
    processes: list[tuple[subprocess.Popen, Path]] = []

    def start(*arguments: str, name: str, **env: str) -> subprocess.Popen:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "escalation_worker", "--name", name, *arguments],
                cwd=settings.BASE_DIR,
                env={**os.environ, "DATABASE_URL": shared_database_url(), "HELPDESK_PHONE_BACKEND": "locmem", **env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        processes.append((process, log))
        return process

    yield start
    for process, _log in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def log_of(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text(errors="replace")


def due_tickets(service, requester, *, count: int, paged) -> list[int]:
    """`count` open P1 tickets whose only step is due now, written in bulk (opening 5,000 tickets one by one through
    the service would take most of the test). Their chain pages one named person on the console."""
    now = timezone.now()
    opened = now - dt.timedelta(minutes=1)
    chain = rules.Chain(
        steps=(rules.Step("user", dt.timedelta(minutes=5), ("console",), user=rules.Person(paged.pk, "Paged Person")),)
    ).as_json()
    tickets = Ticket.objects.bulk_create(
        Ticket(
            number=900000 + index,
            agency_id=requester.agency_membership.agency_id,
            service=service,
            team_id=service.team_id,
            requester=requester,
            subject=f"Outage {index}",
            impact=Level.HIGH,
            urgency=Level.HIGH,
            priority=Priority.P1,
            opened_at=opened,
        )
        for index in range(count)
    )
    TicketEscalation.objects.bulk_create(
        TicketEscalation(ticket=ticket, chain=chain, chain_run=1, created_at=opened) for ticket in tickets
    )
    EscalationDue.objects.bulk_create(
        EscalationDue(
            ticket=ticket, trigger="step", generation=1, due_at=now - dt.timedelta(milliseconds=index)
        )
        for index, ticket in enumerate(tickets)
    )
    return [ticket.pk for ticket in tickets]


def assert_each_fired_exactly_once(ticket_ids: list[int]) -> None:
    events = TicketEvent.objects.filter(kind="paged", ticket_id__in=ticket_ids)
    assert events.count() == len(ticket_ids)
    assert not events.values("ticket_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    done = EscalationDue.objects.filter(ticket_id__in=ticket_ids, state=DueState.DONE)
    assert done.count() == len(ticket_ids)
    assert set(done.values_list("event_id", flat=True)) == set(events.values_list("id", flat=True))


@pytest.mark.django_db
def test_once_fires_what_is_due_delivers_its_pages_and_beats(make_ticket, team, alice):
    on_call(team, alice)
    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH)
    call_command("escalation_worker", "--once", "--name", "test-worker")
    assert ticket.events.filter(kind="paged").count() == 1
    assert [(message.channel, message.to, message.reference) for message in LocmemBackend.sent] == [
        ("sms", "+97455000001", ticket.reference)
    ]
    assert ticket.events.filter(kind="page_attempt").count() == 1
    assert WorkerHeartbeat.objects.filter(name="test-worker").exists()
    call_command("escalation_worker", "--once", "--name", "test-worker")
    assert ticket.events.filter(kind__in=["paged", "page_attempt"]).count() == 2


def test_a_sleeping_worker_wakes_at_once_when_a_p1_opens_and_stops_cleanly_on_sigterm(
    start_worker, make_ticket, team, alice, tmp_path
):
    on_call(team, alice)
    # With nothing due it would sleep a minute: only the NOTIFY of the new ticket can wake it within a third of that.
    idle_seconds = 60
    worker = start_worker(name="listener", HELPDESK_WORKER_IDLE_SECONDS=str(idle_seconds))
    wait_for(lambda: WorkerHeartbeat.objects.filter(name="listener").exists(), seconds=30, what="the first beat")
    time.sleep(0.5)  # let it reach its sleep: the test is that a NOTIFY ends it

    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH)
    wait_for(lambda: ticket.events.filter(kind="paged").exists(), seconds=idle_seconds / 3, what="the page")

    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    assert "stopped after taking 1 due rows" in log_of(tmp_path, "listener")


@pytest.mark.timeout(3 * PROCESS_SECONDS)
def test_two_worker_processes_fire_5000_due_rows_exactly_once(start_worker, service, staff, tmp_path):
    paged = UserFactory(username="paged")
    ticket_ids = due_tickets(service, staff, count=5000, paged=paged)
    workers = [start_worker("--once", "--batch", "50", name=f"worker-{n}") for n in (1, 2)]
    for worker in workers:
        assert worker.wait(PROCESS_SECONDS) == 0

    assert_each_fired_exactly_once(ticket_ids)
    taken = [
        int(re.findall(r"stopped after taking (\d+) due rows", log_of(tmp_path, f"worker-{n}"))[0]) for n in (1, 2)
    ]
    assert sum(taken) == 5000
    assert min(taken) > 0, f"one worker did all the work: {taken}"


@pytest.mark.timeout(3 * PROCESS_SECONDS)
def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing_and_a_restarted_one_completes_it(
    start_worker, service, staff
):
    paged = UserFactory(username="paged")
    ticket_ids = due_tickets(service, staff, count=2000, paged=paged)
    fired = TicketEvent.objects.filter(kind="paged", ticket_id__in=ticket_ids)
    pending = EscalationDue.objects.filter(state=DueState.PENDING)

    def batch_in_hand() -> bool:
        """The first batch is committed and the worker holds the rows of the next one: the first pending row, in the
        worker's order, is locked (SKIP LOCKED passes over it). The probe locks at most that one row, for a moment:
        locking every pending row, as it once did, could make the worker's next pass find none and stop."""
        if fired.count() < 500:
            return False
        in_order = pending.order_by("due_at", "pk").values_list("pk", flat=True)
        first = in_order.first()
        return first is not None and in_order.select_for_update(skip_locked=True).first() != first

    worker = start_worker("--once", "--batch", "500", name="doomed")
    wait_for(lambda: _in_transaction(batch_in_hand), seconds=PROCESS_SECONDS, what="a batch in hand")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)

    committed = fired.count()
    assert committed % 500 == 0 and committed < 2000  # the killed batch left nothing behind, not even a part
    assert pending.count() == 2000 - committed

    assert start_worker("--once", "--batch", "500", name="restarted").wait(PROCESS_SECONDS) == 0
    assert_each_fired_exactly_once(ticket_ids)


def _in_transaction(check: Callable[[], bool]) -> bool:
    with transaction.atomic():
        return check()

"""Escalation benchmark: many open tickets, a burst of them due within the same minute, several worker processes.

    DATABASE_URL=postgres://... python bench/escalation.py [--tickets 100000] [--due 10000] [--window 60]
                                                            [--workers 2] [--batch 50] [--lead 20]

It writes, in bulk, `--tickets` open P1 tickets of its own team ("bench-escalation"; the tickets of an earlier run are
deleted first), each with its escalation row and one due row: `--due` of them due at random instants spread over
`--window` seconds starting `--lead` seconds after the rows are written, the others due tomorrow. Their chain pages
the team's on-call primary on the console. Then it starts `--workers` processes of `manage.py escalation_worker`
(they sleep until the first due instant), watches the event table every 20 ms, and stops the workers with SIGTERM
once every due row has fired or the window has passed by a minute.

It prints the lag from each due instant to its `paged` event, both as the event records it (`created_at`, the worker's
clock when it fired) and as seen committed by this process, at p50/p99/max; escalations per second; the CPU time of
the workers and of the PostgreSQL backends serving them during the burst, per escalation (from /proc/<pid>/stat);
and the duplicates (a ticket paged twice), the misses (a due row still pending), the early pages (fired before
their due instant) and the tickets paged that were not due. Needs PostgreSQL; not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from escalation import rules  # noqa: E402
from escalation.models import EscalationDue, OnCallOverride, Page, TicketEscalation  # noqa: E402
from tickets.models import Agency, Level, Priority, Service, Team, Ticket, TicketEvent  # noqa: E402

CODE = "bench-escalation"
FIRST_NUMBER = 70_000_000
CHUNK = 5000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def database_backends() -> list[int]:
    """The PostgreSQL backends serving this database's other clients (the workers' connections)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def clear_previous_run(team: Team) -> None:
    """Delete an earlier run's tickets and all that hangs on them, in SQL (the ORM would load them all)."""
    tickets = f"SELECT id FROM {Ticket._meta.db_table} WHERE team_id = %s"
    with connection.cursor() as cursor:
        for model in (Page, EscalationDue, TicketEscalation, TicketEvent):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE ticket_id IN ({tickets})", [team.pk])
        cursor.execute(f"DELETE FROM {Ticket._meta.db_table} WHERE team_id = %s", [team.pk])


def setup(*, count: int) -> tuple[Team, list[int]]:
    """The bench team, its on-call technician, and `count` open P1 tickets with their escalation rows."""
    team, _ = Team.objects.get_or_create(code=CODE, defaults={"name_en": "Bench", "name_ar": "القياس"})
    service, _ = Service.objects.get_or_create(
        code=CODE, defaults={"name_en": "Bench", "name_ar": "القياس", "team": team}
    )
    agency, _ = Agency.objects.get_or_create(code=CODE, defaults={"name_en": "Bench", "name_ar": "القياس"})
    technician, _ = get_user_model().objects.get_or_create(
        username=CODE, defaults={"first_name": "Bench", "last_name": "Technician"}
    )
    team.members.add(technician)
    now = timezone.now()
    OnCallOverride.objects.filter(team=team).delete()
    OnCallOverride.objects.create(
        team=team, user=technician, starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=2)
    )
    clear_previous_run(team)
    chain = rules.Chain(
        steps=(
            rules.Step("oncall_primary", dt.timedelta(minutes=10), ("console",)),
            rules.Step("oncall_secondary", dt.timedelta(minutes=10), ("console",)),
        )
    ).as_json()
    ids: list[int] = []
    for start in range(0, count, CHUNK):
        with transaction.atomic():
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    number=FIRST_NUMBER + index,
                    agency=agency,
                    service=service,
                    team=team,
                    subject=f"Bench outage {index}",
                    impact=Level.HIGH,
                    urgency=Level.HIGH,
                    priority=Priority.P1,
                    opened_at=now,
                )
                for index in range(start, min(start + CHUNK, count))
            )
            TicketEscalation.objects.bulk_create(
                TicketEscalation(ticket=ticket, chain=chain, chain_run=1, created_at=now) for ticket in tickets
            )
        ids.extend(ticket.pk for ticket in tickets)
    return team, ids


def schedule(ids: list[int], *, due: int, window: float, lead: float) -> dict[int, dt.datetime]:
    """One due row per ticket: `due` random tickets within the window, the others tomorrow."""
    start = timezone.now() + dt.timedelta(seconds=lead)
    chosen = set(random.sample(ids, due))
    due_at = {
        ticket_id: start + dt.timedelta(seconds=random.uniform(0, window))
        if ticket_id in chosen
        else start + dt.timedelta(days=1, seconds=index)
        for index, ticket_id in enumerate(ids)
    }
    for offset in range(0, len(ids), CHUNK):
        EscalationDue.objects.bulk_create(
            EscalationDue(ticket_id=ticket_id, trigger="step", generation=1, due_at=due_at[ticket_id])
            for ticket_id in ids[offset : offset + CHUNK]
        )
    return {ticket_id: due_at[ticket_id] for ticket_id in chosen}


def start_workers(count: int, batch: int, logs: Path) -> list[subprocess.Popen]:
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for n in range(1, count + 1):
        with (logs / f"worker-{n}.log").open("wb") as output:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "escalation_worker", "--name", f"bench-{n}", "--batch", str(batch)],
                    cwd=ROOT,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
    return workers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which the due rows fall")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lead", type=float, default=20.0, help="seconds from the writing to the first due row")
    parser.add_argument("--logs", type=Path, default=Path("/tmp/bench-escalation"))
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("The escalation benchmark needs PostgreSQL: set DATABASE_URL.")

    began = time.monotonic()
    team, ids = setup(count=options.tickets)
    due = schedule(ids, due=options.due, window=options.window, lead=options.lead)
    print(f"{options.tickets} open tickets written, {options.due} due within {options.window:g} s "
          f"({time.monotonic() - began:.0f} s)")
    workers = start_workers(options.workers, options.batch, options.logs)

    last = max(due.values())
    give_up = last + dt.timedelta(seconds=60)
    first_id, last_id = min(ids), max(ids)
    cursor = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    # Workers commit their batches in any order, so an event can become visible after one with a higher id: each
    # look goes back over what the workers' open batches could still hold.
    lookback = options.workers * options.batch * 4
    seen_pks: set[int] = set()
    seen: dict[int, list[tuple[int, dt.datetime, dt.datetime]]] = {}
    first = min(due.values())
    while timezone.now() < first:
        time.sleep(0.05)
    backends = database_backends()
    database_cpu = {pid: cpu_seconds(pid) for pid in backends}
    worker_cpu = {worker.pid: cpu_seconds(worker.pid) for worker in workers}
    try:
        while timezone.now() < give_up and sum(len(events) for events in seen.values()) < options.due:
            fresh = list(
                TicketEvent.objects.filter(
                    pk__gt=cursor - lookback, kind="paged", ticket__gte=first_id, ticket__lte=last_id
                )
                .order_by("pk")
                .values_list("pk", "ticket_id", "created_at")
            )
            observed = timezone.now()
            for pk, ticket_id, created_at in fresh:
                if pk in seen_pks:
                    continue
                seen_pks.add(pk)
                seen.setdefault(ticket_id, []).append((pk, created_at, observed))
                cursor = max(cursor, pk)
            time.sleep(0.02)
        cpu = [cpu_seconds(worker.pid) - worker_cpu[worker.pid] for worker in workers]
        database = sum(cpu_seconds(pid) - start for pid, start in database_cpu.items())
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(60)

    # The counts come from the table itself, not from what the watcher happened to see.
    paged: dict[int, int] = {}
    for ticket_id in TicketEvent.objects.filter(
        kind="paged", ticket__gte=first_id, ticket__lte=last_id
    ).values_list("ticket_id", flat=True):
        paged[ticket_id] = paged.get(ticket_id, 0) + 1
    unseen = sum(1 for ticket_id in paged if ticket_id not in seen)
    fired = [(ticket_id, events[0]) for ticket_id, events in seen.items() if ticket_id in due]
    recorded = [(created_at - due[ticket_id]).total_seconds() for ticket_id, (_pk, created_at, _seen) in fired]
    visible = [(observed - due[ticket_id]).total_seconds() for ticket_id, (_pk, _created, observed) in fired]
    duplicates = sum(count - 1 for count in paged.values())
    not_due = sum(1 for ticket_id in paged if ticket_id not in due)
    early = sum(1 for lag in recorded if lag < 0)
    missed = EscalationDue.objects.filter(ticket_id__in=list(due), state="pending").count()
    span = (max(created for _t, (_pk, created, _o) in fired) - min(due.values())).total_seconds() if fired else 0

    print(f"workers: {options.workers} x batch {options.batch}; fired {sum(1 for t in paged if t in due)} of "
          f"{options.due} ({unseen} fired but not seen by the watcher in time)")
    for name, lags in (("recorded (event created_at)", recorded), ("visible (committed, seen here)", visible)):
        if lags:
            print(f"lag {name}: p50 {percentile(lags, 0.5) * 1000:.0f} ms, p99 {percentile(lags, 0.99) * 1000:.0f} "
                  f"ms, max {max(lags) * 1000:.0f} ms")
    if fired:
        print(f"escalations per second over the burst: {len(fired) / max(span, options.window):.0f} "
              f"(due spread over {options.window:g} s; last event {span:.1f} s after the first due instant)")
    per = max(len(fired), 1) / 1000
    print(f"CPU during the burst per escalation: workers {sum(cpu) / per:.2f} ms ("
          + ", ".join(f"{seconds:.1f} s" for seconds in cpu)
          + f"), their PostgreSQL backends {database / per:.2f} ms ({database:.1f} s, {len(backends)} backends)")
    print(f"duplicates: {duplicates}, missed: {missed}, early: {early}, paged though not due: {not_due}")


if __name__ == "__main__":
    main()

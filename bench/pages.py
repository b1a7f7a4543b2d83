"""Page benchmark: what the four pages agency staff meet first cost the server, and how many it serves a second.

    python bench/pages.py prepare [--tickets 10000] [--user moi.it]     # with the server's DATABASE_URL
    python bench/pages.py run --target NAME,URL,PID [--target ...] [--clients 4] [--duration 10] [--rounds 2]

`prepare` (run with the server's settings and database) puts open tickets in the agency of `--user` until it has
`--tickets`, as rows only, and moves the ticket number counter (and the PostgreSQL sequence, where there is one) past
them. `run` logs `--clients` browser-like sessions in to each target (a server on loopback; PID is its main
process: supervisord or daphne), then, endpoint by endpoint and round by round, alternating the targets, has every
client request the endpoint back to back for `--duration` seconds:

- form: GET /tickets/new/
- post: POST /tickets/new/ (the form, no attachment; a 302 to the new ticket counts)
- list: GET /tickets/ (the agency's newest 25 of its many tickets)
- ticket: GET /tickets/<number>/ (a ticket the benchmark opened through the form, with its `opened` event)

For each it prints requests per second, errors, p50/p99 latency and the server's CPU time per request: user +
system time of PID and all its descendants, read from /proc/<pid>/stat before and after. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from intake import DEMO_PASSWORD, BenchError, form_page, log_in  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
ENDPOINTS = ["form", "post", "list", "ticket"]


def descendants(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found = [root]
    for pid in found:
        found.extend(child for child, parent in parents.items() if parent == pid)
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


@dataclass
class Target:
    name: str
    base: str
    pid: int
    sessions: list[aiohttp.ClientSession] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    ticket: int = 0


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else float("nan")


async def connect(target: Target, *, clients: int, user: str, password: str) -> None:
    for _index in range(clients):
        session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=60),
            connector=aiohttp.TCPConnector(limit=1),
        )
        target.sessions.append(session)
        await log_in(session, target.base, user, password)
        token, services = await form_page(session, target.base)
        target.tokens.append(token)
        target.services = services
    # The ticket page shows a ticket opened through the form, with its `opened` event.
    async with target.sessions[0].post(
        f"{target.base}/tickets/new/",
        data={
            "csrfmiddlewaretoken": target.tokens[0],
            "service": target.services[0],
            "impact": "2",
            "urgency": "2",
            "subject": "Bench pages: the ticket page",
            "description": "Opened by bench/pages.py.",
            "contact_phone": "+974 4400 1000",
        },
        allow_redirects=False,
    ) as response:
        opened = re.search(r"/tickets/(\d+)/", response.headers.get("Location", ""))
    if opened is None:
        raise BenchError(f"{target.name}: opening a ticket through the form failed (HTTP {response.status})")
    target.ticket = int(opened.group(1))


async def one(endpoint: str, target: Target, index: int, sequence: int) -> tuple[int, str]:
    session = target.sessions[index]
    base = target.base
    if endpoint == "post":
        form = aiohttp.FormData()
        for name, value in (
            ("csrfmiddlewaretoken", target.tokens[index]),
            ("service", target.services[sequence % len(target.services)]),
            ("impact", "2"),
            ("urgency", "3"),
            ("subject", f"Bench pages {index}-{sequence}: shared drive slow"),
            ("description", "Opened by bench/pages.py."),
            ("contact_phone", "+974 4400 1000"),
        ):
            form.add_field(name, value)
        async with session.post(f"{base}/tickets/new/", data=form, allow_redirects=False) as response:
            await response.read()
            # The "ticket opened" notice rides in the `messages` cookie to the ticket's page, which shows it and drops
            # the cookie. This client does not follow the redirect, so it drops the cookie itself: otherwise each POST
            # would carry every earlier notice (up to the cookie's 2 kB cap) for the server to decode and re-sign.
            session.cookie_jar.clear(lambda cookie: cookie.key == "messages")
            ok = response.status == 302 and "/tickets/" in response.headers.get("Location", "")
            return response.status, "" if ok else f"HTTP {response.status}"
    path = {"form": "/tickets/new/", "list": "/tickets/", "ticket": f"/tickets/{target.ticket}/"}[endpoint]
    async with session.get(f"{base}{path}", allow_redirects=False) as response:
        await response.read()
        return response.status, "" if response.status == 200 else f"HTTP {response.status}"


async def load(endpoint: str, target: Target, *, duration: float) -> tuple[Sample, float, float]:
    sample = Sample()
    pids = descendants(target.pid)
    cpu_before = cpu_seconds(pids)
    started = time.monotonic()
    deadline = started + duration

    async def client(index: int) -> None:
        sequence = 0
        while time.monotonic() < deadline:
            sequence += 1
            begun = time.monotonic()
            try:
                _status, error = await one(endpoint, target, index, sequence)
            except (aiohttp.ClientError, TimeoutError) as failure:
                error = failure.__class__.__name__
            if error:
                sample.errors[error] += 1
            else:
                sample.latencies.append(time.monotonic() - begun)

    await asyncio.gather(*(client(i) for i in range(len(target.sessions))))
    elapsed = time.monotonic() - started
    return sample, elapsed, cpu_seconds(pids) - cpu_before


async def run(args: argparse.Namespace) -> int:
    targets = []
    for spec in args.target:
        name, url, pid = spec.split(",")
        targets.append(Target(name=name, base=url.rstrip("/"), pid=int(pid)))
    try:
        for target in targets:
            await connect(target, clients=args.clients, user=args.user, password=args.password)
        load_average = os.getloadavg()[0]
        print(f"pages benchmark: {args.clients} clients, {args.duration:.0f} s a run, load average {load_average:.1f}")
        print(f"{'endpoint':<8} {'target':<10} {'round':>5} {'req/s':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7}"
              f" {'CPU/req ms':>10} {'load':>5}")
        for endpoint in args.endpoints.split(","):
            for round_ in range(1, args.rounds + 1):
                for target in targets:
                    sample, elapsed, cpu = await load(endpoint, target, duration=args.duration)
                    served = len(sample.latencies)
                    errors = sum(sample.errors.values())
                    per_request = cpu / served * 1000 if served else float("nan")
                    print(
                        f"{endpoint:<8} {target.name:<10} {round_:>5} {served / elapsed:>7.1f} {errors:>6}"
                        f" {percentile(sample.latencies, 0.5) * 1000:>7.1f}"
                        f" {percentile(sample.latencies, 0.99) * 1000:>7.1f} {per_request:>10.1f}"
                        f" {os.getloadavg()[0]:>5.1f}"
                        + (f"  {dict(sample.errors)}" if errors else ""),
                        flush=True,
                    )
    finally:
        for target in targets:
            for session in target.sessions:
                await session.close()
    return 0


def prepare(args: argparse.Namespace) -> int:
    """Bring the agency of `--user` to `--tickets` tickets (rows only), numbered past every number given."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    # The project comes from the virtualenv running this (its editable install), not from next to this file, and
    # bench/escalation.py must not shadow the escalation app.
    sys.path[:] = [path for path in sys.path if Path(path or ".").resolve() != BENCH]
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from tickets.models import Service, Ticket, TicketNumberCounter

    agency = User.objects.select_related("agency_membership__agency").get(username=args.user).agency_membership.agency
    missing = args.tickets - Ticket.objects.filter(agency=agency).count()
    if missing <= 0:
        print(f"{agency.code} already has {args.tickets} tickets or more")
        return 0
    services = list(Service.objects.filter(active=True).select_related("team"))
    now = timezone.now()
    with transaction.atomic():
        counter, _created = TicketNumberCounter.objects.select_for_update().get_or_create(pk=1)
        first = max(counter.last_number, Ticket.objects.aggregate(last=Max("number"))["last"] or 0) + 1
        Ticket.objects.bulk_create(
            [
                Ticket(
                    number=first + n,
                    agency=agency,
                    service=services[n % len(services)],
                    team=services[n % len(services)].team,
                    subject=f"Bench pages ticket {n}: printer offline",
                    priority=1 + n % 4,
                    opened_at=now - dt.timedelta(minutes=missing - n),
                    response_due_at=now,
                    resolution_due_at=now,
                )
                for n in range(missing)
            ],
            batch_size=2000,
        )
        last = first + missing - 1
        TicketNumberCounter.objects.filter(pk=1).update(last_number=last)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass('tickets_ticket_number_seq') IS NOT NULL")
                if cursor.fetchone()[0]:
                    cursor.execute("SELECT setval('tickets_ticket_number_seq', %s)", [last])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE tickets_ticket")
    print(f"{agency.code}: {missing} tickets added, numbers {first} to {last}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser("prepare", help="put the tickets in the agency (in-process, Django settings)")
    prepare_parser.add_argument("--tickets", type=int, default=10000)
    prepare_parser.add_argument("--user", default="moi.it")
    run_parser = commands.add_parser("run", help="load the pages of one or more running servers")
    run_parser.add_argument("--target", action="append", required=True, help="NAME,URL,PID (repeatable)")
    run_parser.add_argument("--clients", type=int, default=4)
    run_parser.add_argument("--duration", type=float, default=10.0)
    run_parser.add_argument("--rounds", type=int, default=2)
    run_parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    run_parser.add_argument("--user", default="moi.it")
    run_parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args()
    if args.command == "prepare":
        return prepare(args)
    try:
        return asyncio.run(run(args))
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

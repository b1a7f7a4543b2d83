"""Live console fan-out: how long a committed ticket takes to reach every connected technician console, and how long
a console takes to connect and receive its snapshot with a large open queue.

    python bench/fanout.py [--sockets 200] [--tickets 50] [--rate 10] [--queue 10000] [--processes 1]

It uses its own database (`helpdesk_bench_fanout`, created and migrated if absent; its tickets are wiped first) and
its own channel prefix on the Redis at REDIS_URL, starts daphne on 127.0.0.1 (ports 8110-8149), logs N technicians
in (sessions written through the ORM), connects one socket each, then opens M tickets through
`tickets.services.ticket_open` from a separate process. The opener stamps each ticket the moment its transaction
commits (the first on-commit callback, before the publish); every socket stamps each event as it arrives. Both use
the system-wide monotonic clock. Everything is bounded in time and stays on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This directory is on the path when the script runs.
from pages import cpu_seconds  # noqa: E402

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench_fanout"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
    "HELPDESK_CHANNEL_PREFIX": "helpdesk_bench_fanout",
    "DJANGO_SECRET_KEY": "bench-only-secret-key",
    "DJANGO_DEBUG": "0",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_COOKIES": "0",
    "DJANGO_LOG_LEVEL": "WARNING",
    # The consoles' database work runs on one thread per daphne process, so keeping its connection costs one
    # connection per process; BENCH_CONN_MAX_AGE=0 measures the default, a new connection for every heartbeat.
    "DATABASE_CONN_MAX_AGE": os.environ.get("BENCH_CONN_MAX_AGE", "60"),
}
ORIGIN = "http://127.0.0.1:8000"
TEAM_CODE = "bench-fanout"


def django_setup() -> None:
    os.environ.update(BENCH_ENV)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def database_create() -> None:
    import psycopg

    url = BENCH_ENV["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def fixtures_load(*, sockets: int) -> tuple[list[str], int]:
    """Wipe the bench tickets, make sure N technicians exist, and return one session key each and the service id."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection

    from tickets.models import Agency, AgencyMembership, Service, Team

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_ticketevent, tickets_comment, tickets_attachment, tickets_ticket, "
            "tickets_consolepresence CASCADE"
        )
    Session.objects.all().delete()
    team, _ = Team.objects.get_or_create(code=TEAM_CODE, defaults={"name_en": "Bench", "name_ar": "اختبار الأداء"})
    service, _ = Service.objects.get_or_create(
        code=TEAM_CODE, defaults={"name_en": "Bench service", "name_ar": "خدمة الاختبار", "team": team}
    )
    agency, _ = Agency.objects.get_or_create(
        code=TEAM_CODE, defaults={"name_en": "Bench Ministry", "name_ar": "وزارة الاختبار"}
    )
    User = get_user_model()
    requester, _ = User.objects.get_or_create(username="bench-requester")
    AgencyMembership.objects.get_or_create(user=requester, defaults={"agency": agency})
    existing = set(User.objects.filter(username__startswith="bench-tech-").values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(username=f"bench-tech-{n:04d}", first_name="Tech", last_name=f"{n:04d}", password="!")
            for n in range(sockets)
            if f"bench-tech-{n:04d}" not in existing
        ]
    )
    technicians = list(User.objects.filter(username__startswith="bench-tech-").order_by("username")[:sockets])
    team.members.add(*technicians)
    keys = []
    for user in technicians:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys, service.pk


def open_queue(*, count: int, service_id: int) -> None:
    """Put `count` open tickets in the queue directly (rows only; the snapshot reads rows, not events)."""
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Agency, Service, Ticket
    from tickets.services import ticket_numbers_take

    service = Service.objects.get(pk=service_id)
    agency = Agency.objects.get(code=TEAM_CODE)
    numbers = ticket_numbers_take(count=count)
    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                number=numbers[n],
                agency=agency,
                service=service,
                team=service.team,
                subject=f"Queued bench ticket {n}",
                priority=1 + n % 4,
                opened_at=now,
                response_due_at=now,
                resolution_due_at=now,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")


def opener_main(*, tickets: int, rate: float, service_id: int) -> None:
    """Child process: open tickets through the service layer at `rate` per second; print one stamp per ticket."""
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from tickets.models import Level, Service
    from tickets.services import ticket_open

    service = Service.objects.get(pk=service_id)
    requester = get_user_model().objects.get(username="bench-requester")
    ticket_open(service=service, requester=requester, subject="Warm-up", impact=Level.LOW, urgency=Level.LOW)
    start = time.monotonic()
    for n in range(tickets):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp: dict[str, float] = {}
        with transaction.atomic():
            transaction.on_commit(lambda stamp=stamp: stamp.setdefault("committed", time.monotonic()))
            ticket = ticket_open(
                service=service, requester=requester, subject=f"Fan-out {n}", impact=Level.LOW, urgency=Level.LOW
            )
        published = time.monotonic()
        print(
            json.dumps({"number": ticket.number, "committed": stamp["committed"], "published": published}), flush=True
        )


def free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def daphne_start(ports: list[int]) -> list[subprocess.Popen]:
    env = {**os.environ, **BENCH_ENV}
    processes = []
    for port in ports:
        if not free(port):
            raise SystemExit(f"port {port} is busy")
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "daphne",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "helpdesk.asgi:application",
                ],  # fmt: skip
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
    deadline = time.monotonic() + 30
    while any(free(port) for port in ports):
        if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
            raise SystemExit("daphne did not start")
        time.sleep(0.1)
    return processes


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


class Console:
    """One technician's socket: waits for its snapshot, then stamps every event."""

    def __init__(self, session, url: str, key: str) -> None:
        self.session, self.url, self.key = session, url, key
        self.received: dict[int, float] = {}
        self.arrivals: list[tuple[float, str]] = []
        self.ws = None

    async def connect(self) -> tuple[float, int, int]:
        started = time.monotonic()
        self.ws = await self.session.ws_connect(
            self.url, headers={"Origin": ORIGIN, "Cookie": f"sessionid={self.key}"}, max_msg_size=0, heartbeat=None
        )
        rows = size = 0
        while True:
            message = await self.ws.receive(timeout=60)
            if not message.data.startswith('{"type":"snapshot'):
                continue
            data = json.loads(message.data)
            rows, size = rows + len(data["tickets"]), size + len(message.data.encode())
            if not data["more"]:
                # Received: the time a browser waits for the whole snapshot, before its own parsing.
                return time.monotonic() - started, rows, size

    async def listen(self) -> None:
        # Only the arrival is stamped here; the texts are decoded after the run, so that the client, which shares the
        # machine's cores with the server, spends as little as it can on each of the 10,000 frames a second.
        async for message in self.ws:
            arrived = time.monotonic()
            # The benchmark's tickets (not the opener's warm-up): the wait for the stragglers counts them.
            if '"kind":"opened"' in message.data and '"subject":"Fan-out ' in message.data:
                self.arrivals.append((arrived, message.data))

    def decode(self) -> None:
        """The first arrival of each opened ticket, from the event texts kept by `listen`."""
        for arrived, text in self.arrivals:
            data = json.loads(text)
            if data["type"] == "event" and data["event"]["kind"] == "opened":
                self.received.setdefault(data["ticket"]["number"], arrived)


async def fanout(
    *, keys: list[str], ports: list[int], servers: list[int], tickets: int, rate: float, service_id: int
) -> dict:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        consoles = [
            Console(session, f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/console/", key) for n, key in enumerate(keys)
        ]
        gate = asyncio.Semaphore(50)

        async def connect(console: Console) -> float:
            async with gate:
                seconds, _rows, _size = await console.connect()
                return seconds

        started = time.monotonic()
        connect_times = await asyncio.gather(*(connect(console) for console in consoles))
        all_connected = time.monotonic() - started
        listeners = [asyncio.ensure_future(console.listen()) for console in consoles]
        await asyncio.sleep(2)

        # The CPU the daphne processes and this client spend from the first ticket to the last arrival.
        cpu_started = cpu_seconds(servers), time.process_time()
        opener = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--opener",
            str(tickets),
            "--rate",
            str(rate),
            "--service",
            str(service_id),
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        commits: dict[int, float] = {}
        publish_ms: list[float] = []
        async for line in opener.stdout:
            stamp = json.loads(line)
            commits[stamp["number"]] = stamp["committed"]
            publish_ms.append((stamp["published"] - stamp["committed"]) * 1000)
        await opener.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            len(console.arrivals) < len(commits) for console in consoles
        ):
            await asyncio.sleep(0.2)
        server_cpu, client_cpu = cpu_seconds(servers) - cpu_started[0], time.process_time() - cpu_started[1]
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*(console.ws.close() for console in consoles), return_exceptions=True)
    for console in consoles:
        console.decode()

    latencies = [
        (console.received[number] - committed) * 1000
        for console in consoles
        for number, committed in commits.items()
        if number in console.received
    ]
    first_arrivals = [
        (min(console.received.get(number, float("inf")) for console in consoles) - committed) * 1000
        for number, committed in commits.items()
    ]
    spreads = [
        (
            max(c.received[number] for c in consoles if number in c.received)
            - min(c.received[number] for c in consoles if number in c.received)
        )
        * 1000
        for number in commits
    ]
    return {
        "publish_p50_ms": round(statistics.median(publish_ms), 1),
        "first_arrival_p50_ms": round(statistics.median(first_arrivals), 1),
        "spread_p50_ms": round(statistics.median(spreads), 1),
        "sockets": len(consoles),
        "tickets": len(commits),
        "connect_all_s": round(all_connected, 2),
        "connect_p50_ms": round(statistics.median(connect_times) * 1000, 1),
        "delivered": len(latencies),
        "expected": len(consoles) * len(commits),
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        # With the heartbeats and presence of the time the run took, not only the frames.
        "server_cpu_per_frame_us": round(server_cpu / max(1, len(latencies)) * 1e6, 1),
        "client_cpu_per_frame_us": round(client_cpu / max(1, len(latencies)) * 1e6, 1),
    }


async def snapshot_timing(*, key: str, port: int, repeats: int) -> dict:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        runs = []
        for _ in range(repeats):
            console = Console(session, f"ws://127.0.0.1:{port}/ws/console/", key)
            runs.append(await console.connect())
            await console.ws.close()
            await asyncio.sleep(0.3)
    seconds = [run[0] * 1000 for run in runs]
    return {
        "queue_rows": runs[0][1],
        "snapshot_bytes": runs[0][2],
        # The first connection after the rows changed encodes them; the next ones reuse the encoded rows.
        "connect_to_snapshot_first_ms": round(seconds[0], 1),
        "connect_to_snapshot_again_median_ms": round(statistics.median(seconds[1:]), 1),
        "connect_to_snapshot_again_max_ms": round(max(seconds[1:]), 1),
    }


def snapshot_selector_ms(repeats: int) -> tuple[float, float]:
    """The snapshot's cost in this process: the first one (no row encoded yet), then the median of the others."""
    from django.contrib.auth import get_user_model

    from tickets.console.queue import console_snapshot
    from tickets.console.selectors import console_me

    me = console_me(user=get_user_model().objects.get(username="bench-tech-0000"))
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        console_snapshot(me=me)
        timings.append((time.perf_counter() - started) * 1000)
    return round(timings[0], 1), round(statistics.median(timings[1:]), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--tickets", type=int, default=50, help="tickets opened during the fan-out run")
    parser.add_argument("--rate", type=float, default=10, help="tickets opened per second")
    parser.add_argument("--queue", type=int, default=10000, help="open tickets for the snapshot run (0: skip it)")
    parser.add_argument("--processes", type=int, default=1, help="daphne processes sharing the sockets")
    parser.add_argument("--port", type=int, default=8110)
    parser.add_argument("--opener", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--service", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.opener is not None:
        opener_main(tickets=args.opener, rate=args.rate, service_id=args.service)
        return
    if args.port < 8110 or args.port + args.processes - 1 > 8149:
        raise SystemExit("use ports 8110-8149")

    database_create()
    django_setup()
    keys, service_id = fixtures_load(sockets=args.sockets)
    ports = [args.port + n for n in range(args.processes)]
    servers = daphne_start(ports)
    try:
        result = asyncio.run(
            fanout(
                keys=keys,
                ports=ports,
                servers=[server.pid for server in servers],
                tickets=args.tickets,
                rate=args.rate,
                service_id=service_id,
            )
        )
        print(json.dumps({"fanout": result}), flush=True)
        if args.queue:
            open_queue(count=args.queue, service_id=service_id)
            timing = asyncio.run(snapshot_timing(key=keys[0], port=ports[0], repeats=5))
            timing["built_first_ms"], timing["built_again_median_ms"] = snapshot_selector_ms(5)
            print(json.dumps({"snapshot": timing}), flush=True)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()

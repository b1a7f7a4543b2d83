"""Intake benchmark: agency staff opening tickets through the real web form, from many clients at once.

Each client is a browser-like session (its own cookies, one kept-alive connection) that logs in as a demo agency
staff account, then, until the time is up, loads /tickets/new/ for a fresh CSRF token and posts the form. A ticket
counts as opened when the POST answers with a redirect to its page (/tickets/<number>/).

    python bench/intake.py [URL] [--clients 8] [--duration 30]

The server must be running (loopback, e.g. daphne on port 8200) on a database loaded with `manage.py seed_demo`.
It prints tickets per second and the p50/p90/p99 latency of the POST alone and of a whole GET+POST, and counts
errors by kind. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import math
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

# The agency staff accounts that `manage.py seed_demo` creates, and its demo password.
DEMO_STAFF = ["moi.it", "moph.it", "moehe.it", "moci.it", "mm.it", "hmc.it"]
DEMO_PASSWORD = "helpdesk-demo-2026"  # noqa: S105

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken"\s+value="([^"]+)"')
SERVICE_SELECT = re.compile(r'<select[^>]*name="service"[^>]*>(.*?)</select>', re.DOTALL)
OPTION_VALUE = re.compile(r'<option[^>]*value="([^"]+)"')
TICKET_PAGE = re.compile(r"/tickets/(\d+)/$")


class BenchError(Exception):
    """The benchmark cannot start: the server, the accounts or the form are not what it expects."""


@dataclass
class Results:
    post_latencies: list[float] = field(default_factory=list)
    intake_latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    numbers: list[int] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def csrf_token(page: str, what: str) -> str:
    match = CSRF_INPUT.search(page)
    if not match:
        raise BenchError(f"no CSRF token in {what}")
    return html.unescape(match.group(1))


async def log_in(session: aiohttp.ClientSession, base: str, username: str, password: str) -> None:
    async with session.get(f"{base}/accounts/login/") as response:
        if response.status != 200:
            raise BenchError(f"GET /accounts/login/ answered {response.status}")
        token = csrf_token(await response.text(), "the login page")
    form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/tickets/new/"}
    async with session.post(f"{base}/accounts/login/", data=form, allow_redirects=False) as response:
        if response.status != 302:
            raise BenchError(f"logging in as {username} failed (HTTP {response.status}): run manage.py seed_demo")


async def form_page(session: aiohttp.ClientSession, base: str) -> tuple[str, list[str]]:
    """Load the intake form: its CSRF token and the services it offers."""
    async with session.get(f"{base}/tickets/new/", allow_redirects=False) as response:
        if response.status != 200:
            raise BenchError(f"GET /tickets/new/ answered {response.status}")
        page = await response.text()
    select = SERVICE_SELECT.search(page)
    services = OPTION_VALUE.findall(select.group(1)) if select else []
    if not services:
        raise BenchError("the form at /tickets/new/ offers no service")
    return csrf_token(page, "/tickets/new/"), services


async def open_session(index: int, *, base: str, username: str, password: str) -> aiohttp.ClientSession:
    """A logged-in browser-like session that has loaded the form once."""
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies from an IP-address host such as 127.0.0.1
    session = aiohttp.ClientSession(
        cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=60), connector=aiohttp.TCPConnector(limit=1)
    )
    try:
        await log_in(session, base, username, password)
        await form_page(session, base)
    except BaseException:
        await session.close()
        raise
    return session


async def open_tickets(
    index: int, session: aiohttp.ClientSession, *, base: str, deadline: float, results: Results
) -> None:
    """Open tickets one after another, as one user at the form, until the deadline."""
    rng = random.Random(index)
    sequence = 0
    while time.monotonic() < deadline:
        sequence += 1
        started = time.monotonic()
        try:
            token, services = await form_page(session, base)
            form = aiohttp.FormData()
            for name, value in (
                ("csrfmiddlewaretoken", token),
                ("service", rng.choice(services)),
                ("impact", str(rng.choice([1, 2, 2, 3, 3]))),
                ("urgency", str(rng.choice([1, 2, 2, 3, 3]))),
                ("subject", f"Bench intake {index}-{sequence}: printer queue stalled"),
                ("description", "Opened by bench/intake.py to measure intake throughput."),
                ("contact_phone", f"+974 4400 {1000 + index:04d}"),
            ):
                form.add_field(name, value)
            posted = time.monotonic()
            async with session.post(f"{base}/tickets/new/", data=form, allow_redirects=False) as response:
                await response.read()
                location = response.headers.get("Location", "")
                status = response.status
            finished = time.monotonic()
        except (aiohttp.ClientError, TimeoutError, BenchError) as error:
            results.errors[error.__class__.__name__] += 1
            continue
        opened = TICKET_PAGE.search(location.split("?")[0]) if status == 302 else None
        if opened is None:
            results.errors[f"HTTP {status}"] += 1
            continue
        results.numbers.append(int(opened.group(1)))
        results.post_latencies.append(finished - posted)
        results.intake_latencies.append(finished - started)


async def measure(
    base: str, *, clients: int, duration: float, password: str, users: list[str]
) -> tuple[Results, float]:
    """Log every client in first, then load the form for `duration` seconds; return the results and the time the
    load phase really took (the last requests finish after the deadline)."""
    sessions = await asyncio.gather(
        *(open_session(i, base=base, username=users[i % len(users)], password=password) for i in range(clients)),
        return_exceptions=True,
    )
    try:
        failure = next((result for result in sessions if isinstance(result, BaseException)), None)
        if failure is not None:
            raise failure
        results = Results()
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(open_tickets(i, session, base=base, deadline=deadline, results=results) for i, session in
              enumerate(sessions))
        )
        return results, time.monotonic() - started
    finally:
        for session in sessions:
            if isinstance(session, aiohttp.ClientSession):
                await session.close()


def latency_line(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:<22} no samples"
    points = ", ".join(f"p{int(q * 100)} {percentile(values, q) * 1000:7.1f} ms" for q in (0.5, 0.9, 0.99))
    return f"  {label:<22} {points}, max {max(values) * 1000:7.1f} ms"


def report(results: Results, *, base: str, clients: int, elapsed: float) -> None:
    opened = len(results.numbers)
    errors = sum(results.errors.values())
    print(f"intake benchmark against {base}: {clients} clients for {elapsed:.1f} s")
    print(f"  tickets opened         {opened} ({opened / elapsed:.1f} tickets/s)")
    print(f"  distinct numbers       {len(set(results.numbers))}")
    print(f"  errors                 {errors}" + (f" ({dict(results.errors)})" if errors else ""))
    print(latency_line("POST /tickets/new/", results.post_latencies))
    print(latency_line("GET + POST (a user)", results.intake_latencies))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8200", help="server base URL")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load after logging in (default 30)")
    parser.add_argument("--password", default=DEMO_PASSWORD, help="password of the demo staff accounts")
    parser.add_argument("--users", default=",".join(DEMO_STAFF), help="comma-separated agency staff usernames")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    users = [name for name in args.users.split(",") if name]
    if args.clients < 1 or args.duration <= 0 or not users:
        parser.error("--clients and --duration must be positive and --users must name at least one account")
    try:
        results, elapsed = asyncio.run(
            measure(base, clients=args.clients, duration=args.duration, password=args.password, users=users)
        )
    except (BenchError, aiohttp.ClientError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report(results, base=base, clients=args.clients, elapsed=elapsed)
    return 0 if results.numbers else 1


if __name__ == "__main__":
    sys.exit(main())

"""Hotline benchmark: many simulated phone calls stepping through the IVR at once, with requests signed as Twilio
signs them, against a running server.

Each simulated caller makes two calls, one after the other, from one of the demo agency staff numbers: the first
reports a problem (language if asked, menu 1, a service, "only some people", a spoken description; it hears the new
ticket's number), the second asks for that ticket's status (menu 2, the number, then the main menu and goodbye). The
walker answers each TwiML by the step named in its action URL, as a caller following the prompts would. A call
counts as completed when it ends with <Hangup> after hearing what it came for (its ticket number, then its status).

    python bench/hotline.py [URL] [--calls 50] [--think 0] [--token TOKEN] [--server-pid PID]

The server must run with the same TWILIO_AUTH_TOKEN (default here: $TWILIO_AUTH_TOKEN), HELPDESK_PUBLIC_URL equal to
URL, a database loaded with `manage.py seed_demo`, and a call limit above the bench's calls per number
(HELPDESK_HOTLINE_CALLS_PER_WINDOW=100000). It prints p50/p90/p99 webhook latency, completed calls, errors by kind
and, with --server-pid, the server's CPU time per webhook read from /proc/<pid>/stat. Not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import re
import secrets
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from twilio.request_validator import RequestValidator

# The agency staff numbers `manage.py seed_demo` puts on file.
DEMO_PHONES = [f"+9744400200{n}" for n in range(1, 7)]
HOTLINE_NUMBER = "+97444990000"
STEP = re.compile(r"/hotline/voice/([a-z]+)/")
TICKET_NUMBER = re.compile(r"((?:\d ){5,}\d)")
MAX_STEPS = 20


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    completed: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Caller:
    def __init__(
        self, session: aiohttp.ClientSession, base: str, token: str, phone: str, results: Results, think: float
    ) -> None:
        self.session = session
        self.think = think
        self.base = base
        self.validator = RequestValidator(token)
        self.phone = phone
        self.results = results

    async def post(self, url: str, params: dict[str, str]) -> ET.Element:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.base + path, params)
        started = time.perf_counter()
        async with self.session.post(self.base + path, data=params, headers={"X-Twilio-Signature": signature}) as r:
            body = await r.read()
            took = time.perf_counter() - started
            self.results.latencies.append(took)
            step = STEP.search(path)
            self.results.by_step.setdefault(step.group(1) if step else "answer", []).append(took)
            if r.status != 200:
                raise RuntimeError(f"HTTP {r.status}")
        return ET.fromstring(body)

    async def call(self, answers: dict[str, list[str]], *, speech: str = "") -> str:
        """One call; what it heard, all of it. `answers` gives, per step, the keys to press on successive visits."""
        params = {"CallSid": "CA" + secrets.token_hex(16), "From": self.phone, "To": HOTLINE_NUMBER,
                  "Direction": "inbound", "CallStatus": "ringing", "AccountSid": "AC" + "0" * 32}
        url, extra, heard = f"{self.base}/hotline/voice/", {}, []
        for _step in range(MAX_STEPS):
            if self.think and extra:
                # The caller listens to the prompt before keying, some faster than others.
                await asyncio.sleep(self.think * random.uniform(0.5, 1.5))
            root = await self.post(url, {**params, **extra})
            params["CallStatus"] = "in-progress"
            heard += [say.text or "" for say in root.iter("Say")]
            if root.find("Hangup") is not None:
                return " ".join(heard)
            gather = root.find("Gather")
            if gather is None:
                raise RuntimeError("no <Gather> and no <Hangup>")
            action = gather.get("action", "")
            step = STEP.search(action)
            pending = answers.get(step.group(1) if step else "", [])
            if gather.get("input") == "speech":
                url, extra = action, {"SpeechResult": speech, "Confidence": "0.9"}
            elif pending:
                url, extra = action, {"Digits": pending.pop(0)}
            else:
                redirect = root.find("Redirect")
                url, extra = (redirect.text or "", {}) if redirect is not None else (action, {})
        raise RuntimeError("the call did not end")

    async def run(self) -> None:
        await asyncio.sleep(random.uniform(0, self.think))  # calls do not all ring at the same instant
        try:
            report = await self.call(
                {"language": ["2"], "menu": ["1"], "service": ["1"], "whole": ["2"], "number": []},
                speech="The government network is slow in our building since this morning.",
            )
            found = TICKET_NUMBER.search(report)
            if not found:
                raise RuntimeError("no ticket number heard")
            self.results.completed += 1
            number = found.group(1).replace(" ", "")
            status = await self.call({"language": ["2"], "menu": ["2"], "status": [number], "more": []})
            if "Status:" not in status:
                raise RuntimeError("no status heard")
            self.results.completed += 1
        except (TimeoutError, RuntimeError, aiohttp.ClientError, ET.ParseError) as error:
            self.results.errors[str(error)[:80]] += 1


async def main(base: str, calls: int, token: str, pid: int | None, think: float) -> int:
    results = Results()
    timeout = aiohttp.ClientTimeout(total=60)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=calls)) as session:
        phones = [DEMO_PHONES[i % len(DEMO_PHONES)] for i in range(calls)]
        callers = [Caller(session, base, token, phone, results, think) for phone in phones]
        await asyncio.gather(*(caller.run() for caller in callers))
    elapsed = time.perf_counter() - started
    if not results.latencies:
        print("no webhook answered", file=sys.stderr)
        return 1
    ms = [value * 1000 for value in results.latencies]
    print(f"{calls} callers, {2 * calls} calls, {len(ms)} webhook requests in {elapsed:.1f} s")
    print(f"completed calls: {results.completed} of {2 * calls}")
    print(f"webhook latency p50 {percentile(ms, 0.5):.0f} ms, p90 {percentile(ms, 0.9):.0f} ms, "
          f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms")
    for step, values in sorted(results.by_step.items(), key=lambda item: -percentile(item[1], 0.99)):
        print(f"  {step:>9}: {len(values):4d} requests, p50 {percentile(values, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(values, 0.99) * 1000:.0f} ms")
    if pid:
        used = cpu_seconds(pid) - cpu_before
        print(f"server CPU: {used:.2f} s in all, {1000 * used / len(ms):.1f} ms per webhook")
    for error, count in results.errors.most_common():
        print(f"error x{count}: {error}")
    return 0 if not results.errors else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8200")
    parser.add_argument("--calls", type=int, default=50, help="concurrent simulated callers (two calls each)")
    parser.add_argument("--token", default=os.environ.get("TWILIO_AUTH_TOKEN", ""))
    parser.add_argument("--server-pid", type=int, help="the server's pid, to read its CPU time from /proc")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean seconds a caller listens before each key or answer (default 0: back to back, all "
                        "calls at once); each pause is drawn between half and one and a half of it")
    args = parser.parse_args()
    if not args.token:
        parser.error("give --token or set TWILIO_AUTH_TOKEN (the server's)")
    sys.exit(asyncio.run(main(args.url.rstrip("/"), args.calls, args.token, args.server_pid, args.think)))

"""Fixtures of the escalation tests: a team with its chain, who is on call, and the people it pages."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.db.models import QuerySet

from escalation.engine import escalation_run_due
from escalation.models import ContactProfile, EscalationChain, EscalationDue, EscalationStep, OnCallOverride, Target
from tests.factories import UserFactory, technician_of

QATAR = ZoneInfo("Asia/Qatar")
# A Sunday, inside the working day: P3/P4 clocks run too.
T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=QATAR)
MINUTE = dt.timedelta(minutes=1)


@contextlib.contextmanager
def held_by_another_worker(rows: QuerySet[EscalationDue]) -> Iterator[None]:
    """While the block runs, another worker's transaction (a thread with its own connection) holds `rows` locked, as
    a worker holds the batch it fires; it lets go when the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(rows.select_for_update())
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        holder.join(10)


@contextlib.contextmanager
def lock_timeout(seconds: int) -> Iterator[None]:
    """Waiting for a lock longer than `seconds` fails the statement: what must not wait for a held row fails."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET lock_timeout = '{seconds}s'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def person(username: str, first: str, last: str, *, team=None, mobile: str = "", voice: bool = False):
    user = technician_of(team, username=username) if team is not None else UserFactory(username=username)
    user.first_name, user.last_name = first, last
    user.save()
    if mobile:
        ContactProfile.objects.create(user=user, mobile=mobile, language="en", page_by_sms=True, page_by_voice=voice)
    return user


def on_call(team, user, layer: str = "primary") -> OnCallOverride:
    return OnCallOverride.objects.create(
        team=team, layer=layer, user=user, starts_at=T0 - dt.timedelta(days=7), ends_at=T0 + dt.timedelta(days=7)
    )


@pytest.fixture
def alice(team):
    return person("alice", "Alice", "Primary", team=team, mobile="+97455000001")


@pytest.fixture
def bob(team):
    return person("bob", "Bob", "Secondary", team=team)


@pytest.fixture
def lead(team):
    return person("lead", "Layla", "Lead", team=team)


@pytest.fixture
def manager(db):
    return person("manager", "Noora", "Manager", mobile="+97455000009", voice=True)


@pytest.fixture
def chain(team, alice, bob, lead, manager):
    """The on-call primary (2 min), the secondary paged twice (3 min each), then the duty manager (5 min)."""
    on_call(team, alice, "primary")
    on_call(team, bob, "secondary")
    chain = EscalationChain.objects.create(
        team=team, team_lead=lead, duty_manager=manager, breach_repeat=dt.timedelta(hours=1)
    )
    EscalationStep.objects.create(chain=chain, position=1, target=Target.ONCALL_PRIMARY, delay=2 * MINUTE, by_sms=True)
    EscalationStep.objects.create(chain=chain, position=2, target=Target.ONCALL_SECONDARY, delay=3 * MINUTE, repeat=1)
    EscalationStep.objects.create(chain=chain, position=3, target=Target.DUTY_MANAGER, delay=5 * MINUTE, by_voice=True)
    return chain


def fire_due(now: dt.datetime, *, limit: int = 50) -> int:
    """What the worker does at `now`: fire every due row, batch after batch. Returns how many rows it took."""
    taken = 0
    while batch := escalation_run_due(now=now, limit=limit).taken:
        taken += batch
    return taken

"""The worker's heartbeat and what it tells about the worker: alive, stale, missing or lagging behind due work."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest

from escalation.heartbeat import worker_beat, worker_status
from escalation.models import Page, WorkerHeartbeat
from tests.escalation.conftest import MINUTE, fire_due
from tickets.models import Level

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _stale_after(settings):
    settings.HELPDESK_WORKER_STALE_SECONDS = 30


def test_no_worker_ever_beat_is_missing():
    status = worker_status(now=NOW)
    assert status["state"] == "missing"
    assert status["last_beat_at"] is None
    assert status["workers"] == []
    assert (status["lag"], status["stale_after"]) == (0.0, 30)


def test_ages_are_in_seconds_to_the_millisecond():
    worker_beat(name="worker-a", now=NOW)
    assert worker_status(now=NOW)["last_beat_age"] == 0.0
    assert worker_status(now=NOW + dt.timedelta(microseconds=250_400))["last_beat_age"] == 0.25
    assert worker_status(now=NOW + dt.timedelta(seconds=1, microseconds=234_400))["last_beat_age"] == 1.234


def test_a_beat_records_this_process_and_is_fresh_until_the_threshold():
    worker_beat(name="worker-a", now=NOW, lag=0.25)
    worker_beat(name="worker-a", now=NOW + dt.timedelta(seconds=5), lag=0.5)

    status = worker_status(now=NOW + dt.timedelta(seconds=35))
    assert status["state"] == "ok"
    assert status["last_beat_age"] == 30.0
    assert status["last_beat_at"] == (NOW + dt.timedelta(seconds=5)).isoformat()
    assert status["workers"] == [
        {
            "name": "worker-a",
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "last_beat_at": (NOW + dt.timedelta(seconds=5)).isoformat(),
            "age": 30.0,
            "lag": 0.5,
        }
    ]
    assert worker_status(now=NOW + dt.timedelta(seconds=35.5))["state"] == "stale"


def test_the_freshest_of_several_workers_decides():
    worker_beat(name="dead", now=NOW - dt.timedelta(minutes=10))
    worker_beat(name="the-last", now=NOW)
    worker_beat(name="zombie", now=NOW - dt.timedelta(minutes=5))
    worker_beat(name="alive", now=NOW)
    status = worker_status(now=NOW + dt.timedelta(seconds=1))
    assert (status["state"], status["last_beat_age"]) == ("ok", 1.0)
    # The freshest first, by name when they beat at the same instant.
    assert [worker["name"] for worker in status["workers"]] == ["alive", "the-last", "zombie", "dead"]

    worker_beat(name="zombie", now=NOW + dt.timedelta(seconds=1))
    status = worker_status(now=NOW + dt.timedelta(seconds=1))
    assert (status["last_beat_at"], status["last_beat_age"]) == ((NOW + dt.timedelta(seconds=1)).isoformat(), 0.0)
    assert [worker["name"] for worker in status["workers"]] == ["zombie", "alive", "the-last", "dead"]


def test_a_worker_silent_for_a_day_is_forgotten_when_another_beats():
    worker_beat(name="gone", now=NOW - dt.timedelta(days=1, seconds=1))
    worker_beat(name="new", now=NOW)
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["new"]


def test_due_work_waiting_longer_than_the_threshold_is_lagging(make_ticket, technician):
    ticket = make_ticket()
    Page.objects.create(
        ticket=ticket,
        recipient=technician,
        channel="sms",
        to="+97455123456",
        language="en",
        body="x",
        next_attempt_at=NOW - dt.timedelta(seconds=45),
        created_at=NOW - dt.timedelta(seconds=45),
    )
    worker_beat(name="worker-a", now=NOW)
    status = worker_status(now=NOW)
    assert status["lag"] == 45.0
    assert status["state"] == "lagging"
    assert worker_status(now=NOW - dt.timedelta(seconds=20))["lag"] == 25.0
    # Waiting exactly the threshold is still keeping up.
    assert worker_status(now=NOW - dt.timedelta(seconds=15))["state"] == "ok"


def test_overdue_escalation_rows_count_as_due_work_and_fired_ones_do_not(make_ticket, chain):
    opened = NOW - dt.timedelta(minutes=10)
    make_ticket(impact=Level.HIGH, urgency=Level.HIGH, now=opened)  # a P1: its chain's first step is due at once
    fire_due(opened)
    # The first step fired when it was due; the second is due two minutes after the opening.
    worker_beat(name="worker-a", now=opened + MINUTE)
    status = worker_status(now=opened + MINUTE)
    assert (status["state"], status["lag"]) == ("ok", 0.0)
    late = opened + 2 * MINUTE + dt.timedelta(seconds=40)
    worker_beat(name="worker-a", now=late)
    status = worker_status(now=late)
    assert (status["state"], status["lag"]) == ("lagging", 40.0)


def test_the_status_of_one_host_ignores_the_workers_of_others():
    worker_beat(name="here", now=NOW)
    assert worker_status(now=NOW, host=socket.gethostname())["state"] == "ok"
    assert worker_status(now=NOW, host="another-host")["state"] == "missing"

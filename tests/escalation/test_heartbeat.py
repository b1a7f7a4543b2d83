"""The worker's heartbeat and what it tells about the worker: alive, stale, missing or lagging behind due work."""

from __future__ import annotations

import datetime as dt
import os
import socket

import pytest

from escalation.heartbeat import worker_beat, worker_status
from escalation.models import Page, WorkerHeartbeat

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
    worker_beat(name="alive", now=NOW)
    status = worker_status(now=NOW + dt.timedelta(seconds=1))
    assert status["state"] == "ok"
    assert [worker["name"] for worker in status["workers"]] == ["alive", "dead"]


def test_a_worker_silent_for_a_day_is_forgotten_when_another_beats():
    worker_beat(name="gone", now=NOW - dt.timedelta(days=1, seconds=1))
    worker_beat(name="new", now=NOW)
    assert list(WorkerHeartbeat.objects.values_list("name", flat=True)) == ["new"]


def test_due_work_waiting_longer_than_the_threshold_is_lagging(make_ticket, technician):
    ticket = make_ticket()
    Page.objects.create(
        ticket=ticket, recipient=technician, channel="sms", to="+97455123456", language="en", body="x",
        next_attempt_at=NOW - dt.timedelta(seconds=45), created_at=NOW - dt.timedelta(seconds=45),
    )
    worker_beat(name="worker-a", now=NOW)
    status = worker_status(now=NOW)
    assert status["lag"] == 45.0
    assert status["state"] == "lagging"
    assert worker_status(now=NOW - dt.timedelta(seconds=20))["lag"] == 25.0


def test_the_status_of_one_host_ignores_the_workers_of_others():
    worker_beat(name="here", now=NOW)
    assert worker_status(now=NOW, host=socket.gethostname())["state"] == "ok"
    assert worker_status(now=NOW, host="another-host")["state"] == "missing"

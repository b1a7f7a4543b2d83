"""The page outbox and the worker heartbeats in the admin: listed, filtered, never edited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from escalation.heartbeat import worker_beat
from escalation.models import WorkerHeartbeat
from escalation.outbox import page_enqueue
from tests.factories import UserFactory

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def manager_client(client, db):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def pages(make_ticket, technician):
    ticket = make_ticket(subject="Core router down")
    made = {}
    for channel in ("console", "sms", "voice"):
        made[channel] = page_enqueue(
            ticket_id=ticket.pk, recipient=technician, channel=channel, body=f"{channel} page body", language="en",
            step="step 1 of 2", now=NOW, to="+97455123456",
        )
    return made


def test_pages_are_listed_by_state_and_channel(manager_client, pages):
    url = reverse("admin:escalation_page_changelist")
    assert manager_client.get(url).status_code == 200
    pending = manager_client.get(url, {"state__exact": "pending"}).context["cl"].result_list
    assert {page.channel for page in pending} == {"sms", "voice"}
    sms = manager_client.get(url, {"channel__exact": "sms"}).context["cl"].result_list
    assert [page.pk for page in sms] == [pages["sms"].pk]


def test_a_page_opens_read_only_and_cannot_be_changed_or_deleted(manager_client, pages):
    page = pages["sms"]
    url = reverse("admin:escalation_page_change", args=[page.pk])
    html = manager_client.get(url).content.decode()
    assert "sms page body" in html
    assert 'name="_save"' not in html
    manager_client.post(url, {"state": "sent", "body": "edited"})
    manager_client.post(reverse("admin:escalation_page_delete", args=[page.pk]), {"post": "yes"})
    page.refresh_from_db()
    assert (page.state, page.body) == ("pending", "sms page body")
    assert manager_client.get(reverse("admin:escalation_page_add")).status_code == 403


def test_worker_heartbeats_are_listed_read_only(manager_client):
    worker_beat(name="worker-1", now=NOW)
    html = manager_client.get(reverse("admin:escalation_workerheartbeat_changelist")).content.decode()
    assert "worker-1" in html
    beat = WorkerHeartbeat.objects.get()
    change = manager_client.get(reverse("admin:escalation_workerheartbeat_change", args=[beat.pk]))
    assert 'name="_save"' not in change.content.decode()

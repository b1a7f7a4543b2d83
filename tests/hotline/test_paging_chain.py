"""The hotline's keys on a page, through the escalation engine: a P1 pages the on-call technician by SMS and voice
through the injected Twilio client; keypress 1 acknowledges and stops the chain, keypress 2 fires the next step at
once, and an answering machine does neither, so the chain moves on by itself."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.models import OnCallOverride
from escalation.outbox import outbox_deliver_due
from tests.factories import technician_of
from tests.hotline.conftest import ALICE_MOBILE
from tests.hotline.test_pages import T0, answer, press, voice_page
from tests.hotline.twilio import API, heard
from tickets.models import Channel, Level, Status, TicketEvent

# The escalation engine (helper `engine`) had not landed on main when these were written: they run once it has.
engine = pytest.importorskip("escalation.engine")
chains = pytest.importorskip("escalation.models.chains")

MINUTE = dt.timedelta(minutes=1)
WEEK = dt.timedelta(days=7)


@pytest.fixture
def chain(team, alice):
    """Alice (primary) is paged by SMS and voice; three minutes later Bob (secondary) is."""
    bob = technician_of(team, username="bob", first_name="Bob", last_name="Secondary")
    for layer, user in (("primary", alice), ("secondary", bob)):
        OnCallOverride.objects.create(team=team, layer=layer, user=user, starts_at=T0 - WEEK, ends_at=T0 + WEEK)
    chain = chains.EscalationChain.objects.create(team=team, breach_repeat=dt.timedelta(hours=1))
    chains.EscalationStep.objects.create(
        chain=chain, position=1, target=chains.Target.ONCALL_PRIMARY, delay=3 * MINUTE, by_sms=True, by_voice=True
    )
    chains.EscalationStep.objects.create(
        chain=chain, position=2, target=chains.Target.ONCALL_SECONDARY, delay=3 * MINUTE
    )
    return chain


def fire(now: dt.datetime) -> None:
    while engine.escalation_run_due(now=now, limit=50).taken:
        pass


def pages_of(ticket) -> list[TicketEvent]:
    return list(ticket.events.filter(kind__in=("paged", "escalated")).order_by("id"))


@pytest.fixture
def paged(make_ticket, chain):
    ticket = make_ticket(impact=Level.HIGH, urgency=Level.HIGH, subject="Government Network down", now=T0)
    fire(T0)
    return ticket


@pytest.mark.django_db
def test_a_p1_pages_the_oncall_technician_by_sms_and_voice_through_twilio(paged, fake_twilio):
    assert len(pages_of(paged)) == 1
    assert outbox_deliver_due(now=T0) == 2
    urls = sorted(request.url for request in fake_twilio.requests)
    assert urls == [f"{API}/Calls.json", f"{API}/Messages.json"]
    assert {request.data["To"] for request in fake_twilio.requests} == {ALICE_MOBILE}


@pytest.mark.django_db
def test_keypress_1_acknowledges_and_stops_the_chain(client, paged, alice):
    done = press(client, answer(client, voice_page(paged)), "1")
    assert "تم تأكيد استلام التذكرة" in heard(done)
    paged.refresh_from_db()
    assert paged.status == Status.ACKNOWLEDGED
    assert paged.events.get(kind=TicketEvent.Kind.ACKNOWLEDGED).channel == Channel.PHONE
    fire(T0 + 30 * MINUTE)
    assert len(pages_of(paged)) == 1  # nobody else is paged


@pytest.mark.django_db
def test_keypress_2_escalates_at_once(client, paged, alice):
    done = press(client, answer(client, voice_page(paged)), "2")
    assert "صُعِّدت التذكرة" in heard(done)
    escalated = pages_of(paged)[-1]
    assert (escalated.kind, escalated.actor) == ("escalated", alice)
    assert len(pages_of(paged)) == 2
    paged.refresh_from_db()
    assert paged.status == Status.NEW
    again = press(client, answer(client, voice_page(paged)), "2")  # Twilio retries the same CallSid
    assert "صُعِّدت التذكرة" in heard(again)
    assert len(pages_of(paged)) == 2


@pytest.mark.django_db
def test_an_answering_machine_neither_acknowledges_nor_escalates_and_the_chain_moves_on(client, paged):
    answer(client, voice_page(paged), answered_by="machine_start")
    paged.refresh_from_db()
    assert paged.status == Status.NEW
    assert len(pages_of(paged)) == 1
    fire(T0 + 3 * MINUTE)
    assert len(pages_of(paged)) == 2  # the secondary is paged, as if nobody had answered

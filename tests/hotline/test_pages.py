"""Voice and SMS pages through Twilio (the REST client with an injected HTTP client), the script Twilio fetches when
the technician answers, and what their keys do. The pages here are queued as the engine's first step queues them;
tests/hotline/test_paging_chain.py runs the same through the escalation engine."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from escalation.models import Page
from escalation.outbox import outbox_deliver_due, page_enqueue, page_text
from hotline.models import HotlineCall
from tests.hotline.conftest import ALICE_MOBILE
from tests.hotline.twilio import (
    API,
    HOTLINE_NUMBER,
    PUBLIC_URL,
    call_resource,
    heard,
    message_resource,
    payload,
    says,
    sign,
    twilio_post,
    verbs,
)
from tickets.models import Channel, Level, Status, TicketEvent

T0 = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)  # 06:00 in Qatar
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def p1(make_ticket):
    return make_ticket(impact=Level.HIGH, urgency=Level.HIGH, subject="Government Network down", now=T0)


def page_alice(ticket, alice) -> None:
    """The SMS and voice pages to Alice that an escalation step queues (the engine writes them the same way)."""
    for channel in ("sms", "voice"):
        page_enqueue(
            ticket_id=ticket.pk, recipient=alice, channel=channel, language="ar", step="step 1 of 2", now=T0,
            body=page_text(ticket=ticket, channel=channel, language="ar"),
        )


def voice_page(ticket) -> Page:
    return Page.objects.get(ticket=ticket, channel="voice")


def answer(client, page: Page, *, answered_by: str = "human") -> ET.Element:
    response = twilio_post(client, f"/hotline/voice/page/{page.pk}/", payload("page_answered", AnsweredBy=answered_by))
    assert response.status_code == 200
    return ET.fromstring(response.content)


def press(client, root: ET.Element, key: str) -> ET.Element:
    response = twilio_post(client, root.find("Gather").get("action"), payload("page_answered", Digits=key))
    assert response.status_code == 200
    return ET.fromstring(response.content)


@pytest.mark.django_db
def test_pages_leave_through_twilio_once_with_our_script_url(p1, alice, fake_twilio):
    page_alice(p1, alice)
    assert outbox_deliver_due(now=T0) == 2
    sms, call = fake_twilio.requests
    assert (sms.url, sms.data["To"], sms.data["From"]) == (f"{API}/Messages.json", ALICE_MOBILE, HOTLINE_NUMBER)
    assert f"ACK {p1.number}" in sms.data["Body"]
    assert sms.data["StatusCallback"] == f"{PUBLIC_URL}/hotline/status/"
    page = voice_page(p1)
    assert (call.url, call.data["To"], call.data["From"]) == (f"{API}/Calls.json", ALICE_MOBILE, HOTLINE_NUMBER)
    assert call.data["Url"] == f"{PUBLIC_URL}/hotline/voice/page/{page.pk}/"
    assert call.data["MachineDetection"] == "Enable"
    page.refresh_from_db()
    assert (page.state, page.provider_id) == (Page.State.SENT, "CA" + "b" * 32)

    assert outbox_deliver_due(now=T0 + MINUTE) == 0
    assert len(fake_twilio.requests) == 2  # nothing is sent again


@pytest.mark.django_db
def test_a_5xx_from_twilio_is_retried_by_the_backend_then_sent_once(p1, alice, fake_twilio):
    fake_twilio.answers = [(500, {"code": 20500, "message": "Internal", "status": 500}), (201, message_resource()),
                          (201, call_resource())]
    page_alice(p1, alice)
    assert outbox_deliver_due(now=T0) == 2
    assert [request.url.rsplit("/", 1)[1] for request in fake_twilio.requests] == [
        "Messages.json", "Messages.json", "Calls.json"
    ]
    assert set(Page.objects.values_list("state", flat=True)) == {Page.State.SENT}


@pytest.mark.django_db
def test_the_technician_hears_the_ticket_in_their_language_and_keypress_1_acknowledges_once(
    client, p1, alice
):
    page_alice(p1, alice)
    root = answer(client, voice_page(p1))
    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == f"{PUBLIC_URL}/hotline/voice/page/{voice_page(p1).pk}/key/"
    text = heard(root)
    assert f"التذكرة {' '.join(str(p1.number))}، P1 حرجة" in text
    assert "الشبكة الحكومية" in text and "وزارة الصحة العامة" in text and "Government Network down" in text
    assert "لتأكيد الاستلام، اضغط 1. للتصعيد الآن، اضغط 2." in text
    assert {said.voice for said in says(root)} == {"Polly.Zeina"}

    done = press(client, root, "1")
    assert verbs(done) == ["Say", "Hangup"]
    assert "تم تأكيد استلام التذكرة" in heard(done)
    p1.refresh_from_db()
    assert p1.status == Status.ACKNOWLEDGED
    event = p1.events.get(kind=TicketEvent.Kind.ACKNOWLEDGED)
    assert (event.actor, event.channel) == (alice, Channel.PHONE)

    again = press(client, root, "1")  # Twilio retries the same CallSid
    assert "تم تأكيد استلام التذكرة" in heard(again)
    assert p1.events.filter(kind=TicketEvent.Kind.ACKNOWLEDGED).count() == 1
    assert HotlineCall.objects.get().outcome == HotlineCall.Outcome.ACKNOWLEDGED


@pytest.mark.django_db
def test_an_answering_machine_hears_a_notice_and_nothing_is_acknowledged(client, p1, alice):
    page_alice(p1, alice)
    root = answer(client, voice_page(p1), answered_by="machine_start")
    assert verbs(root) == ["Say", "Hangup"]
    assert root.find("Gather") is None
    assert "يُرجى فتح لوحة المتابعة" in heard(root)
    p1.refresh_from_db()
    assert p1.status == Status.NEW
    assert HotlineCall.objects.count() == 0


@pytest.mark.django_db
def test_no_key_twice_leaves_the_page_open(client, p1, alice):
    page_alice(p1, alice)
    root = answer(client, voice_page(p1))
    first = ET.fromstring(twilio_post(client, root.find("Redirect").text, payload("page_answered")).content)
    assert verbs(first) == ["Gather", "Redirect"]
    second = ET.fromstring(twilio_post(client, first.find("Redirect").text, payload("page_answered")).content)
    assert verbs(second) == ["Say", "Hangup"]
    assert "يستمر التصعيد" in heard(second)
    p1.refresh_from_db()
    assert p1.status == Status.NEW


@pytest.mark.django_db
def test_keypress_1_on_a_ticket_someone_else_acknowledged_changes_nothing(client, p1, alice, other_technician):
    from tickets.services import ticket_acknowledge

    page_alice(p1, alice)
    root = answer(client, voice_page(p1))
    ticket_acknowledge(ticket=p1, actor=other_technician, now=T0 + MINUTE)
    told = press(client, root, "1")
    assert "لم يتغير شيء" in heard(told)
    assert p1.events.filter(kind=TicketEvent.Kind.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/hotline/voice/page/{pk}/", "/hotline/voice/page/{pk}/key/"])
def test_page_webhooks_refuse_what_twilio_did_not_sign(client, p1, alice, path):
    page_alice(p1, alice)
    url = path.format(pk=voice_page(p1).pk)
    params = payload("page_answered", Digits="1")
    forged = sign(PUBLIC_URL + url, params, token="not-our-token")
    elsewhere = sign("https://evil.example" + url, params)
    for signature in ("", forged, elsewhere):
        assert twilio_post(client, url, params, signature=signature).status_code == 403
    p1.refresh_from_db()
    assert p1.status == Status.NEW
    assert HotlineCall.objects.count() == 0

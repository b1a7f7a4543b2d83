"""Twilio's status callbacks of what the helpdesk sent: the page keeps the newest delivery state; a callback that
comes twice, late or out of order changes nothing; an unsigned one is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from escalation.models import Page
from escalation.outbox import page_enqueue
from tests.hotline.twilio import PUBLIC_URL, payload, sign, twilio_post

SMS_SID = "SM1f2e3d4c5b6a79880716253443526170"
CALL_SID = "CA0a1b2c3d4e5f60718293a4b5c6d7e8f9"
NOW = dt.datetime(2026, 11, 29, 21, 20, tzinfo=dt.UTC)


@pytest.fixture
def sms_page(make_ticket):
    page = page_enqueue(
        ticket_id=make_ticket().pk, recipient=None, channel="sms", body="HD page", language="en", step="step 1",
        now=NOW, to="+97455876543",
    )
    Page.objects.filter(pk=page.pk).update(state=Page.State.SENT, provider_id=SMS_SID)
    return page


@pytest.fixture
def call_page(make_ticket):
    page = page_enqueue(
        ticket_id=make_ticket().pk, recipient=None, channel="voice", body="HD page", language="ar", step="step 1",
        now=NOW, to="+97455876543",
    )
    Page.objects.filter(pk=page.pk).update(state=Page.State.SENT, provider_id=CALL_SID)
    return page


def message_status(client, status: str):
    response = twilio_post(client, "/hotline/status/", payload("message_status", MessageStatus=status,
                                                               SmsStatus=status))
    assert response.status_code == 204
    return response


def call_status(client, status: str, sequence: int, timestamp: str = "Sun, 29 Nov 2026 21:20:41 +0000"):
    params = payload("call_status", CallStatus=status, SequenceNumber=str(sequence), Timestamp=timestamp)
    assert twilio_post(client, "/hotline/status/", params).status_code == 204


def state(page: Page) -> tuple[str, int | None]:
    page.refresh_from_db()
    return page.provider_status, page.provider_sequence


@pytest.mark.django_db
def test_sms_states_move_forward_and_a_late_or_repeated_one_changes_nothing(client, sms_page):
    message_status(client, "queued")
    message_status(client, "sent")
    assert state(sms_page) == ("sent", None)
    message_status(client, "delivered")
    updated_at = Page.objects.get(pk=sms_page.pk).provider_updated_at
    message_status(client, "sent")  # late
    message_status(client, "queued")  # later still
    message_status(client, "delivered")  # twice
    assert state(sms_page) == ("delivered", None)
    assert Page.objects.get(pk=sms_page.pk).provider_updated_at == updated_at


@pytest.mark.django_db
def test_call_states_out_of_order_keep_the_newest_by_sequence_number(client, call_page):
    call_status(client, "initiated", 0)
    call_status(client, "completed", 3, "Sun, 29 Nov 2026 21:21:30 +0000")
    call_status(client, "ringing", 1)
    call_status(client, "in-progress", 2)
    call_status(client, "completed", 3)
    assert state(call_page) == ("completed", 3)
    assert Page.objects.get(pk=call_page.pk).provider_updated_at == dt.datetime(2026, 11, 29, 21, 21, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_a_callback_for_something_we_did_not_send_changes_nothing(client, sms_page):
    params = payload("message_status", MessageSid="SM" + "9" * 32, MessageStatus="delivered")
    assert twilio_post(client, "/hotline/status/", params).status_code == 204
    assert state(sms_page) == ("", None)


@pytest.mark.django_db
@pytest.mark.parametrize("signature", ["", "forged", "other-host"])
def test_an_unsigned_or_misdirected_status_callback_is_refused(client, sms_page, signature):
    params = payload("message_status")
    value = {
        "": "",
        "forged": sign(PUBLIC_URL + "/hotline/status/", params, token="not-our-token"),
        "other-host": sign("http://127.0.0.1:8000/hotline/status/", params),
    }[signature]
    response = twilio_post(client, "/hotline/status/", params, signature=value)
    assert response.status_code == 403
    assert state(sms_page) == ("", None)
    assert twilio_post(client, "/hotline/status/", params).status_code == 204  # the control: signed, it counts
    assert state(sms_page) == ("delivered", None)

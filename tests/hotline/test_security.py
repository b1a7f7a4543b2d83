"""Every Twilio webhook refuses what Twilio did not sign for our public URL (403, nothing written), and fails closed
when no auth token is configured. Each case has its control: the same request, rightly signed, does write."""

from __future__ import annotations

import logging

import pytest

from hotline.models import CallRecording, HotlineCall, InboundSms, PhonePreference
from tests.hotline.conftest import STAFF_PHONE
from tests.hotline.twilio import AUTH_TOKEN, PUBLIC_URL, payload, sign, twilio_post
from tickets.models import Attachment, Comment, Ticket, TicketEvent

DESCRIBE = "/hotline/voice/describe/?lang=en&service={service}&whole=1"
WEBHOOKS = ["voice", "menu", "recording", "sms"]


def written() -> dict[str, int]:
    return {
        "tickets": Ticket.objects.count(),
        "events": TicketEvent.objects.count(),
        "comments": Comment.objects.count(),
        "attachments": Attachment.objects.count(),
        "calls": HotlineCall.objects.count(),
        "recordings": CallRecording.objects.count(),
        "sms": InboundSms.objects.count(),
        "preferences": PhonePreference.objects.count(),
    }


NOTHING = dict.fromkeys(
    ["tickets", "events", "comments", "attachments", "calls", "recordings", "sms", "preferences"], 0
)


@pytest.fixture
def webhooks(caller, service):
    """(path, params) of a request to each webhook that writes to the database when it is rightly signed."""
    return {
        "voice": (DESCRIBE.format(service=service.pk), payload("gather_speech", From=STAFF_PHONE)),
        "menu": ("/hotline/voice/menu/?lang=en", payload("gather_digits", From=STAFF_PHONE, Digits="9")),
        "recording": ("/hotline/recording/", payload("recording_status", CallSid="CA" + "7" * 32)),
        "sms": ("/hotline/sms/", payload("sms_incoming", From=STAFF_PHONE, Body="STOP")),
    }


def refused(response) -> bool:
    return response.status_code == 403 and b"<Response" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("name", WEBHOOKS)
def test_no_signature_is_refused_and_writes_nothing(client, webhooks, name):
    path, params = webhooks[name]
    assert refused(twilio_post(client, path, params, signature=""))
    assert written() == NOTHING


@pytest.mark.django_db
@pytest.mark.parametrize("name", WEBHOOKS)
def test_a_signature_made_with_another_token_is_refused(client, webhooks, name):
    path, params = webhooks[name]
    forged = sign(PUBLIC_URL + path, params, token="not-our-token")
    assert refused(twilio_post(client, path, params, signature=forged))
    assert written() == NOTHING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signed_as",
    ["http://127.0.0.1:8000{path}", "https://evil.example{path}", f"{PUBLIC_URL}/hotline/voice/goodbye/"],
)
@pytest.mark.parametrize("name", WEBHOOKS)
def test_a_signature_for_another_url_or_host_is_refused(client, webhooks, name, signed_as):
    path, params = webhooks[name]
    assert refused(twilio_post(client, path, params, signed_as=signed_as.format(path=path)))
    assert written() == NOTHING


@pytest.mark.django_db
@pytest.mark.parametrize("name", WEBHOOKS)
def test_a_changed_parameter_breaks_the_signature(client, webhooks, name):
    path, params = webhooks[name]
    signature = sign(PUBLIC_URL + path, params)
    assert refused(twilio_post(client, path, {**params, "From": "+97455000999"}, signature=signature))
    assert written() == NOTHING


@pytest.mark.django_db
@pytest.mark.parametrize("name", WEBHOOKS)
def test_without_an_auth_token_every_webhook_fails_closed(client, webhooks, name, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    path, params = webhooks[name]
    for token in (AUTH_TOKEN, ""):
        signature = sign(PUBLIC_URL + path, params, token=token)
        assert refused(twilio_post(client, path, params, signature=signature))
    assert written() == NOTHING


@pytest.mark.django_db
def test_the_controls_write_when_rightly_signed(client, webhooks, media):
    path, params = webhooks["voice"]
    assert twilio_post(client, path, params).status_code == 200
    assert Ticket.objects.count() == 1
    path, params = webhooks["menu"]
    assert twilio_post(client, path, params).status_code == 200
    assert PhonePreference.objects.count() == 1
    path, params = webhooks["recording"]
    assert twilio_post(client, path, params).status_code == 204
    assert CallRecording.objects.count() == 1
    path, params = webhooks["sms"]
    assert twilio_post(client, path, params).status_code == 200
    assert InboundSms.objects.count() == 1
    assert PhonePreference.objects.get(phone=STAFF_PHONE).sms_opt_out


@pytest.mark.django_db
def test_the_query_string_is_part_of_what_is_signed(client, webhooks):
    path, params = webhooks["voice"]
    signature = sign(PUBLIC_URL + path, params)
    tampered = path.replace("whole=1", "whole=0")
    assert refused(twilio_post(client, tampered, params, signature=signature))
    assert written() == NOTHING


@pytest.mark.django_db
def test_a_get_is_not_allowed(client, webhooks):
    path, params = webhooks["voice"]
    response = client.get(path, params, headers={"X-Twilio-Signature": sign(PUBLIC_URL + path, params)})
    assert response.status_code == 405
    assert written() == NOTHING


@pytest.mark.django_db
def test_a_refused_request_logs_the_number_masked(client, webhooks, caplog):
    path, params = webhooks["voice"]
    with caplog.at_level(logging.WARNING, logger="hotline.security"):
        twilio_post(client, path, params, signature="")
    assert "+974******56" in caplog.text
    assert STAFF_PHONE not in caplog.text

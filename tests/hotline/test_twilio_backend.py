"""The Twilio phone backend with an HTTP client injected into twilio's own Client: the exact Messages and Calls API
requests, one immediate retry on a 5xx, no retry of what Twilio refused, nothing sent twice."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from hotline.backends import OutboundMessage, PhoneSendError, TwilioBackend, phone_backend
from tests.hotline.twilio import (
    ACCOUNT_SID,
    API,
    AUTH_TOKEN,
    HOTLINE_NUMBER,
    PUBLIC_URL,
    TECH_MOBILE,
    FakeTwilioHttp,
    call_resource,
    message_resource,
)

SERVER_ERROR = (503, {"code": 20503, "message": "Service unavailable", "status": 503})
INVALID_NUMBER = (400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400})

SMS_PAGE = OutboundMessage(
    channel="sms", to=TECH_MOBILE, body="HD-100042 P1 critical, Government Network: link down\nReply ACK 100042",
    language="en", reference="HD-100042", page_id=7,
)
VOICE_PAGE = OutboundMessage(
    channel="voice", to=TECH_MOBILE, body="HD-100042", language="ar", reference="HD-100042", page_id=7
)


@pytest.mark.django_db
def test_an_sms_is_one_messages_api_request_with_our_status_callback():
    http = FakeTwilioHttp([(201, message_resource())])
    result = TwilioBackend(http_client=http).send(SMS_PAGE)

    assert result.provider_id == "SM" + "a" * 32
    [request] = http.requests
    assert (request.method, request.url) == ("POST", f"{API}/Messages.json")
    assert request.data == {
        "To": TECH_MOBILE,
        "From": HOTLINE_NUMBER,
        "Body": SMS_PAGE.body,
        "StatusCallback": f"{PUBLIC_URL}/hotline/status/",
    }
    assert request.auth == (ACCOUNT_SID, AUTH_TOKEN)


@pytest.mark.django_db
def test_a_voice_page_is_one_calls_api_request_with_our_script_url_and_machine_detection():
    http = FakeTwilioHttp([(201, call_resource())])
    result = TwilioBackend(http_client=http).send(VOICE_PAGE)

    assert result.provider_id == "CA" + "b" * 32
    [request] = http.requests
    assert (request.method, request.url) == ("POST", f"{API}/Calls.json")
    assert request.data["To"] == TECH_MOBILE
    assert request.data["From"] == HOTLINE_NUMBER
    assert request.data["Url"] == f"{PUBLIC_URL}/hotline/voice/page/7/"
    assert request.data["Method"] == "POST"
    assert request.data["MachineDetection"] == "Enable"
    assert request.data["StatusCallback"] == f"{PUBLIC_URL}/hotline/status/"
    assert request.data["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert "HD-100042" not in json.dumps(request.data["Url"])  # no ticket text in a URL


@pytest.mark.django_db
def test_an_api_key_pair_is_used_when_configured(settings):
    settings.TWILIO_API_KEY_SID = "SK" + "c" * 32
    settings.TWILIO_API_KEY_SECRET = "key-secret"
    http = FakeTwilioHttp([(201, message_resource())])
    TwilioBackend(http_client=http).send(SMS_PAGE)
    [request] = http.requests
    assert request.url == f"{API}/Messages.json"
    assert request.auth == ("SK" + "c" * 32, "key-secret")


@pytest.mark.django_db
def test_a_5xx_is_retried_once_at_once_and_then_succeeds():
    http = FakeTwilioHttp([SERVER_ERROR, (201, message_resource())])
    assert TwilioBackend(http_client=http).send(SMS_PAGE).provider_id == "SM" + "a" * 32
    assert [request.url for request in http.requests] == [f"{API}/Messages.json"] * 2


@pytest.mark.django_db
def test_two_5xx_leave_it_to_the_outbox_as_retryable():
    http = FakeTwilioHttp([SERVER_ERROR, SERVER_ERROR])
    with pytest.raises(PhoneSendError) as failure:
        TwilioBackend(http_client=http).send(VOICE_PAGE)
    assert failure.value.retryable
    assert len(http.requests) == 2


@pytest.mark.django_db
def test_a_4xx_is_not_retried_and_not_retryable():
    http = FakeTwilioHttp([INVALID_NUMBER])
    with pytest.raises(PhoneSendError) as failure:
        TwilioBackend(http_client=http).send(SMS_PAGE)
    assert not failure.value.retryable
    assert "21211" in str(failure.value)
    assert len(http.requests) == 1


@pytest.mark.django_db
def test_twilio_refusing_a_number_that_sent_stop_is_final():
    opted_out = (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400})
    http = FakeTwilioHttp([opted_out])
    with pytest.raises(PhoneSendError) as failure:
        TwilioBackend(http_client=http).send(SMS_PAGE)
    assert not failure.value.retryable
    assert "21610" in str(failure.value)
    assert len(http.requests) == 1


@pytest.mark.django_db
def test_missing_credentials_fail_without_a_request(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    http = FakeTwilioHttp([])
    with pytest.raises(PhoneSendError) as failure:
        TwilioBackend(http_client=http).send(SMS_PAGE)
    assert not failure.value.retryable
    assert http.requests == []


def test_helpdesk_phone_backend_twilio_selects_this_backend():
    from helpdesk import settings as project_settings

    assert project_settings._PHONE_BACKENDS["twilio"] == "hotline.backends.TwilioBackend"
    with override_settings(HELPDESK_PHONE_BACKEND=project_settings._PHONE_BACKENDS["twilio"]):
        assert isinstance(phone_backend(), TwilioBackend)

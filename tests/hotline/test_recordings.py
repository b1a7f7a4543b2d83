"""The recording of a call: fetched from Twilio with the account's credentials when its callback arrives, stored as
an access-checked attachment of the call's ticket, once, however often the callback comes."""

from __future__ import annotations

import base64

import pytest
import requests

from hotline import twilio_api
from hotline.models import CallRecording, HotlineCall
from tests.hotline.conftest import AUDIO, STAFF_PHONE, FakeTwilioMedia
from tests.hotline.twilio import ACCOUNT_SID, AUTH_TOKEN, Call, payload, twilio_post
from tickets.models import Attachment, Comment, Ticket, TicketEvent

RECORDING_SID = "RE3c1b5d0e2f4a6b8c9d7e5f3a1b2c4d6e"


def phone_ticket(client) -> Ticket:
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "1", "1", "1")
    call.speak("The government network is down.")
    return Ticket.objects.get()


@pytest.mark.django_db
def test_the_recording_is_fetched_with_the_account_credentials_and_attached_to_the_ticket(
    client, caller, catalogue, media, staff
):
    ticket = phone_ticket(client)

    response = twilio_post(client, "/hotline/recording/", payload("recording_status"))

    assert response.status_code == 204
    [request] = media.requests
    assert request.url == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RECORDING_SID}.mp3"
    )
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.name == f"call-{RECORDING_SID}.mp3"
    assert attachment.file.read() == AUDIO
    comment = Comment.objects.get(ticket=ticket)
    assert comment.body == "Recording of the call (14 s)."
    assert not comment.internal
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert event.kind == TicketEvent.Kind.COMMENTED and event.after["attachments"] == [attachment.name]
    assert CallRecording.objects.get().attachment == attachment

    client.force_login(staff)
    download = client.get(f"/tickets/{ticket.number}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == AUDIO


@pytest.mark.django_db
def test_the_same_recording_callback_twice_attaches_one_recording(client, caller, catalogue, media):
    ticket = phone_ticket(client)
    for _attempt in range(2):
        assert twilio_post(client, "/hotline/recording/", payload("recording_status")).status_code == 204
    assert Attachment.objects.filter(ticket=ticket).count() == 1
    assert len(media.requests) == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.COMMENTED).count() == 1


@pytest.mark.django_db
def test_another_agency_cannot_download_the_recording(client, caller, catalogue, media, other_staff):
    ticket = phone_ticket(client)
    twilio_post(client, "/hotline/recording/", payload("recording_status"))
    attachment = Attachment.objects.get(ticket=ticket)
    client.force_login(other_staff)
    assert client.get(f"/tickets/{ticket.number}/attachments/{attachment.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_recording_of_a_call_without_a_ticket_is_kept_with_its_audio_for_the_duty_manager(client, media):
    other_call = payload("recording_status", CallSid="CA00000000000000000000000000000099")
    assert twilio_post(client, "/hotline/recording/", other_call).status_code == 204
    recording = CallRecording.objects.get()
    assert recording.attachment is None and recording.seconds == 14
    assert recording.audio.read() == AUDIO
    assert HotlineCall.objects.get().ticket is None
    assert not Attachment.objects.exists()


@pytest.mark.django_db
def test_a_recording_whose_callback_comes_before_the_ticket_is_attached_when_the_call_opens_it(
    client, caller, catalogue, media, staff, django_capture_on_commit_callbacks
):
    # A voicemail's recording callback can race the voicemail's own action, which opens the ticket.
    assert twilio_post(client, "/hotline/recording/", payload("recording_status")).status_code == 204
    waiting = CallRecording.objects.get()
    waiting_file = waiting.audio.name
    assert waiting.audio.storage.exists(waiting_file)

    with django_capture_on_commit_callbacks(execute=True):
        ticket = phone_ticket(client)

    attachment = Attachment.objects.get(ticket=ticket)
    assert attachment.file.read() == AUDIO
    assert Comment.objects.get(ticket=ticket).body == "Recording of the call (14 s)."
    recording = CallRecording.objects.get()
    assert recording.attachment == attachment and not recording.audio
    assert not waiting.audio.storage.exists(waiting_file)
    client.force_login(staff)
    page = client.get(f"/tickets/{ticket.number}/")
    assert attachment.name in page.content.decode()
    # A retried callback after that changes nothing.
    assert twilio_post(client, "/hotline/recording/", payload("recording_status")).status_code == 204
    assert Attachment.objects.filter(ticket=ticket).count() == 1 and len(media.requests) == 1


@pytest.mark.django_db
def test_a_recording_twilio_cannot_serve_yet_is_left_for_a_retry(client, caller, catalogue, monkeypatch):
    failing = FakeTwilioMedia(status=404)
    session = requests.Session()
    session.mount("https://", failing)
    monkeypatch.setattr(twilio_api, "_session", session)
    ticket = phone_ticket(client)

    assert twilio_post(client, "/hotline/recording/", payload("recording_status")).status_code == 503
    assert CallRecording.objects.count() == 0

    failing.status = 200
    assert twilio_post(client, "/hotline/recording/", payload("recording_status")).status_code == 204
    assert Attachment.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_a_recording_still_in_progress_changes_nothing(client, caller, catalogue, media):
    phone_ticket(client)
    params = payload("recording_status", RecordingStatus="in-progress")
    assert twilio_post(client, "/hotline/recording/", params).status_code == 204
    assert CallRecording.objects.count() == 0 and media.requests == []

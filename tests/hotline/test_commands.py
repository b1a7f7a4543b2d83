"""`hotline_call` and `hotline_sms` against a live server: each request signed as Twilio signs it, the caller's side
printed. A ticket opened by phone in Arabic and in English, its number read back, then its status by voice and SMS."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.hotline.conftest import STAFF_PHONE
from tickets.models import Channel, Ticket


@pytest.fixture
def server(live_server, settings):
    settings.HELPDESK_PUBLIC_URL = live_server.url
    return live_server.url


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def number_heard(output: str) -> int:
    found = re.search(r"((?:\d ){5,}\d)", output)
    assert found, output
    return int(found.group(1).replace(" ", ""))


@pytest.mark.django_db(transaction=True)
def test_hotline_call_opens_a_ticket_in_arabic_reads_the_number_and_tells_its_status(server, caller, catalogue):
    opened = run(
        "hotline_call", "--from", STAFF_PHONE, "--press", "1,1,2,1,1", "--say", "الشبكة الحكومية متوقفة في المبنى"
    )
    assert "[Polly.Zeina arb] للإبلاغ عن مشكلة، اضغط 1." in opened
    assert "> the caller presses 2" in opened
    assert '> the caller says: "الشبكة الحكومية متوقفة في المبنى"' in opened
    assert "(the call's recording starts)" in opened
    assert opened.count("رقم تذكرتك هو") == 2  # read, then repeated on request
    assert "(the call ends)" in opened
    ticket = Ticket.objects.get()
    assert ticket.number == number_heard(opened)
    assert ticket.channel == Channel.PHONE and ticket.requester == caller

    status = run("hotline_call", "--from", STAFF_PHONE, "--press", f"2,{ticket.number}")
    assert "الحالة: جديدة." in status
    assert "الشبكة الحكومية" in status


@pytest.mark.django_db(transaction=True)
def test_hotline_call_in_english_and_hotline_sms_status(server, caller, catalogue):
    speech = "Teams meetings drop after a minute"
    opened = run("hotline_call", "--from", STAFF_PHONE, "--press", "2,1,3,2", "--say", speech)
    assert "[Polly.Joanna en-US] Your ticket number is" in opened
    ticket = Ticket.objects.get()
    assert ticket.service.code == "office-365"

    reply = run("hotline_sms", "--from", STAFF_PHONE, f"STATUS {ticket.number}")
    assert f"Reply: HD-{ticket.number}, Office 365: New." in reply


@pytest.mark.django_db(transaction=True)
def test_hotline_call_shows_the_goodbye_after_silence(server, caller):
    output = run("hotline_call", "--from", STAFF_PHONE, "--press", "2")
    assert output.count("> (no key)") == 3
    assert "Thank you for calling the government IT helpdesk. Goodbye." in output


@pytest.mark.django_db(transaction=True)
def test_the_commands_refuse_to_run_without_a_token(server, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    with pytest.raises(CommandError, match="TWILIO_AUTH_TOKEN"):
        run("hotline_sms", "--from", STAFF_PHONE, "STATUS 1")

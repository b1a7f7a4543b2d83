"""SMS to the hotline: STATUS for agency staff (their agency's tickets only) and technicians, ACK for technicians
through the console's acknowledge service, STOP and START, help for anything else, in the sender's language, once
per MessageSid."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from escalation.models import ContactProfile
from hotline.models import InboundSms, PhonePreference
from hotline.sms import ACK, HELP, START, STATUS, STOP, SmsCommand, sms_parse
from tests.hotline.conftest import STAFF_PHONE
from tests.hotline.twilio import payload, twilio_post
from tickets.models import Channel, Status, TicketEvent

TECH_MOBILE = "+97455876543"


def sms(client, body: str, *, phone: str = STAFF_PHONE, sid: str = "SM7d3e1f5a9b2c4d6e8f0a1b3c5d7e9f2a") -> list[str]:
    response = twilio_post(client, "/hotline/sms/", payload("sms_incoming", From=phone, Body=body, MessageSid=sid))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return [message.text or "" for message in root.iter("Message")]


@pytest.fixture
def on_call(technician):
    technician.first_name, technician.last_name = "Ahmed", "Al-Marri"
    technician.save()
    ContactProfile.objects.create(user=technician, mobile=TECH_MOBILE, language="ar")
    return technician


@pytest.mark.parametrize(
    ("body", "command"),
    [
        ("STATUS 104233", SmsCommand(STATUS, 104233)),
        ("status hd-104233", SmsCommand(STATUS, 104233)),
        ("  Status HD104233. ", SmsCommand(STATUS, 104233)),
        ("حالة ١٠٤٢٣٣", SmsCommand(STATUS, 104233)),
        ("ACK 104233", SmsCommand(ACK, 104233)),
        ("تأكيد 104233", SmsCommand(ACK, 104233)),
        ("STOP", SmsCommand(STOP)),
        ("unsubscribe", SmsCommand(STOP)),
        ("إيقاف", SmsCommand(STOP)),
        ("START", SmsCommand(START)),
        ("STATUS", SmsCommand(HELP)),
        ("ACK", SmsCommand(HELP)),
        ("STOP 12", SmsCommand(HELP)),
        ("hello, is anyone there?", SmsCommand(HELP)),
        ("", SmsCommand(HELP)),
    ],
)
def test_commands_are_understood_in_english_and_arabic(body, command):
    assert sms_parse(body) == command


@pytest.mark.django_db
def test_status_of_an_own_agency_ticket_in_english(client, caller, make_ticket):
    ticket = make_ticket()
    [reply] = sms(client, f"STATUS {ticket.number}")
    assert reply.startswith(f"HD-{ticket.number}, Government Network: New. Waiting for a technician.")
    assert "Resolution due" in reply
    assert "Latest: Aisha Al-Mohannadi opened the ticket via Web." in reply


@pytest.mark.django_db
def test_status_in_arabic_is_answered_in_arabic(client, caller, make_ticket):
    ticket = make_ticket()
    digits = str(ticket.number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    [reply] = sms(client, f"حالة {digits}")
    assert reply.startswith(f"HD-{ticket.number}، الشبكة الحكومية: جديدة.")


@pytest.mark.django_db
def test_another_agencys_ticket_is_not_found_by_sms(client, caller, other_staff, service):
    from tickets.services import ticket_open

    foreign = ticket_open(service=service, subject="Their outage", impact=2, urgency=2, requester=other_staff)
    [reply] = sms(client, f"STATUS {foreign.number}")
    assert reply == f"No ticket HD-{foreign.number} was found for your agency."
    [missing] = sms(client, "STATUS 999999", sid="SM" + "1" * 32)
    assert missing == "No ticket HD-999999 was found for your agency."


@pytest.mark.django_db
def test_an_unknown_number_hears_nothing_about_tickets(client, make_ticket):
    ticket = make_ticket()
    [reply] = sms(client, f"STATUS {ticket.number}", phone="+97433998877")
    assert "not on file" in reply and str(ticket.number) not in reply


@pytest.mark.django_db
def test_a_technician_acknowledges_by_sms_once_and_in_their_language(client, on_call, make_ticket):
    ticket = make_ticket()
    [reply] = sms(client, f"ACK {ticket.number}", phone=TECH_MOBILE)
    assert reply == f"تم تأكيد استلام HD-{ticket.number}. شكرًا لك."
    ticket.refresh_from_db()
    assert ticket.status == Status.ACKNOWLEDGED
    event = TicketEvent.objects.filter(ticket=ticket).latest("id")
    assert (event.kind, event.channel, event.actor) == (TicketEvent.Kind.ACKNOWLEDGED, Channel.SMS, on_call)

    [again] = sms(client, f"ACK {ticket.number}", phone=TECH_MOBILE)  # the same MessageSid: Twilio retried
    assert again == reply
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ACKNOWLEDGED).count() == 1
    assert InboundSms.objects.count() == 1

    [second] = sms(client, f"ACK {ticket.number}", phone=TECH_MOBILE, sid="SM" + "2" * 32)
    assert second.startswith(f"لم يتم تأكيد استلام HD-{ticket.number}:")
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.ACKNOWLEDGED).count() == 1


@pytest.mark.django_db
def test_a_technician_may_ask_the_status_of_any_agencys_ticket(client, on_call, make_ticket):
    ticket = make_ticket()
    [reply] = sms(client, f"STATUS {ticket.number}", phone=TECH_MOBILE)
    assert reply.startswith(f"HD-{ticket.number}، الشبكة الحكومية")


@pytest.mark.django_db
def test_agency_staff_cannot_acknowledge(client, caller, make_ticket):
    ticket = make_ticket()
    [reply] = sms(client, f"ACK {ticket.number}")
    assert reply == "Only on-call technicians can acknowledge by SMS."
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


@pytest.mark.django_db
def test_stop_and_start_are_honoured(client, caller):
    [stopped] = sms(client, "STOP")
    assert "no more SMS" in stopped
    assert PhonePreference.objects.get(phone=STAFF_PHONE).sms_opt_out
    [started] = sms(client, "START", sid="SM" + "3" * 32)
    assert "again" in started
    assert not PhonePreference.objects.get(phone=STAFF_PHONE).sms_opt_out


@pytest.mark.django_db
def test_anything_else_gets_the_help_text(client, caller):
    [reply] = sms(client, "hello?")
    assert "STATUS" in reply and "ACK" in reply and "STOP" in reply
    [arabic] = sms(client, "مرحبا", sid="SM" + "4" * 32)
    assert "STATUS" in arabic and "أرسل" in arabic


@pytest.mark.django_db
def test_too_many_sms_from_one_number_get_no_reply_and_nothing_is_written(client, caller, settings):
    settings.HELPDESK_HOTLINE_RATE_LIMITS = {**settings.HELPDESK_HOTLINE_RATE_LIMITS, "sms": (1, 600)}
    assert sms(client, "hello?") != []
    assert sms(client, "hello?", sid="SM" + "5" * 32) == []
    assert InboundSms.objects.count() == 1


@pytest.mark.django_db
def test_an_internal_error_gets_an_apology_not_a_500(client, caller, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("hotline.views.sms_receive", broken)
    assert sms(client, "STATUS 1") == ["We are sorry, something went wrong on our side."]

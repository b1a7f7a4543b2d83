"""Every path of the voice IVR, in Arabic and in English, driven with signed requests as Twilio sends them; the
TwiML is parsed and its verbs, prompts, voices, languages and action URLs checked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from escalation.models import Page
from escalation.outbox import outbox_deliver_due
from hotline.backends import LocmemBackend
from hotline.models import HotlineCall, PhonePreference
from tests.hotline.conftest import STAFF_PHONE
from tests.hotline.twilio import PUBLIC_URL, Call, heard, parse, payload, says, twilio_post, verbs
from tickets.models import Channel, Priority, Ticket, TicketEvent
from tickets.services import ticket_claim

ZEINA = ("Polly.Zeina", "arb")
JOANNA = ("Polly.Joanna", "en-US")
NOW = dt.datetime(2026, 11, 29, 21, 10, tzinfo=dt.UTC)


def voices_of(root) -> set[tuple[str, str]]:
    return {(said.voice, said.language) for said in says(root)}


def step_of(url: str) -> str:
    match = re.match(rf"^{re.escape(PUBLIC_URL)}/hotline/voice/([a-z]+)/", url)
    assert match, url
    return match.group(1)


@pytest.mark.django_db
def test_a_new_caller_is_greeted_in_both_languages_and_chooses_one(client, caller):
    call = Call(client, STAFF_PHONE)
    root = call.start()

    assert verbs(root) == ["Gather", "Redirect"]
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("input") == "dtmf"
    assert step_of(gather.get("action")) == "language"
    arabic, english = says(root)
    assert (arabic.voice, arabic.language) == ZEINA
    assert "للغة العربية" in arabic.text and "1" in arabic.text
    assert (english.voice, english.language) == JOANNA
    assert english.text == "Welcome to the government IT helpdesk. For English, press 2."


def open_by_phone(call: Call, *, language_key: str, whole: str, speech: str):
    """Walk menu 1 from the start of the call to the ticket's number."""
    call.start()
    call.press(language_key)
    call.press("1")  # report a problem
    call.press("2")  # the second service: Government Network
    call.press(whole)
    return call.speak(speech)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_arabic_caller_reports_a_whole_agency_outage_and_hears_the_number(
    client, caller, catalogue, agency
):
    call = Call(client, STAFF_PHONE)
    call.start()
    menu = call.press("1")

    assert verbs(menu) == ["Gather", "Redirect"]
    assert step_of(call.action()) == "menu"
    assert "lang=ar" in call.action()
    assert "وزارة الصحة العامة" in heard(menu)
    assert "للإبلاغ عن مشكلة، اضغط 1" in heard(menu)
    assert voices_of(menu) == {ZEINA, JOANNA}  # "For English, press 9." is said in English
    assert says(menu)[-1].text == "For English, press 9."

    services = call.press("1")
    assert step_of(call.action()) == "service"
    assert services.find("Gather").get("finishOnKey") == "#"
    spoken = heard(services)
    assert spoken.index("السحابة الحكومية") < spoken.index("الشبكة الحكومية") < spoken.index("أوفيس 365")
    assert voices_of(services) == {ZEINA}

    whole = call.press("2")
    assert "هل الخدمة متوقفة عن الجهة بأكملها" in heard(whole)
    assert step_of(call.action()) == "whole"

    describe = call.press("1")
    assert verbs(describe) == ["Start", "Gather", "Redirect"]
    recording = describe.find("Start/Recording")
    assert recording.get("recordingStatusCallback") == f"{PUBLIC_URL}/hotline/recording/"
    assert recording.get("track") == "inbound"
    gather = describe.find("Gather")
    assert gather.get("input") == "speech"
    assert gather.get("language") == "ar-QA"
    assert step_of(gather.get("action")) == "describe"

    opened = call.speak("الشبكة الحكومية متوقفة في المبنى الرئيسي منذ الساعة الثامنة")

    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.PHONE
    assert ticket.agency == agency
    assert ticket.requester == caller
    assert ticket.service.code == "gov-network"
    assert ticket.priority == Priority.P1
    assert ticket.subject == "الشبكة الحكومية متوقفة في المبنى الرئيسي منذ الساعة الثامنة"
    assert ticket.caller_phone == STAFF_PHONE
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.channel, event.actor) == (TicketEvent.Kind.OPENED, Channel.PHONE, caller)

    assert verbs(opened) == ["Stop", "Gather", "Redirect"]
    assert opened.find("Stop/Recording").get("name") == "description"
    digits = " ".join(str(ticket.number))
    assert f"رقم تذكرتك هو {digits}" in heard(opened)
    assert "أرسلنا إليك هذا الرقم أيضًا في رسالة نصية" in heard(opened)
    assert voices_of(opened) == {ZEINA}
    page = Page.objects.get(ticket=ticket)
    assert (page.channel, page.to, page.language, page.state) == ("sms", STAFF_PHONE, "ar", Page.State.PENDING)
    assert outbox_deliver_due(now=NOW) == 1  # the worker sends it
    [sms] = LocmemBackend.sent
    assert (sms.channel, sms.to, sms.language, sms.reference) == ("sms", STAFF_PHONE, "ar", ticket.reference)
    assert ticket.reference in sms.body and f"STATUS {ticket.number}" in sms.body

    again = call.press("1")
    assert f"رقم تذكرتك هو {digits}" in heard(again)
    goodbye = call.silence()
    assert verbs(goodbye) == ["Say", "Hangup"]
    assert PhonePreference.objects.get(phone=STAFF_PHONE).language == "ar"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_english_caller_reports_a_problem_of_some_people_at_a_lower_priority(
    client, caller, catalogue
):
    call = Call(client, STAFF_PHONE)
    opened = open_by_phone(call, language_key="2", whole="2", speech="Outlook does not open on two laptops.")

    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.P3
    assert ticket.description == "Outlook does not open on two laptops."
    assert voices_of(opened) == {JOANNA}
    assert f"Your ticket number is {' '.join(str(ticket.number))}." in heard(opened)
    outbox_deliver_due(now=NOW)
    assert LocmemBackend.sent[0].language == "en"
    assert PhonePreference.objects.get(phone=STAFF_PHONE).language == "en"


@pytest.mark.django_db
def test_the_speech_gather_listens_in_english_for_an_english_caller(client, caller, catalogue):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "1", "1")
    describe = call.press("2")
    assert describe.find("Gather").get("language") == "en-US"
    assert "describe the problem" in heard(describe)


@pytest.mark.django_db
def test_a_caller_is_greeted_in_the_language_they_chose_last_time(client, caller, catalogue):
    PhonePreference.objects.create(phone=STAFF_PHONE, language="en", updated_at=NOW)
    root = Call(client, STAFF_PHONE).start()
    assert heard(root).startswith("Welcome to the government IT helpdesk. You are calling for Ministry of Public")
    assert "lang=en" in root.find("Gather").get("action")
    assert step_of(root.find("Gather").get("action")) == "menu"


@pytest.mark.django_db
def test_nine_switches_the_language_of_the_menu(client, caller, catalogue):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.press("2")
    arabic = call.press("9")
    assert "للإبلاغ عن مشكلة، اضغط 1" in heard(arabic)
    assert says(arabic)[-1].text == "For English, press 9."
    assert PhonePreference.objects.get(phone=STAFF_PHONE).language == "ar"


@pytest.mark.django_db
def test_a_retried_describe_webhook_opens_one_ticket(client, caller, catalogue):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "1", "2", "1")
    action = call.action()
    first = call.speak("The network is down.")
    second = parse(
        twilio_post(client, action, payload("gather_speech", From=STAFF_PHONE, SpeechResult="The network is down."))
    )
    ticket = Ticket.objects.get()
    assert HotlineCall.objects.get().ticket == ticket
    assert TicketEvent.objects.count() == 1
    number = " ".join(str(ticket.number))
    assert number in heard(first) and number in heard(second)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_status_of_an_own_agency_ticket_is_read_back_in_english(client, caller, make_ticket, technician):
    technician.first_name, technician.last_name = "Ahmed", "Al-Marri"
    technician.save()
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    call = Call(client, STAFF_PHONE)
    call.start()
    call.press("2")
    ask = call.press("2")
    assert "key the ticket number" in heard(ask)
    assert ask.find("Gather").get("finishOnKey") == "#"

    told = call.press(str(ticket.number))
    text = heard(told)
    assert f"Ticket {' '.join(str(ticket.number))}, Government Network." in text
    assert "Status: In progress." in text
    assert "Ahmed Al-Marri is working on it." in text
    assert "A resolution is due by" in text
    assert "Latest: Ahmed Al-Marri took the ticket." in text
    assert step_of(call.action()) == "more"

    again = call.press("1")
    assert "Status: In progress." in heard(again)
    menu = call.press("0")
    assert "To report a problem, press 1." in heard(menu)


@pytest.mark.django_db
def test_status_in_arabic_of_a_new_ticket_says_it_waits_for_a_technician(client, caller, make_ticket):
    ticket = make_ticket()
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("1", "2")
    text = heard(call.press(str(ticket.number)))
    assert "الحالة: جديدة." in text
    assert "وهي بانتظار أحد الفنيين." in text
    assert "الشبكة الحكومية" in text
    assert "آخر مستجد: فتح Aisha Al-Mohannadi التذكرة عبر الموقع الإلكتروني." in text


@pytest.mark.django_db
def test_another_agencys_ticket_is_not_found_by_voice(client, caller, other_staff, service):
    from tickets.services import ticket_open

    foreign = ticket_open(service=service, subject="Their outage", impact=2, urgency=2, requester=other_staff)
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "2")
    for number in (foreign.number, 999999):
        root = call.press(str(number))
        assert "We found no ticket with that number for your agency." in heard(root)
        assert "Their outage" not in heard(root) and "Government Network" not in heard(root)
        assert step_of(call.action()) == "status"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "calling_from"),
    [
        ("+974 5512 3456", "+97455123456"),
        ("0097455123456", "+97455123456"),
        ("55123456", "+97455123456"),
        ("+97455123456", "+97455123456"),
    ],
)
def test_agency_staff_are_recognised_by_caller_id_whatever_the_stored_format(client, staff, stored, calling_from):
    from tickets.models import AgencyMembership

    AgencyMembership.objects.filter(user=staff).update(phone=stored)
    PhonePreference.objects.create(phone=calling_from, language="en", updated_at=NOW)
    root = Call(client, calling_from).start()
    assert "You are calling for Ministry of Public Health." in heard(root)


@pytest.mark.django_db
def test_an_unknown_caller_with_the_right_code_and_pin_reaches_the_menu_of_their_agency(client, pin_agency):
    call = Call(client, "+97433998877")
    call.start()
    code = call.press("2")
    assert "hotline code" in heard(code)
    assert step_of(call.action()) == "code"
    pin = call.press("4321")
    assert "key your PIN" in heard(pin)
    menu = call.press("2468")
    assert "You are calling for Ministry of Municipality." in heard(menu)
    assert f"agency={pin_agency.pk}" in call.action()


@pytest.mark.django_db
def test_an_unknown_caller_with_a_wrong_pin_three_times_is_hung_up_on_and_nothing_is_written(
    client, pin_agency, service
):
    call = Call(client, "+97433998877")
    call.start()
    call.press("2")
    for _attempt in range(2):
        call.press("4321")
        wrong = call.press("1111")
        assert "That code or PIN is not right." in heard(wrong)
        assert step_of(call.action()) == "code"
    call.press("4321")
    last = call.press("1111")
    assert verbs(last)[-1] == "Hangup"
    assert last.find("Gather") is None
    assert "We could not confirm your agency." in heard(last)
    assert HotlineCall.objects.count() == 0
    assert PhonePreference.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_agency_code_is_refused_like_a_wrong_pin(client, pin_agency):
    call = Call(client, "+97433998877")
    call.start()
    call.keys("2", "9999")
    assert "That code or PIN is not right." in heard(call.press("2468"))


@pytest.mark.django_db
def test_no_input_three_times_ends_with_a_polite_goodbye(client, caller):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.press("2")
    first = call.silence()
    assert heard(first).startswith("We did not hear a choice.")
    assert "To report a problem, press 1." in heard(first)
    wrong = call.press("7")
    assert heard(wrong).startswith("Sorry, that is not one of the choices.")
    goodbye = call.silence()
    assert verbs(goodbye) == ["Say", "Say", "Hangup"]
    assert heard(goodbye).endswith("Thank you for calling the government IT helpdesk. Goodbye.")


@pytest.mark.django_db
def test_no_choice_of_language_three_times_says_goodbye_in_both_languages(client, caller):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.silence()
    call.silence()
    goodbye = call.silence()
    assert verbs(goodbye) == ["Say", "Say", "Hangup"]
    assert [said.voice for said in says(goodbye)] == ["Polly.Zeina", "Polly.Joanna"]


@pytest.mark.django_db
def test_an_internal_error_is_an_apology_with_a_voicemail_never_a_500(client, caller, catalogue, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("hotline.voice.hotline_ticket_open", broken)
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "1", "2", "1")
    root = call.speak("Nothing works.")
    assert heard(root).startswith("We are sorry, something went wrong on our side.")
    record = root.find("Record")
    assert record is not None
    assert record.get("recordingStatusCallback") == f"{PUBLIC_URL}/hotline/recording/"
    assert verbs(root)[-1] == "Hangup"
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_a_refusal_of_the_ticket_service_is_told_in_the_callers_language(client, caller, catalogue):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("1", "1", "2", "2")
    catalogue[1].__class__.objects.filter(pk=catalogue[1].pk).update(active=False)
    root = call.speak("الشبكة متوقفة")
    assert says(root)[0].text == "هذه الخدمة غير متاحة."
    assert root.find("Record") is not None
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_too_many_calls_from_one_number_are_turned_away(client, caller, settings):
    settings.HELPDESK_HOTLINE_RATE_LIMITS = {**settings.HELPDESK_HOTLINE_RATE_LIMITS, "call": (2, 600)}
    for _attempt in range(2):
        assert verbs(Call(client, STAFF_PHONE).start()) == ["Gather", "Redirect"]
    refused = Call(client, STAFF_PHONE).start()
    assert verbs(refused) == ["Say", "Hangup"]
    assert "لقد اتصلت مرات كثيرة خلال وقت قصير" in heard(refused)
    assert verbs(Call(client, "+97455999888").start()) == ["Gather", "Redirect"]


@pytest.mark.django_db
def test_a_redis_that_fails_mid_connect_does_not_stop_the_call(client, caller, settings, monkeypatch):
    class BrokenPipeline:
        def incr(self, key):
            pass

        def expire(self, key, seconds):
            pass

        def execute(self):
            raise ValueError("I/O operation on closed file.")

    class BrokenRedis:
        def pipeline(self):
            return BrokenPipeline()

    configured = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    monkeypatch.setattr("security.ratelimit._redis", lambda url: BrokenRedis())
    root = Call(client, STAFF_PHONE).start()
    assert verbs(root) == ["Gather", "Redirect"]
    monkeypatch.undo()
    settings.REDIS_URL = configured


@pytest.mark.django_db
def test_a_database_failure_before_the_flow_still_answers_with_an_apology(client, caller, monkeypatch):
    def down(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("hotline.views.rate_allowed", down)
    root = Call(client, STAFF_PHONE).start()
    assert heard(root).startswith("نعتذر، حدث خطأ من جهتنا.")
    assert verbs(root) == ["Say", "Say", "Record", "Hangup"]


@pytest.fixture
def on_call_crew(team):
    """A primary and a secondary on call for the Government Network's team, with their mobiles on file."""
    from escalation.models import ContactProfile
    from tests.factories import rotation_of, technician_of

    primary = technician_of(team, username="primary")
    secondary = technician_of(team, username="secondary")
    ContactProfile.objects.create(user=primary, mobile="+97455000001", language="ar")
    ContactProfile.objects.create(user=secondary, mobile="+97455000002", language="en")
    rotation_of(team, [primary], layer="primary", length="daily")
    rotation_of(team, [secondary], layer="secondary", length="daily")
    return primary, secondary


def dial_target(root) -> tuple[str, str, str]:
    dial = root.find("Dial")
    assert dial is not None, verbs(root)
    return dial.find("Number").text, dial.get("callerId"), dial.get("timeout")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_urgent_call_dials_the_primary_then_the_secondary_then_opens_a_p1_with_a_voicemail(
    client, caller, catalogue, on_call_crew
):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("2", "3")
    first = call.press("2")  # Government Network
    assert heard(first) == "Connecting you to the on-call engineer. Please hold."
    assert dial_target(first) == ("+97455000001", "+97444990000", "20")
    second = call.dial_ended("no-answer")
    assert "Trying the backup engineer" in heard(second)
    assert dial_target(second) == ("+97455000002", "+97444990000", "20")
    assert Ticket.objects.count() == 0

    voicemail = call.dial_ended("busy")
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.P1
    assert ticket.channel == Channel.PHONE
    assert ticket.subject == "Urgent call: Government Network is down for Ministry of Public Health"
    assert f"urgent ticket {' '.join(str(ticket.number))}" in heard(voicemail)
    assert verbs(voicemail) == ["Say", "Say", "Record", "Hangup"]
    assert voicemail.find("Record").get("recordingStatusCallback") == f"{PUBLIC_URL}/hotline/recording/"
    assert HotlineCall.objects.get().ticket == ticket
    goodbye = call.voicemail_done()
    assert verbs(goodbye) == ["Say", "Hangup"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_urgent_call_answered_by_the_primary_opens_nothing(client, caller, catalogue, on_call_crew):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("1", "3", "2")
    answered = call.dial_ended("completed")
    assert verbs(answered) == ["Say", "Hangup"]
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_urgent_call_with_nobody_on_call_goes_straight_to_the_p1_and_voicemail(client, caller, catalogue):
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("1", "3")
    voicemail = call.press("2")
    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.P1
    assert ticket.subject == "مكالمة عاجلة: الشبكة الحكومية متوقفة لدى وزارة الصحة العامة"
    assert verbs(voicemail) == ["Say", "Say", "Record", "Hangup"]


@pytest.mark.django_db
def test_a_number_that_sent_stop_gets_no_sms_confirmation(
    client, caller, catalogue
):
    PhonePreference.objects.create(phone=STAFF_PHONE, language="en", sms_opt_out=True, updated_at=NOW)
    call = Call(client, STAFF_PHONE)
    call.start()
    call.keys("1", "2", "1")
    opened = call.speak("The network is down.")
    assert "text message" not in heard(opened)
    assert not Page.objects.exists()
    assert outbox_deliver_due(now=timezone.now()) == 0
    assert LocmemBackend.sent == []


@pytest.mark.django_db
def test_a_landline_gets_no_sms_confirmation(client, staff, catalogue):
    from tickets.models import AgencyMembership

    AgencyMembership.objects.filter(user=staff).update(phone="+97444123456")
    call = Call(client, "+97444123456")
    call.start()
    call.keys("2", "1", "2", "1")
    opened = call.speak("The network is down.")
    assert "Your ticket number is" in heard(opened)
    assert "text message" not in heard(opened)
    assert not Page.objects.exists()
    assert outbox_deliver_due(now=timezone.now()) == 0
    assert LocmemBackend.sent == []

"""The call flow alone: state + event + caller -> TwiML or an effect, without HTTP or a database."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace

from hotline import flow
from tests.hotline.twilio import heard, says, verbs

VOICES = {
    "ar": flow.Voice(voice="Polly.Zeina", language="arb", speech="ar-QA"),
    "en": flow.Voice(voice="Polly.Joanna", language="en-US", speech="en-US"),
}
AGENCY = flow.Named(id=7, name_ar="وزارة البلدية", name_en="Ministry of Municipality")
NETWORK = flow.Named(id=3, name_ar="الشبكة الحكومية", name_en="Government Network")
CLOUD = flow.Named(id=4, name_ar="السحابة الحكومية", name_en="Government Cloud")
BASE = "https://hd.example/hotline/voice/"


def context(*, agency: flow.Named | None = None, language: str = "") -> flow.Context:
    return flow.Context(
        caller=flow.Caller(phone="+97455123456", agency=agency, language=language),
        services=(CLOUD, NETWORK),
        voices=VOICES,
        voice_url=BASE,
        recording_url="https://hd.example/hotline/recording/",
        hotline_number="+97444990000",
    )


def xml(turn: flow.Turn) -> ET.Element:
    assert turn.twiml is not None and turn.effect is None
    return ET.fromstring(str(turn.twiml))


def test_unknown_caller_keys_code_then_pin_which_the_adapter_checks():
    ctx = context(language="en")
    code_prompt = xml(flow.advance(flow.State(), flow.Begin(), ctx))
    assert "hotline code" in heard(code_prompt)
    assert code_prompt.find("Gather").get("action") == f"{BASE}code/?lang=en"

    turn = flow.advance(flow.State(step="code", lang="en"), flow.Keys("4321"), ctx)
    assert turn.state.code == "4321"
    assert xml(turn).find("Gather").get("action") == f"{BASE}pin/?lang=en&code=4321"

    check = flow.advance(turn.state, flow.Keys("2468"), ctx)
    assert check.effect == flow.CheckPin(code="4321", pin="2468")

    menu = flow.advance(check.state, flow.PinChecked(agency=AGENCY), ctx)
    assert menu.state.agency == 7 and menu.state.code == ""
    assert menu.remember_language == "en"
    assert "You are calling for Ministry of Municipality." in heard(xml(menu))
    assert xml(menu).find("Gather").get("action") == f"{BASE}menu/?lang=en&agency=7"


def test_three_wrong_pins_hang_up():
    ctx = context(language="en")
    state = flow.State(step="pin", lang="en", code="4321")
    for attempt in range(1, 3):
        turn = flow.advance(state, flow.PinChecked(agency=None), ctx)
        assert "That code or PIN is not right." in heard(xml(turn))
        assert turn.state.step == "code" and turn.state.tries == attempt
        state = replace(turn.state, step="pin", code="4321")
    last = flow.advance(state, flow.PinChecked(agency=None), ctx)
    root = xml(last)
    assert verbs(root)[-1] == "Hangup"
    assert "could not confirm your agency" in heard(root)
    assert root.find("Gather") is None


def test_speech_is_asked_three_times_then_goodbye_and_a_description_opens_a_ticket():
    ctx = context(agency=AGENCY, language="ar")
    state = flow.State(step="describe", lang="ar", service=3, whole="1")
    again = flow.advance(state, flow.Spoken(""), ctx)
    assert again.state.tries == 1
    assert verbs(xml(again)) == ["Say", "Gather", "Redirect"]  # no second recording is started
    assert xml(again).find("Gather").get("language") == "ar-QA"
    last = flow.advance(replace(state, tries=2), flow.Spoken("  "), ctx)
    assert verbs(xml(last))[-1] == "Hangup"

    opening = flow.advance(state, flow.Spoken("الشبكة متوقفة"), ctx)
    assert opening.effect == flow.OpenTicket(service=3, whole_agency=True, description="الشبكة متوقفة")


def test_urgent_call_dials_primary_then_secondary_then_opens_a_p1_and_takes_a_voicemail():
    ctx = context(agency=AGENCY, language="en")
    chose = flow.advance(flow.State(step="service", lang="en", purpose="urgent"), flow.Keys("2"), ctx)
    assert chose.effect == flow.FindOnCall(service=3, layer="primary")

    dial = xml(flow.advance(chose.state, flow.OnCallFound(phone="+97455000001"), ctx))
    assert verbs(dial) == ["Say", "Dial"]
    element = dial.find("Dial")
    assert element.get("callerId") == "+97444990000"
    assert element.get("timeout") == "20"
    assert element.get("action") == f"{BASE}dialed/?lang=en&purpose=urgent&service=3&layer=primary"
    assert element.find("Number").text == "+97455000001"

    backup = flow.advance(chose.state, flow.DialEnded(answered=False), ctx)
    assert backup.effect == flow.FindOnCall(service=3, layer="secondary")
    nobody = flow.advance(backup.state, flow.OnCallFound(phone=""), ctx)
    assert nobody.effect == flow.OpenTicket(service=3, whole_agency=True, description="", urgent=True)

    voicemail = xml(flow.advance(nobody.state, flow.TicketOpened(number=100042, sms_sent=False), ctx))
    assert "urgent ticket 1 0 0 0 4 2" in heard(voicemail)
    assert verbs(voicemail) == ["Say", "Say", "Record", "Hangup"]
    record = voicemail.find("Record")
    assert record.get("recordingStatusCallback") == "https://hd.example/hotline/recording/"
    assert record.get("finishOnKey") == "#"

    answered = xml(flow.advance(chose.state, flow.DialEnded(answered=True), ctx))
    assert verbs(answered) == ["Say", "Hangup"]


def test_status_is_read_back_in_arabic_with_who_has_it_and_when_it_is_due():
    ctx = context(agency=AGENCY, language="ar")
    ask = flow.advance(flow.State(step="status", lang="ar"), flow.Keys("100042"), ctx)
    assert ask.effect == flow.ReadStatus(number=100042)
    report = flow.StatusReport(
        number=100042,
        service=NETWORK,
        status="in_progress",
        assignee="عائشة الكواري",
        resolution_due_at=dt.datetime(2026, 11, 29, 13, 30, tzinfo=dt.UTC),
        sentence="تولّى عائشة الكواري التذكرة.",
    )
    root = xml(flow.advance(ask.state, flow.StatusRead(report=report), ctx))
    text = heard(root)
    assert "التذكرة 1 0 0 0 4 2، الشبكة الحكومية." in text
    assert "الحالة: قيد المعالجة." in text
    assert "يعمل عليها عائشة الكواري." in text
    assert "الأحد 29 نوفمبر 16:30" in text  # Qatar time
    assert "آخر مستجد: تولّى عائشة الكواري التذكرة." in text
    assert {said.voice for said in says(root)} == {"Polly.Zeina"}


def test_a_tampered_or_odd_query_falls_back_to_safe_defaults():
    state = flow.State.parse("nowhere", {"lang": "fr", "tries": "99", "service": "x1", "code": "12ab", "whole": "7"})
    assert state == flow.State(step="start", tries=flow.MAX_TRIES)
    assert flow.State.parse("menu", {"tries": "99"}).tries == flow.MAX_TRIES


def test_apology_is_valid_twiml_with_a_voicemail_in_the_callers_language():
    root = ET.fromstring(str(flow.apology(context(), "en")))
    assert heard(root).startswith("We are sorry, something went wrong on our side.")
    assert verbs(root) == ["Say", "Say", "Record", "Hangup"]
    refused = ET.fromstring(str(flow.apology(context(), "en", message="That service is not available.")))
    assert heard(refused).startswith("That service is not available.")

"""Each turn of the call flow written out whole: every sentence the caller hears and in which voice, the keys or
speech gathered and for how long, where the call goes next (the action URL carries the state), and what the adapter
is asked to do. A changed prompt, timeout, key or URL fails here, without HTTP or a database."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from hotline import flow
from tests.hotline.test_flow import AGENCY, BASE, CLOUD, NETWORK, context
from tests.hotline.twilio import script

EN = "Say language=en-US voice=Polly.Joanna: "
AR = "Say language=arb voice=Polly.Zeina: "
RECORDING = "https://hd.example/hotline/recording/"
GOODBYE = "Thank you for calling the government IT helpdesk. Goodbye."
GOODBYE_AR = "شكرًا لاتصالك بمكتب الدعم الفني الحكومي. مع السلامة."
NO_CHOICE = [EN + "We did not get a choice from you.", EN + GOODBYE, "Hangup"]
MENU = [
    EN + "To report a problem, press 1.",
    EN + "To hear the status of a ticket, press 2.",
    EN + "If a service is down and you must speak to the on-call engineer now, press 3.",
    AR + "للغة العربية، اضغط 9.",
]
MENU_AR = [
    AR + "للإبلاغ عن مشكلة، اضغط 1.",
    AR + "لمعرفة حالة تذكرة، اضغط 2.",
    AR + "إذا كانت الخدمة متوقفة وتحتاج إلى التحدث مع المهندس المناوب الآن، اضغط 3.",
    EN + "For English, press 9.",
]
SERVICES = [
    EN + "Which service is affected?",
    EN + "For Government Cloud, press 1.",
    EN + "For Government Network, press 2.",
]
WHOLE = [
    EN + "Is the service down for your whole agency?",
    EN + "If yes, press 1. If only some people are affected, press 2.",
]
CODE = EN + "Please key your agency's hotline code, then press the hash key."
TICKET = EN + "Please key the ticket number, then press the hash key."
AGAIN = EN + "To hear it again, press 1. For another ticket, press 2. For the main menu, press 0."
VOICEMAIL = EN + "After the tone, leave a message with your name and number, then press the hash key."
VOICEMAIL_AR = AR + "بعد سماع النغمة، اترك رسالة تذكر فيها اسمك ورقمك، ثم اضغط على مفتاح المربع."
START_RECORDING = [
    "Start",
    f"  Recording name=description recordingStatusCallback={RECORDING} recordingStatusCallbackEvent=completed"
    " recordingStatusCallbackMethod=POST track=inbound trim=trim-silence",
]
STAFF = context(agency=AGENCY, language="en")
STAFF_AR = context(agency=AGENCY, language="ar")
UNKNOWN = context()  # a number of no agency has no language kept until its PIN is right
DUE = dt.datetime(2026, 11, 29, 13, 30, tzinfo=dt.UTC)


def heard(turn: flow.Turn | object) -> list[str]:
    """The TwiML of a turn (or a response) line by line; a turn that answers with TwiML asks for no effect."""
    if isinstance(turn, flow.Turn):
        assert turn.twiml is not None and turn.effect is None
        turn = turn.twiml
    return script(ET.fromstring(str(turn)))


def one_key(step: str, *said: str) -> list[str]:
    """A menu: one key gathered for 6 seconds, posted to `step` (with its query); no key comes back to it."""
    return [
        f"Gather action={BASE}{step} input=dtmf method=POST numDigits=1 timeout=6",
        *(f"  {line}" for line in said),
        f"Redirect method=POST: {BASE}{step}",
    ]


def keyed_number(step: str, *said: str) -> list[str]:
    """A number: keys gathered until the hash key, with 6 seconds between keys, posted to `step`."""
    return [
        f"Gather action={BASE}{step} finishOnKey=# input=dtmf method=POST timeout=6",
        *(f"  {line}" for line in said),
        f"Redirect method=POST: {BASE}{step}",
    ]


def record(step: str) -> str:
    return (
        f"Record action={BASE}{step} finishOnKey=# maxLength=120 method=POST playBeep=true"
        f" recordingStatusCallback={RECORDING} recordingStatusCallbackEvent=completed"
        " recordingStatusCallbackMethod=POST"
    )


# --- Language and identification ----------------------------------------------------------------------------------


def test_a_new_number_hears_the_language_choice_each_sentence_in_its_own_voice_three_times_at_most():
    first = flow.advance(flow.State(), flow.Begin(), context())
    choice = [
        AR + "مرحبًا بكم في مكتب الدعم الفني الحكومي. للغة العربية، اضغط 1.",
        EN + "Welcome to the government IT helpdesk. For English, press 2.",
    ]
    assert heard(first) == one_key("language/", *choice)
    assert first.remember_language == ""

    language = flow.State(step="language")
    wrong = flow.advance(replace(language, tries=1), flow.Keys("7"), context())
    assert heard(wrong) == one_key("language/?tries=2", *choice)
    nothing = flow.advance(language, flow.Begin(), context())  # not a key at all counts as no choice
    assert heard(nothing) == one_key("language/?tries=1", *choice)

    goodbye = flow.advance(replace(language, tries=2), flow.Keys(""), context())
    assert heard(goodbye) == [AR + GOODBYE_AR, EN + GOODBYE, "Hangup"]


def test_a_number_whose_language_is_unknown_is_asked_even_if_the_stored_value_is_odd():
    assert heard(flow.advance(flow.State(), flow.Begin(), context(language="fr")))[0].startswith(
        f"Gather action={BASE}language/ "
    )


def test_a_remembered_english_staff_member_is_welcomed_and_hears_the_menu_for_their_agency():
    turn = flow.advance(flow.State(), flow.Begin(), STAFF)
    assert heard(turn) == one_key(
        "menu/?lang=en",
        EN + "Welcome to the government IT helpdesk.",
        EN + "You are calling for Ministry of Municipality.",
        *MENU,
    )
    assert turn.remember_language == "en"


def test_a_remembered_arabic_caller_of_no_known_agency_is_welcomed_and_asked_for_the_code_in_arabic():
    turn = flow.advance(flow.State(), flow.Begin(), context(language="ar"))
    assert heard(turn) == keyed_number(
        "code/?lang=ar",
        AR + "مرحبًا بكم في مكتب الدعم الفني الحكومي.",
        AR + "يُرجى إدخال رمز الخط الساخن الخاص بجهتك، ثم الضغط على مفتاح المربع.",
    )
    assert turn.remember_language == ""


def test_the_language_key_leads_to_the_code_or_to_the_menu_in_that_language():
    english = flow.advance(flow.State(step="language", tries=2), flow.Keys("2"), context())
    assert heard(english) == keyed_number("code/?lang=en", CODE)

    arabic = flow.advance(flow.State(step="language", tries=1), flow.Keys("1"), context(agency=AGENCY))
    assert heard(arabic) == one_key("menu/?lang=ar", AR + "أنت تتصل باسم وزارة البلدية.", *MENU_AR)
    assert arabic.remember_language == "ar"


def test_a_code_of_up_to_18_digits_is_taken_and_the_pin_asked_anything_else_is_asked_again():
    longest = "1" * flow.MAX_KEYED_DIGITS
    pin = flow.advance(flow.State(step="code", lang="en", tries=1), flow.Keys(longest), UNKNOWN)
    said = EN + "Now key your PIN, then press the hash key."
    assert heard(pin) == keyed_number(f"pin/?lang=en&tries=1&code={longest}", said)

    notice = EN + "We did not hear a code."
    too_long = flow.advance(flow.State(step="code", lang="en"), flow.Keys(longest + "1"), UNKNOWN)
    assert heard(too_long) == [notice, *keyed_number("code/?lang=en&tries=1", CODE)]
    letters = flow.advance(flow.State(step="code", lang="en", tries=1), flow.Keys("12a"), UNKNOWN)
    assert heard(letters) == [notice, *keyed_number("code/?lang=en&tries=2", CODE)]
    assert heard(flow.advance(flow.State(step="code", lang="en", tries=2), flow.Keys(""), UNKNOWN)) == NO_CHOICE


def test_the_pin_is_checked_by_the_adapter_and_a_right_one_opens_the_arabic_menu_of_that_agency():
    state = flow.State(step="pin", lang="ar", code="4321", tries=1)
    check = flow.advance(state, flow.Keys("2468"), context(language="ar"))
    assert check == flow.Turn(state=state, effect=flow.CheckPin(code="4321", pin="2468"))

    menu = flow.advance(state, flow.PinChecked(agency=AGENCY), context(language="ar"))
    assert heard(menu) == one_key("menu/?lang=ar&agency=7", AR + "أنت تتصل باسم وزارة البلدية.", *MENU_AR)
    assert menu.remember_language == "ar"


def test_a_wrong_pin_asks_for_the_code_again_and_the_third_ends_the_call():
    state = flow.State(step="pin", lang="en", code="4321", tries=1)
    wrong = EN + "That code or PIN is not right."
    again = flow.advance(state, flow.PinChecked(agency=None), UNKNOWN)
    assert heard(again) == keyed_number("code/?lang=en&tries=2", wrong, CODE)
    not_checked = flow.advance(replace(state, tries=0), flow.Begin(), UNKNOWN)
    assert heard(not_checked) == keyed_number("code/?lang=en&tries=1", wrong, CODE)

    last = flow.advance(replace(state, tries=2), flow.PinChecked(agency=None), UNKNOWN)
    assert heard(last) == [
        wrong,
        EN + "We could not confirm your agency. Please ask your IT department for the code. Goodbye.",
        "Hangup",
    ]


@pytest.mark.parametrize(
    ("state", "first"),
    [
        (flow.State(step="code", lang="en"), EN + "We did not hear a code."),
        (flow.State(step="menu", lang="en"), EN + "We did not hear a choice."),
        (flow.State(step="service", lang="en", purpose="report"), EN + "We did not hear a choice."),
        (flow.State(step="whole", lang="en", service=3), EN + "Sorry, that is not one of the choices."),
        (flow.State(step="number", lang="en", ticket=100042), EN + GOODBYE),
        (flow.State(step="status", lang="en"), EN + "We did not hear a number."),
        (flow.State(step="more", lang="en", ticket=100042), EN + GOODBYE),
    ],
)
def test_a_step_that_waits_for_keys_takes_anything_else_as_no_key(state, first):
    assert heard(flow.advance(state, flow.Spoken("1"), STAFF))[0] == first


# --- Main menu ----------------------------------------------------------------------------------------------------


def test_each_menu_key_leads_to_its_question():
    menu = flow.State(step="menu", lang="en", agency=7, tries=1)
    report = flow.advance(menu, flow.Keys("1"), STAFF)
    assert heard(report) == keyed_number("service/?lang=en&agency=7&purpose=report", *SERVICES)
    status = flow.advance(menu, flow.Keys("2"), STAFF)
    assert heard(status) == keyed_number("status/?lang=en&agency=7", TICKET)
    urgent = flow.advance(menu, flow.Keys("3"), STAFF)
    assert heard(urgent) == keyed_number("service/?lang=en&agency=7&purpose=urgent", *SERVICES)


def test_nine_switches_the_menu_to_the_other_language_and_remembers_it():
    to_english = flow.advance(flow.State(step="menu", lang="ar", tries=2), flow.Keys("9"), STAFF_AR)
    assert heard(to_english) == one_key("menu/?lang=en", *MENU)
    assert to_english.remember_language == "en"
    to_arabic = flow.advance(flow.State(step="menu", lang="en"), flow.Keys("9"), STAFF)
    assert heard(to_arabic) == one_key("menu/?lang=ar", *MENU_AR)
    assert to_arabic.remember_language == "ar"


def test_a_wrong_or_missing_menu_key_is_named_and_the_menu_said_again_three_times_at_most():
    wrong = flow.advance(flow.State(step="menu", lang="en"), flow.Keys("7"), STAFF)
    assert heard(wrong) == [EN + "Sorry, that is not one of the choices.", *one_key("menu/?lang=en&tries=1", *MENU)]
    assert wrong.remember_language == ""
    nothing = flow.advance(flow.State(step="menu", lang="en", tries=1), flow.Keys(""), STAFF)
    assert heard(nothing) == [EN + "We did not hear a choice.", *one_key("menu/?lang=en&tries=2", *MENU)]
    assert heard(flow.advance(flow.State(step="menu", lang="en", tries=2), flow.Keys("7"), STAFF)) == NO_CHOICE


# --- Menu 1: report a problem -------------------------------------------------------------------------------------


def catalogue(size: int) -> tuple[flow.Named, ...]:
    return tuple(flow.Named(id=100 + n, name_ar=f"خدمة {n}", name_en=f"Service {n}") for n in range(1, size + 1))


def test_up_to_nine_services_are_one_key_each_and_ten_ask_for_the_hash_key():
    nine = flow.advance(flow.State(step="menu", lang="en"), flow.Keys("1"), replace(STAFF, services=catalogue(9)))
    listed = [EN + "Which service is affected?", *(EN + f"For Service {n}, press {n}." for n in range(1, 10))]
    assert heard(nine) == keyed_number("service/?lang=en&purpose=report", *listed)
    ten = flow.advance(flow.State(step="menu", lang="en"), flow.Keys("1"), replace(STAFF, services=catalogue(10)))
    more = [*listed, EN + "For Service 10, press 10.", EN + "Then press the hash key."]
    assert heard(ten) == keyed_number("service/?lang=en&purpose=report", *more)

    ten_services = replace(STAFF, services=catalogue(10))
    tenth = flow.advance(flow.State(step="service", lang="en"), flow.Keys("010"), ten_services)
    assert heard(tenth) == one_key("whole/?lang=en&service=110", *WHOLE)
    four_keys = flow.advance(flow.State(step="service", lang="en"), flow.Keys("0001"), ten_services)
    assert heard(four_keys)[:2] == [
        EN + "Sorry, that is not one of the choices.",
        f"Gather action={BASE}service/?lang=en&tries=1 finishOnKey=# input=dtmf method=POST timeout=6",
    ]


def test_an_arabic_caller_hears_the_services_named_in_arabic():
    turn = flow.advance(flow.State(step="menu", lang="ar"), flow.Keys("1"), STAFF_AR)
    assert heard(turn) == keyed_number(
        "service/?lang=ar&purpose=report",
        AR + "ما الخدمة المتأثرة؟",
        AR + "لخدمة السحابة الحكومية، اضغط 1.",
        AR + "لخدمة الشبكة الحكومية، اضغط 2.",
    )


def test_with_no_service_on_the_hotline_the_caller_is_sent_to_the_website():
    turn = flow.advance(flow.State(step="menu", lang="en"), flow.Keys("3"), replace(STAFF, services=()))
    assert heard(turn) == [
        EN + "No service can be reported by phone right now. Please use the website.",
        EN + GOODBYE,
        "Hangup",
    ]


def test_a_service_key_outside_the_list_is_named_and_the_list_said_again():
    state = flow.State(step="service", lang="en", purpose="report")
    for digits in ("0", "3"):
        wrong = flow.advance(state, flow.Keys(digits), STAFF)
        sorry = EN + "Sorry, that is not one of the choices."
        assert heard(wrong) == [sorry, *keyed_number("service/?lang=en&tries=1&purpose=report", *SERVICES)]
    nothing = flow.advance(replace(state, tries=1), flow.Keys(""), STAFF)
    again = keyed_number("service/?lang=en&tries=2&purpose=report", *SERVICES)
    assert heard(nothing) == [EN + "We did not hear a choice.", *again]
    assert heard(flow.advance(replace(state, tries=2), flow.Keys("9"), STAFF)) == NO_CHOICE


def test_a_reported_service_asks_whether_the_whole_agency_is_affected():
    first = flow.advance(flow.State(step="service", lang="en", purpose="report", tries=1), flow.Keys("1"), STAFF)
    assert heard(first) == one_key("whole/?lang=en&purpose=report&service=4", *WHOLE)
    last = flow.advance(flow.State(step="service", lang="en", purpose="report"), flow.Keys("2"), STAFF)
    assert heard(last) == one_key("whole/?lang=en&purpose=report&service=3", *WHOLE)


def test_an_urgent_service_asks_the_adapter_for_the_primary_on_call():
    turn = flow.advance(flow.State(step="service", lang="en", purpose="urgent", tries=1), flow.Keys("1"), STAFF)
    assert turn == flow.Turn(
        state=flow.State(step="dialed", lang="en", purpose="urgent", service=4, layer="primary"),
        effect=flow.FindOnCall(service=4, layer="primary"),
    )


def test_the_answer_about_the_whole_agency_starts_the_recording_and_listens_for_the_description():
    some = flow.advance(flow.State(step="whole", lang="en", service=3, tries=1), flow.Keys("2"), STAFF)
    assert heard(some) == [
        *START_RECORDING,
        f"Gather action={BASE}describe/?lang=en&service=3&whole=0 input=speech language=en-US method=POST"
        " speechTimeout=auto timeout=8",
        "  " + EN + "After this message, describe the problem in a few sentences, then stay silent.",
        f"Redirect method=POST: {BASE}describe/?lang=en&service=3&whole=0",
    ]
    whole = flow.advance(flow.State(step="whole", lang="ar", service=3), flow.Keys("1"), STAFF_AR)
    assert heard(whole) == [
        *START_RECORDING,
        f"Gather action={BASE}describe/?lang=ar&service=3&whole=1 input=speech language=ar-QA method=POST"
        " speechTimeout=auto timeout=8",
        "  " + AR + "بعد هذه الرسالة، صِف المشكلة في بضع جمل، ثم التزم الصمت.",
        f"Redirect method=POST: {BASE}describe/?lang=ar&service=3&whole=1",
    ]


def test_a_wrong_answer_about_the_whole_agency_asks_again():
    wrong = flow.advance(flow.State(step="whole", lang="en", service=3), flow.Keys(""), STAFF)
    sorry = EN + "Sorry, that is not one of the choices."
    assert heard(wrong) == [sorry, *one_key("whole/?lang=en&tries=1&service=3", *WHOLE)]
    assert heard(flow.advance(flow.State(step="whole", lang="en", service=3, tries=2), flow.Keys("3"), STAFF)) == (
        NO_CHOICE
    )


def test_silence_or_a_lost_service_asks_for_the_description_again_without_a_second_recording():
    listen = [
        f"Gather action={BASE}describe/?lang=en&tries=1&service=3&whole=0 input=speech language=en-US method=POST"
        " speechTimeout=auto timeout=8",
        "  " + EN + "After this message, describe the problem in a few sentences, then stay silent.",
        f"Redirect method=POST: {BASE}describe/?lang=en&tries=1&service=3&whole=0",
    ]
    state = flow.State(step="describe", lang="en", service=3, whole="0")
    assert heard(flow.advance(state, flow.Spoken(" "), STAFF)) == [EN + "Sorry, we did not hear you.", *listen]
    assert heard(flow.advance(state, flow.Keys("1"), STAFF)) == [EN + "Sorry, we did not hear you.", *listen]
    lost = flow.advance(replace(state, service=None), flow.Spoken("Outlook is down."), STAFF)
    assert heard(lost)[:2] == [
        EN + "Sorry, we did not hear you.",
        f"Gather action={BASE}describe/?lang=en&tries=1&whole=0 input=speech language=en-US method=POST"
        " speechTimeout=auto timeout=8",
    ]


def test_a_description_asks_the_adapter_for_a_ticket_of_that_service_and_scope():
    state = flow.State(step="describe", lang="en", service=3, whole="0")
    turn = flow.advance(state, flow.Spoken("  Outlook is down. "), STAFF)
    ticket = flow.OpenTicket(service=3, whole_agency=False, description="Outlook is down.")
    assert turn == flow.Turn(state=state, effect=ticket)


def test_the_opened_ticket_stops_the_recording_and_its_number_is_read_digit_by_digit():
    state = flow.State(step="describe", lang="en", service=3, whole="0", tries=1)
    texted = flow.advance(state, flow.TicketOpened(number=100042, sms_sent=True), STAFF)
    step = "number/?lang=en&service=3&whole=0&ticket=100042"
    assert heard(texted) == [
        "Stop",
        "  Recording name=description",
        *one_key(
            step,
            EN + "Thank you. Your ticket is open.",
            EN + "Your ticket number is 1 0 0 0 4 2.",
            EN + "We have also sent you this number by text message.",
            EN + "To hear the number again, press 1.",
        ),
    ]
    untexted = flow.advance(state, flow.TicketOpened(number=100042, sms_sent=False), STAFF)
    assert [line for line in heard(untexted) if "text message" in line] == []


def test_the_number_is_read_again_on_1_up_to_five_times_then_goodbye():
    state = flow.State(step="number", lang="en", service=3, whole="0", ticket=100042, tries=4)
    again = flow.advance(state, flow.Keys("1"), STAFF)
    assert heard(again) == one_key(
        "number/?lang=en&tries=5&service=3&whole=0&ticket=100042",
        EN + "Your ticket number is 1 0 0 0 4 2.",
        EN + "To hear the number again, press 1.",
    )
    assert heard(flow.advance(again.state, flow.Keys("1"), STAFF)) == [EN + GOODBYE, "Hangup"]
    assert heard(flow.advance(replace(state, tries=0), flow.Keys("2"), STAFF)) == [EN + GOODBYE, "Hangup"]


# --- Menu 2: status of a ticket -----------------------------------------------------------------------------------


def test_a_keyed_ticket_number_of_up_to_18_digits_is_looked_up():
    state = flow.State(step="status", lang="en", tries=1)
    longest = "9" * flow.MAX_KEYED_DIGITS
    look_up = flow.Turn(state=state, effect=flow.ReadStatus(number=int(longest)))
    assert flow.advance(state, flow.Keys(longest), STAFF) == look_up
    notice = EN + "We did not hear a number."
    too_long = flow.advance(state, flow.Keys(longest + "9"), STAFF)
    assert heard(too_long) == [notice, *keyed_number("status/?lang=en&tries=2", TICKET)]
    assert heard(flow.advance(state, flow.Keys("12*"), STAFF))[0] == notice


def test_a_ticket_not_found_is_said_and_the_number_asked_again():
    missing = flow.advance(flow.State(step="status", lang="en", tries=1, ticket=100042), flow.StatusRead(None), STAFF)
    not_found = EN + "We found no ticket with that number for your agency."
    assert heard(missing) == keyed_number("status/?lang=en&tries=2", not_found, TICKET)
    assert heard(flow.advance(flow.State(step="status", lang="en", tries=2), flow.StatusRead(None), STAFF)) == (
        NO_CHOICE
    )


def report(**changes: Any) -> flow.StatusReport:
    in_progress = flow.StatusReport(
        number=100042,
        service=NETWORK,
        status="in_progress",
        assignee="Ahmed Al-Marri",
        resolution_due_at=DUE,
        sentence="Ahmed Al-Marri took the ticket.",
    )
    return replace(in_progress, **changes)


def test_a_ticket_in_progress_is_read_back_with_who_has_it_when_it_is_due_and_its_latest_change():
    turn = flow.advance(flow.State(step="status", lang="en", tries=2), flow.StatusRead(report()), STAFF)
    assert heard(turn) == one_key(
        "more/?lang=en&ticket=100042",
        EN + "Ticket 1 0 0 0 4 2, Government Network.",
        EN + "Status: In progress.",
        EN + "Ahmed Al-Marri is working on it.",
        EN + "A resolution is due by Sunday 29 November 16:30.",
        EN + "Latest: Ahmed Al-Marri took the ticket.",
        AGAIN,
    )


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"status": "new", "assignee": "", "sentence": ""}, [
            "Status: New.", "It is waiting for a technician.", "A resolution is due by Sunday 29 November 16:30."
        ]),
        ({"status": "acknowledged", "assignee": "", "resolution_due_at": None}, [
            "Status: Acknowledged.", "It is waiting for a technician.", "Latest: Ahmed Al-Marri took the ticket."
        ]),
        ({"status": "waiting", "assignee": ""}, [
            "Status: Waiting on requester.", "Latest: Ahmed Al-Marri took the ticket."
        ]),
        # Resolved by its technician: nobody is working on it any more.
        ({"status": "resolved", "sentence": ""}, ["Status: Resolved."]),
        ({"status": "closed", "sentence": ""}, ["Status: Closed."]),
    ],
)
def test_only_an_open_ticket_is_worked_on_or_waits_for_a_technician_and_only_an_open_one_is_due(changes, said):
    turn = flow.advance(flow.State(step="status", lang="en"), flow.StatusRead(report(**changes)), STAFF)
    told = [EN + "Ticket 1 0 0 0 4 2, Government Network.", *(EN + line for line in said), AGAIN]
    assert heard(turn) == one_key("more/?lang=en&ticket=100042", *told)


def test_an_arabic_caller_hears_the_status_and_the_service_in_arabic():
    arabic = report(assignee="عائشة الكواري", sentence="")
    turn = flow.advance(flow.State(step="status", lang="ar"), flow.StatusRead(arabic), STAFF_AR)
    assert heard(turn) == one_key(
        "more/?lang=ar&ticket=100042",
        AR + "التذكرة 1 0 0 0 4 2، الشبكة الحكومية.",
        AR + "الحالة: قيد المعالجة.",
        AR + "يعمل عليها عائشة الكواري.",
        AR + "موعد الحل المستهدف: الأحد 29 نوفمبر 16:30.",
        AR + "لسماعها مرة أخرى، اضغط 1. لتذكرة أخرى، اضغط 2. للقائمة الرئيسية، اضغط 0.",
    )


def test_after_the_status_1_reads_it_again_2_asks_another_0_returns_to_the_menu_anything_else_ends():
    state = flow.State(step="more", lang="en", agency=7, ticket=100042, tries=1)
    again = flow.advance(state, flow.Keys("1"), STAFF)
    assert again == flow.Turn(state=replace(state, step="status"), effect=flow.ReadStatus(number=100042))
    another = flow.advance(state, flow.Keys("2"), STAFF)
    assert heard(another) == keyed_number("status/?lang=en&agency=7", TICKET)
    menu = flow.advance(state, flow.Keys("0"), STAFF)
    assert heard(menu) == one_key("menu/?lang=en&agency=7", *MENU)
    assert menu.remember_language == ""
    assert heard(flow.advance(state, flow.Keys("5"), STAFF)) == [EN + GOODBYE, "Hangup"]
    assert heard(flow.advance(replace(state, ticket=None), flow.Keys("1"), STAFF)) == [EN + GOODBYE, "Hangup"]


# --- Menu 3: urgent -----------------------------------------------------------------------------------------------

DIALED = flow.State(step="dialed", lang="en", purpose="urgent", service=3, layer="primary")


def test_the_primary_is_dialled_with_no_caller_id_when_the_hotline_number_is_unknown():
    turn = flow.advance(DIALED, flow.OnCallFound(phone="+97455000001"), replace(STAFF, hotline_number=""))
    assert heard(turn) == [
        EN + "Connecting you to the on-call engineer. Please hold.",
        f"Dial action={BASE}dialed/?lang=en&purpose=urgent&service=3&layer=primary method=POST timeout=20",
        "  Number: +97455000001",
    ]


def test_the_secondary_is_dialled_after_telling_the_caller_the_primary_did_not_answer():
    turn = flow.advance(replace(DIALED, layer="secondary", lang="ar"), flow.OnCallFound(phone="+97455000002"), STAFF_AR)
    assert heard(turn) == [
        AR + "لم يُجب المهندس المناوب. جارٍ الاتصال بالمهندس الاحتياطي. يُرجى الانتظار.",
        f"Dial action={BASE}dialed/?lang=ar&purpose=urgent&service=3&layer=secondary callerId=+97444990000"
        " method=POST timeout=20",
        "  Number: +97455000002",
    ]


def test_nobody_on_call_or_no_answer_moves_to_the_secondary_then_to_an_urgent_ticket():
    backup = flow.FindOnCall(service=3, layer="secondary")
    secondary = flow.Turn(state=replace(DIALED, layer="secondary"), effect=backup)
    assert flow.advance(DIALED, flow.OnCallFound(phone=""), STAFF) == secondary
    assert flow.advance(DIALED, flow.Keys("1"), STAFF) == secondary
    ticket = flow.OpenTicket(service=3, whole_agency=True, description="", urgent=True)
    last = replace(DIALED, layer="secondary")
    assert flow.advance(last, flow.DialEnded(answered=False), STAFF) == flow.Turn(state=last, effect=ticket)
    assert flow.advance(last, flow.OnCallFound(phone=""), STAFF) == flow.Turn(state=last, effect=ticket)


def test_an_urgent_call_without_a_service_or_answered_by_the_engineer_ends_politely():
    for turn in (
        flow.advance(replace(DIALED, service=None), flow.DialEnded(answered=False), STAFF),
        flow.advance(replace(DIALED, service=None), flow.OnCallFound(phone=""), STAFF),
        flow.advance(DIALED, flow.DialEnded(answered=True), STAFF),
    ):
        assert heard(turn) == [EN + GOODBYE, "Hangup"]


def test_the_urgent_ticket_is_read_out_then_a_voicemail_is_recorded():
    opened = flow.advance(replace(DIALED, lang="ar"), flow.TicketOpened(number=100042, sms_sent=True), STAFF_AR)
    assert heard(opened) == [
        AR + "لم يتمكن أحد من الرد الآن. فتحنا التذكرة العاجلة 1 0 0 0 4 2 ويجري استدعاء الفريق المناوب.",
        VOICEMAIL_AR,
        record("goodbye/?lang=ar&purpose=urgent&service=3&ticket=100042&layer=primary"),
        "Hangup",
    ]
    english = flow.advance(DIALED, flow.TicketOpened(number=100042, sms_sent=False), STAFF)
    urgent = "We have opened urgent ticket 1 0 0 0 4 2 and the on-call team is being paged."
    assert heard(english)[:2] == [EN + "Nobody could answer right now. " + urgent, VOICEMAIL]


def test_the_end_of_the_voicemail_says_goodbye():
    turn = flow.advance(flow.State(step="goodbye", lang="en", ticket=100042), flow.Keys("#"), STAFF)
    assert heard(turn) == [EN + GOODBYE, "Hangup"]


# --- What the adapter says when something failed ------------------------------------------------------------------


def test_an_apology_takes_a_voicemail_in_the_callers_language_arabic_when_unknown():
    assert heard(flow.apology(STAFF, "en")) == [
        EN + "We are sorry, something went wrong on our side.",
        VOICEMAIL,
        record("goodbye/?lang=en"),
        "Hangup",
    ]
    assert heard(flow.apology(STAFF, "fr", message="That service is not available.")) == [
        AR + "That service is not available.",
        VOICEMAIL_AR,
        record("goodbye/?lang=ar"),
        "Hangup",
    ]
    assert heard(flow.apology(STAFF, "ar"))[0] == AR + "نعتذر، حدث خطأ من جهتنا."


def test_too_many_calls_are_turned_away_in_the_callers_language_arabic_when_unknown():
    assert heard(flow.too_many_calls(STAFF, "en")) == [
        EN + "You have called many times in a short while. Please try again in a few minutes. Goodbye.",
        "Hangup",
    ]
    assert heard(flow.too_many_calls(STAFF, "fr")) == [
        AR + "لقد اتصلت مرات كثيرة خلال وقت قصير. يُرجى المحاولة مرة أخرى بعد بضع دقائق. مع السلامة.",
        "Hangup",
    ]


# --- The state in the URL -----------------------------------------------------------------------------------------


def test_every_field_of_the_state_survives_the_round_trip_through_its_url():
    state = flow.State(
        step="dialed", lang="ar", tries=2, agency=7, code="1" * 18, purpose="urgent", service=3, whole="1",
        ticket=int("9" * 18), layer="secondary",
    )
    url = urlsplit(state.url(STAFF))
    step = url.path.removeprefix("/hotline/voice/").rstrip("/")
    assert flow.State.parse(step, dict(parse_qsl(url.query))) == state
    for purpose, whole, layer in (("report", "0", "primary"), ("urgent", "1", "secondary")):
        query = {"lang": "en", "purpose": purpose, "whole": whole, "layer": layer, "tries": "1"}
        assert flow.State.parse("more", query) == flow.State(
            step="more", lang="en", purpose=purpose, whole=whole, layer=layer, tries=1
        )


def test_a_number_or_code_longer_than_18_digits_in_a_url_is_dropped():
    nineteen = "1" * 19
    parsed = flow.State.parse("menu", {"agency": nineteen, "code": nineteen, "service": nineteen, "ticket": nineteen})
    assert parsed == flow.State(step="menu")
    assert flow.State.parse("menu", {"tries": "2"}).tries == 2


def test_a_name_is_said_in_the_language_asked():
    assert (CLOUD.name("ar"), CLOUD.name("en")) == ("السحابة الحكومية", "Government Cloud")

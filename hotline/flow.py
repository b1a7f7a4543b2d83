"""The hotline's call flow: a small state machine, `advance(state, event, context) -> Turn`.

It is pure: it reads no database and no request. The state travels in the query string of the action URLs Twilio
calls back (Twilio signs those URLs, so a caller cannot change them); the context holds the values the adapter
looked up (who is calling, the service catalogue, the voices). When the flow needs the outside world (check a PIN,
open a ticket, read a ticket's status, find who is on call) it returns an effect instead of TwiML; the adapter
(`hotline.voice`) performs it and calls `advance` again with the result. Every prompt comes from the translation
catalogue and is spoken with the voice configured for its language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from twilio.twiml.voice_response import Gather, Recording, VoiceResponse

from tickets.models import OPEN_STATUSES, Status
from tickets.sentences import choice_label

AR = "ar"
EN = "en"
LANGUAGES = (AR, EN)
MAX_TRIES = 3
# The longest ticket number or code a caller may key (a PostgreSQL bigint has 19 digits).
MAX_KEYED_DIGITS = 18
DESCRIPTION_RECORDING = "description"
DIAL_TIMEOUT_SECONDS = 20
VOICEMAIL_MAX_SECONDS = 120


class FlowError(Exception):
    """The flow was driven in a way it does not allow (a bug, never a caller's input)."""


@dataclass(frozen=True)
class Voice:
    """How one language is spoken (`voice`, `language` of <Say>) and heard (`speech`: <Gather> speech language)."""

    voice: str
    language: str
    speech: str


@dataclass(frozen=True)
class Named:
    """An agency or a service, with its name in both languages."""

    id: int
    name_ar: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_ar if language == AR else self.name_en


@dataclass(frozen=True)
class Caller:
    """Who is calling: `agency` is known from the caller ID (agency staff) or from the agency's code and PIN."""

    phone: str
    agency: Named | None = None
    language: str = ""


@dataclass(frozen=True)
class Context:
    caller: Caller
    services: tuple[Named, ...]
    voices: Mapping[str, Voice]
    voice_url: str  # absolute URL of /hotline/voice/, the prefix of every step
    recording_url: str  # absolute URL of the recording status callback
    hotline_number: str = ""  # caller ID shown to the on-call engineer we dial


@dataclass(frozen=True)
class StatusReport:
    """A ticket of the caller's agency as it is read back; `sentence` tells its latest change."""

    number: int
    service: Named
    status: str
    assignee: str
    resolution_due_at: dt.datetime | None
    sentence: str = ""


@dataclass(frozen=True)
class State:
    step: str = "start"
    lang: str = ""
    tries: int = 0
    agency: int | None = None  # set once a code and PIN were right
    code: str = ""  # the agency code keyed, before its PIN
    purpose: str = ""  # "report" or "urgent": why a service is chosen
    service: int | None = None
    whole: str = ""  # "1": the whole agency is affected, "0": not
    ticket: int | None = None
    layer: str = ""  # which on-call layer was dialled

    def url(self, context: Context) -> str:
        fields = {
            "lang": self.lang,
            "tries": self.tries or "",
            "agency": self.agency or "",
            "code": self.code,
            "purpose": self.purpose,
            "service": self.service or "",
            "whole": self.whole,
            "ticket": self.ticket or "",
            "layer": self.layer,
        }
        query = urlencode({key: value for key, value in fields.items() if value != ""})
        return f"{context.voice_url}{self.step}/" + (f"?{query}" if query else "")

    @classmethod
    def parse(cls, step: str, query: Mapping[str, str]) -> State:
        """The state named by a step and its query; anything malformed falls back to the default."""

        def number(key: str) -> int | None:
            value = query.get(key, "")
            return int(value) if value.isdigit() and len(value) <= MAX_KEYED_DIGITS else None

        def one_of(key: str, allowed: tuple[str, ...]) -> str:
            value = query.get(key, "")
            return value if value in allowed else ""

        code = query.get("code", "")
        return cls(
            step=step if step in STEPS else "start",
            lang=one_of("lang", LANGUAGES),
            tries=min(number("tries") or 0, MAX_TRIES),
            agency=number("agency"),
            code=code if code.isdigit() and len(code) <= MAX_KEYED_DIGITS else "",
            purpose=one_of("purpose", ("report", "urgent")),
            service=number("service"),
            whole=one_of("whole", ("0", "1")),
            ticket=number("ticket"),
            layer=one_of("layer", ("primary", "secondary")),
        )


# What the caller did, or what an effect found.
@dataclass(frozen=True)
class Begin:
    pass


@dataclass(frozen=True)
class Keys:
    digits: str


@dataclass(frozen=True)
class Spoken:
    text: str


@dataclass(frozen=True)
class DialEnded:
    answered: bool


@dataclass(frozen=True)
class PinChecked:
    agency: Named | None


@dataclass(frozen=True)
class TicketOpened:
    number: int
    sms_sent: bool


@dataclass(frozen=True)
class StatusRead:
    report: StatusReport | None


@dataclass(frozen=True)
class OnCallFound:
    phone: str  # "" when nobody of that layer is on call or has a number


Event = Begin | Keys | Spoken | DialEnded | PinChecked | TicketOpened | StatusRead | OnCallFound


# What the flow asks the adapter to do.
@dataclass(frozen=True)
class CheckPin:
    code: str
    pin: str


@dataclass(frozen=True)
class OpenTicket:
    service: int
    whole_agency: bool
    description: str
    urgent: bool = False


@dataclass(frozen=True)
class ReadStatus:
    number: int


@dataclass(frozen=True)
class FindOnCall:
    service: int
    layer: str


Effect = CheckPin | OpenTicket | ReadStatus | FindOnCall


@dataclass(frozen=True)
class Turn:
    """The flow's answer: TwiML for the caller, or an effect to perform before asking again. `remember_language` is
    the language to keep for this caller's number (set once they are identified)."""

    state: State
    twiml: VoiceResponse | None = None
    effect: Effect | None = None
    remember_language: str = ""


class Speaker:
    """Builds one TwiML response, every <Say> in the voice of its language."""

    def __init__(self, context: Context, language: str) -> None:
        self.context = context
        self.language = language
        self.response = VoiceResponse()

    def say(self, text: str, *, into: VoiceResponse | Gather | None = None, language: str | None = None) -> None:
        voice = self.context.voices[language or self.language]
        (into if into is not None else self.response).say(text, voice=voice.voice, language=voice.language)

    def gather_keys(self, state: State, prompts: list[str], *, single: bool) -> Turn:
        """Ask for keys: one key for a menu, or several ended by # for a number. No key re-enters the same step
        with no digits (the <Redirect> after the <Gather>)."""
        action = state.url(self.context)
        options: dict[str, Any] = {"num_digits": 1} if single else {"finish_on_key": "#"}
        gather = self.response.gather(input="dtmf", action=action, method="POST", timeout=6, **options)
        for text in prompts:
            self.say(text, into=gather)
        self.response.redirect(action, method="POST")
        return Turn(state=state, twiml=self.response)

    def hang_up(self, state: State, prompts: list[str]) -> Turn:
        for text in prompts:
            self.say(text)
        self.response.hangup()
        return Turn(state=state, twiml=self.response)


def _digits(number: int | str) -> str:
    """A number read digit by digit."""
    return " ".join(str(number))


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "l j F H:i")


def _speaker(context: Context, state: State) -> Speaker:
    return Speaker(context, state.lang or AR)


def _retry(state: State, context: Context, reprompt: Callable[[State], Turn], *, notice: str) -> Turn:
    """Ask again after no or wrong input, at most MAX_TRIES times in all, then say goodbye."""
    tries = state.tries + 1
    if tries >= MAX_TRIES:
        return _speaker(context, state).hang_up(
            replace(state, tries=tries), [_("We did not get a choice from you."), _goodbye_text()]
        )
    turn = reprompt(replace(state, tries=tries))
    return turn if notice == "" else _with_notice(turn, context, state, notice)


def _with_notice(turn: Turn, context: Context, state: State, notice: str) -> Turn:
    """The same TwiML with a short notice said first."""
    speaker = _speaker(context, state)
    speaker.say(notice)
    assert turn.twiml is not None
    for verb in turn.twiml.verbs:
        speaker.response.append(verb)
    return replace(turn, twiml=speaker.response)


def _goodbye_text() -> str:
    return _("Thank you for calling the government IT helpdesk. Goodbye.")


# --- Language and identification -------------------------------------------------------------------------------


def _start(state: State, event: Event, context: Context) -> Turn:
    remembered = context.caller.language
    if remembered in LANGUAGES:
        state = State(lang=remembered)
        with translation.override(remembered):
            greeting = _("Welcome to the government IT helpdesk.")
        return _identify(state, context, greeting=[greeting])
    return _ask_language(State(step="language"), context)


def _ask_language(state: State, context: Context) -> Turn:
    speaker = Speaker(context, AR)
    action = state.url(context)
    gather = speaker.response.gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=6)
    for language, text in (
        (AR, gettext_noop("Welcome to the government IT helpdesk. For Arabic, press 1.")),
        (EN, gettext_noop("Welcome to the government IT helpdesk. For English, press 2.")),
    ):
        with translation.override(language):
            speaker.say(_(text), into=gather, language=language)
    speaker.response.redirect(action, method="POST")
    return Turn(state=state, twiml=speaker.response)


def _language(state: State, event: Event, context: Context) -> Turn:
    chosen = {"1": AR, "2": EN}.get(event.digits if isinstance(event, Keys) else "")
    if chosen is None:
        tries = state.tries + 1
        if tries >= MAX_TRIES:
            return _bilingual_goodbye(replace(state, tries=tries), context)
        return _ask_language(replace(state, tries=tries), context)
    return _identify(State(lang=chosen), context, greeting=[])


def _bilingual_goodbye(state: State, context: Context) -> Turn:
    speaker = Speaker(context, AR)
    for language in LANGUAGES:
        with translation.override(language):
            speaker.say(_goodbye_text(), language=language)
    speaker.response.hangup()
    return Turn(state=state, twiml=speaker.response)


def _identify(state: State, context: Context, *, greeting: list[str]) -> Turn:
    """Known staff go straight to the menu; anyone else keys their agency's code and PIN."""
    with translation.override(state.lang):
        agency = context.caller.agency
        if agency is not None:
            return _menu_turn(
                replace(state, step="menu", tries=0),
                context,
                before=[*greeting, _("You are calling for %(agency)s.") % {"agency": agency.name(state.lang)}],
                remember=True,
            )
        return _ask_code(replace(state, step="code", tries=0), context, before=greeting)


def _ask_code(state: State, context: Context, *, before: Sequence[str]) -> Turn:
    return _speaker(context, state).gather_keys(
        state,
        [*before, _("Please key your agency's hotline code, then press the hash key.")],
        single=False,
    )


def _code(state: State, event: Event, context: Context) -> Turn:
    digits = event.digits if isinstance(event, Keys) else ""
    if not digits.isdigit() or len(digits) > MAX_KEYED_DIGITS:
        return _retry(state, context, lambda s: _ask_code(s, context, before=[]), notice=_("We did not hear a code."))
    state = replace(state, step="pin", code=digits)
    return _speaker(context, state).gather_keys(state, [_("Now key your PIN, then press the hash key.")], single=False)


def _pin(state: State, event: Event, context: Context) -> Turn:
    if isinstance(event, Keys):
        return Turn(state=state, effect=CheckPin(code=state.code, pin=event.digits))
    agency = event.agency if isinstance(event, PinChecked) else None
    if agency is None:
        tries = state.tries + 1
        wrong = _("That code or PIN is not right.")
        if tries >= MAX_TRIES:
            return _speaker(context, state).hang_up(
                replace(state, tries=tries, code=""),
                [wrong, _("We could not confirm your agency. Please ask your IT department for the code. Goodbye.")],
            )
        return _ask_code(replace(state, step="code", code="", tries=tries), context, before=[wrong])
    state = replace(state, step="menu", agency=agency.id, code="", tries=0)
    return _menu_turn(
        state,
        context,
        before=[_("You are calling for %(agency)s.") % {"agency": agency.name(state.lang)}],
        remember=True,
    )


# --- Main menu -----------------------------------------------------------------------------------------------------


def _menu_turn(state: State, context: Context, *, before: Sequence[str] = (), remember: bool = False) -> Turn:
    speaker = _speaker(context, state)
    action = state.url(context)
    gather = speaker.response.gather(input="dtmf", num_digits=1, action=action, method="POST", timeout=6)
    for text in [
        *before,
        _("To report a problem, press 1."),
        _("To hear the status of a ticket, press 2."),
        _("If a service is down and you must speak to the on-call engineer now, press 3."),
    ]:
        speaker.say(text, into=gather)
    other = EN if state.lang == AR else AR
    with translation.override(other):
        speaker.say(_("For English, press 9.") if other == EN else _("For Arabic, press 9."), into=gather,
                    language=other)
    speaker.response.redirect(action, method="POST")
    return Turn(state=state, twiml=speaker.response, remember_language=state.lang if remember else "")


def _menu(state: State, event: Event, context: Context) -> Turn:
    choice = event.digits if isinstance(event, Keys) else ""
    if choice == "1":
        return _ask_service(replace(state, step="service", purpose="report", tries=0), context)
    if choice == "2":
        return _ask_ticket(replace(state, step="status", tries=0), context, before=[])
    if choice == "3":
        return _ask_service(replace(state, step="service", purpose="urgent", tries=0), context)
    if choice == "9":
        switched = replace(state, lang=EN if state.lang == AR else AR, tries=0)
        with translation.override(switched.lang):
            return _menu_turn(switched, context, remember=True)
    notice = _("Sorry, that is not one of the choices.") if choice else _("We did not hear a choice.")
    return _retry(state, context, lambda s: _menu_turn(s, context), notice=notice)


# --- Menu 1: report a problem ------------------------------------------------------------------------------------


def _ask_service(state: State, context: Context) -> Turn:
    if not context.services:
        return _speaker(context, state).hang_up(
            state, [_("No service can be reported by phone right now. Please use the website."), _goodbye_text()]
        )
    prompts = [_("Which service is affected?")]
    prompts += [
        _("For %(service)s, press %(digit)d.") % {"service": service.name(state.lang), "digit": index}
        for index, service in enumerate(context.services, start=1)
    ]
    if len(context.services) > 9:
        prompts.append(_("Then press the hash key."))
    return _speaker(context, state).gather_keys(state, prompts, single=False)


def _service(state: State, event: Event, context: Context) -> Turn:
    digits = event.digits if isinstance(event, Keys) else ""
    index = int(digits) if digits.isdigit() and len(digits) <= 3 else 0
    if not 1 <= index <= len(context.services):
        notice = _("Sorry, that is not one of the choices.") if digits else _("We did not hear a choice.")
        return _retry(state, context, lambda s: _ask_service(s, context), notice=notice)
    service = context.services[index - 1]
    state = replace(state, service=service.id, tries=0)
    if state.purpose == "urgent":
        return Turn(state=replace(state, step="dialed", layer="primary"),
                    effect=FindOnCall(service=service.id, layer="primary"))
    return _ask_whole(replace(state, step="whole"), context)


def _ask_whole(state: State, context: Context) -> Turn:
    return _speaker(context, state).gather_keys(
        state,
        [
            _("Is the service down for your whole agency?"),
            _("If yes, press 1. If only some people are affected, press 2."),
        ],
        single=True,
    )


def _whole(state: State, event: Event, context: Context) -> Turn:
    choice = {"1": "1", "2": "0"}.get(event.digits if isinstance(event, Keys) else "")
    if choice is None:
        notice = _("Sorry, that is not one of the choices.")
        return _retry(state, context, lambda s: _ask_whole(s, context), notice=notice)
    return _ask_description(replace(state, step="describe", whole=choice, tries=0), context, first=True)


def _ask_description(state: State, context: Context, *, first: bool) -> Turn:
    """The description is heard by speech recognition in the caller's language; its audio is recorded from the
    first prompt on and kept as the recording of record (attached to the ticket when Twilio reports it)."""
    speaker = _speaker(context, state)
    if first:
        speaker.response.start().recording(
            name=DESCRIPTION_RECORDING,
            recording_status_callback=context.recording_url,
            recording_status_callback_method="POST",
            recording_status_callback_event="completed",
            track="inbound",
            trim="trim-silence",
        )
    action = state.url(context)
    gather = speaker.response.gather(
        input="speech",
        language=context.voices[state.lang].speech,
        speech_timeout="auto",
        action=action,
        method="POST",
        timeout=8,
    )
    speaker.say(_("After this message, describe the problem in a few sentences, then stay silent."), into=gather)
    speaker.response.redirect(action, method="POST")
    return Turn(state=state, twiml=speaker.response)


def _describe(state: State, event: Event, context: Context) -> Turn:
    if isinstance(event, TicketOpened):
        return _read_number(replace(state, step="number", ticket=event.number, tries=0), context, opened=event)
    text = event.text.strip() if isinstance(event, Spoken) else ""
    if not text or state.service is None:
        return _retry(
            state,
            context,
            lambda s: _ask_description(s, context, first=False),
            notice=_("Sorry, we did not hear you."),
        )
    effect = OpenTicket(service=state.service, whole_agency=state.whole == "1", description=text)
    return Turn(state=state, effect=effect)


def _read_number(state: State, context: Context, *, opened: TicketOpened | None = None) -> Turn:
    speaker = _speaker(context, state)
    prompts = []
    if opened is not None:
        stop = speaker.response.stop()
        stop.nest(Recording(name=DESCRIPTION_RECORDING))
        prompts.append(_("Thank you. Your ticket is open."))
    prompts.append(_("Your ticket number is %(digits)s.") % {"digits": _digits(state.ticket or 0)})
    if opened is not None and opened.sms_sent:
        prompts.append(_("We have also sent you this number by text message."))
    prompts.append(_("To hear the number again, press 1."))
    return speaker.gather_keys(state, prompts, single=True)


def _number(state: State, event: Event, context: Context) -> Turn:
    if isinstance(event, Keys) and event.digits == "1" and state.tries + 1 < MAX_TRIES * 2:
        return _read_number(replace(state, tries=state.tries + 1), context)
    return _speaker(context, state).hang_up(state, [_goodbye_text()])


# --- Menu 2: status of a ticket ----------------------------------------------------------------------------------


def _ask_ticket(state: State, context: Context, *, before: Sequence[str]) -> Turn:
    return _speaker(context, state).gather_keys(
        state, [*before, _("Please key the ticket number, then press the hash key.")], single=False
    )


def _status(state: State, event: Event, context: Context) -> Turn:
    if isinstance(event, StatusRead):
        if event.report is None:
            not_found = _("We found no ticket with that number for your agency.")
            return _retry(
                replace(state, ticket=None),
                context,
                lambda s: _ask_ticket(s, context, before=[not_found]),
                notice="",
            )
        return _tell_status(replace(state, step="more", ticket=event.report.number, tries=0), context, event.report)
    digits = event.digits if isinstance(event, Keys) else ""
    if not digits.isdigit() or len(digits) > MAX_KEYED_DIGITS:
        notice = _("We did not hear a number.")
        return _retry(state, context, lambda s: _ask_ticket(s, context, before=[]), notice=notice)
    return Turn(state=state, effect=ReadStatus(number=int(digits)))


def _tell_status(state: State, context: Context, report: StatusReport) -> Turn:
    language = state.lang
    prompts = [
        _("Ticket %(digits)s, %(service)s.")
        % {"digits": _digits(report.number), "service": report.service.name(language)},
        _("Status: %(status)s.") % {"status": choice_label(Status, report.status)},
    ]
    if report.assignee and report.status in OPEN_STATUSES:
        prompts.append(_("%(name)s is working on it.") % {"name": report.assignee})
    elif report.status in (Status.NEW, Status.ACKNOWLEDGED):
        prompts.append(_("It is waiting for a technician."))
    open_statuses = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
    if report.resolution_due_at is not None and report.status in open_statuses:
        prompts.append(_("A resolution is due by %(when)s.") % {"when": _when(report.resolution_due_at)})
    if report.sentence:
        prompts.append(_("Latest: %(sentence)s") % {"sentence": report.sentence})
    prompts.append(_("To hear it again, press 1. For another ticket, press 2. For the main menu, press 0."))
    return _speaker(context, state).gather_keys(state, prompts, single=True)


def _more(state: State, event: Event, context: Context) -> Turn:
    choice = event.digits if isinstance(event, Keys) else ""
    if choice == "1" and state.ticket is not None:
        return Turn(state=replace(state, step="status"), effect=ReadStatus(number=state.ticket))
    if choice == "2":
        return _ask_ticket(replace(state, step="status", ticket=None, tries=0), context, before=[])
    if choice == "0":
        return _menu_turn(replace(state, step="menu", ticket=None, tries=0), context)
    return _speaker(context, state).hang_up(state, [_goodbye_text()])


# --- Menu 3: urgent, connect me now ---------------------------------------------------------------------------------


def _dialed(state: State, event: Event, context: Context) -> Turn:
    """Dial the on-call primary, then the secondary; when neither answers, open a P1 and take a voicemail."""
    if isinstance(event, OnCallFound):
        if event.phone:
            return _dial(state, context, event.phone)
        return _next_layer(state, context)
    if isinstance(event, TicketOpened):
        return _voicemail(replace(state, step="goodbye", ticket=event.number), context, urgent=True)
    if isinstance(event, DialEnded) and event.answered:
        return _speaker(context, state).hang_up(state, [_goodbye_text()])
    return _next_layer(state, context)


def _next_layer(state: State, context: Context) -> Turn:
    if state.service is None:
        return _speaker(context, state).hang_up(state, [_goodbye_text()])
    if state.layer == "primary":
        backup = FindOnCall(service=state.service, layer="secondary")
        return Turn(state=replace(state, layer="secondary"), effect=backup)
    return Turn(state=state, effect=OpenTicket(service=state.service, whole_agency=True, description="", urgent=True))


def _dial(state: State, context: Context, phone: str) -> Turn:
    speaker = _speaker(context, state)
    if state.layer == "primary":
        speaker.say(_("Connecting you to the on-call engineer. Please hold."))
    else:
        speaker.say(_("The on-call engineer did not answer. Trying the backup engineer. Please hold."))
    dial = speaker.response.dial(
        action=state.url(context),
        method="POST",
        timeout=DIAL_TIMEOUT_SECONDS,
        caller_id=context.hotline_number or None,
    )
    dial.number(phone)
    return Turn(state=state, twiml=speaker.response)


def _voicemail(state: State, context: Context, *, urgent: bool) -> Turn:
    speaker = _speaker(context, state)
    if urgent:
        speaker.say(
            _(
                "Nobody could answer right now. We have opened urgent ticket %(digits)s and the on-call team is being "
                "paged."
            )
            % {"digits": _digits(state.ticket or 0)}
        )
    speaker.say(_("After the tone, leave a message with your name and number, then press the hash key."))
    speaker.response.record(
        action=state.url(context),
        method="POST",
        max_length=VOICEMAIL_MAX_SECONDS,
        finish_on_key="#",
        play_beep=True,
        recording_status_callback=context.recording_url,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    speaker.response.hangup()
    return Turn(state=state, twiml=speaker.response)


def _goodbye(state: State, event: Event, context: Context) -> Turn:
    return _speaker(context, state).hang_up(state, [_goodbye_text()])


def apology(context: Context, language: str, *, message: str = "") -> VoiceResponse:
    """What a caller hears when something failed on our side: an apology (or the refusal's own message), then a
    voicemail. Valid TwiML whatever happened."""
    language = language if language in LANGUAGES else AR
    with translation.override(language):
        state = State(step="goodbye", lang=language)
        speaker = Speaker(context, language)
        speaker.say(message or _("We are sorry, something went wrong on our side."))
        turn = _voicemail(state, context, urgent=False)
        assert turn.twiml is not None
        for verb in turn.twiml.verbs:
            speaker.response.append(verb)
        return speaker.response


def too_many_calls(context: Context, language: str) -> VoiceResponse:
    language = language if language in LANGUAGES else AR
    with translation.override(language):
        speaker = Speaker(context, language)
        speaker.say(_("You have called many times in a short while. Please try again in a few minutes. Goodbye."))
        speaker.response.hangup()
        return speaker.response


STEPS: dict[str, Callable[[State, Event, Context], Turn]] = {
    "start": _start,
    "language": _language,
    "code": _code,
    "pin": _pin,
    "menu": _menu,
    "service": _service,
    "whole": _whole,
    "describe": _describe,
    "number": _number,
    "status": _status,
    "more": _more,
    "dialed": _dialed,
    "goodbye": _goodbye,
}


def advance(state: State, event: Event, context: Context) -> Turn:
    """The caller's next turn: TwiML to answer with, or an effect to perform and feed back as an event."""
    language = state.lang or context.caller.language or AR
    with translation.override(language if language in LANGUAGES else AR):
        return STEPS[state.step](state, event, context)

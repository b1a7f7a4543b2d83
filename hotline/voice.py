"""The adapter between Twilio's voice webhooks and the call flow: it reads who is calling, runs `flow.advance`,
performs the effects the flow asks for through the hotline's services, and returns the TwiML. Whatever fails, the
caller hears valid TwiML (`hotline.errors`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from hotline import flow
from hotline.errors import caller_message
from hotline.selectors import caller_identify, hotline_services, oncall_phone, phone_or_blank, ticket_status_report
from hotline.services import hotline_pin_check, hotline_ticket_open, phone_language_remember
from hotline.twilio_api import public_url

# An effect leads to one more turn; a flow that asked for more than this in one request is a bug.
MAX_EFFECTS_PER_REQUEST = 4
ANSWERED = frozenset({"completed", "answered"})


@dataclass(frozen=True)
class Call:
    """One webhook request of a call: Twilio's parameters, the step and state from its URL."""

    sid: str
    phone: str
    hotline_number: str
    state: flow.State
    event: flow.Event


def _voices() -> dict[str, flow.Voice]:
    return {language: flow.Voice(**voice) for language, voice in settings.HELPDESK_HOTLINE_VOICES.items()}


def call_from_request(*, step: str, params: Mapping[str, str], query: Mapping[str, str]) -> Call:
    state = flow.State.parse(step, query)
    event: flow.Event
    if state.step == "start":
        event = flow.Begin()
    elif "DialCallStatus" in params:
        event = flow.DialEnded(answered=params["DialCallStatus"] in ANSWERED)
    elif state.step == "describe":
        event = flow.Spoken(text=params.get("SpeechResult", ""))
    else:
        event = flow.Keys(digits=params.get("Digits", "").strip())
    return Call(
        sid=params.get("CallSid", ""),
        phone=phone_or_blank(params.get("From", "")),
        hotline_number=settings.TWILIO_FROM_NUMBER or params.get("To", ""),
        state=state,
        event=event,
    )


# The steps whose turn may read the service catalogue (to list it, or to map a key to a service).
CATALOGUE_STEPS = frozenset({"menu", "service"})


def _context(call: Call, state: flow.State) -> flow.Context:
    return flow.Context(
        caller=caller_identify(phone=call.phone, agency_id=state.agency),
        services=hotline_services() if state.step in CATALOGUE_STEPS else (),
        voices=_voices(),
        voice_url=public_url("hotline:voice"),
        recording_url=public_url("hotline:recording"),
        hotline_number=call.hotline_number,
    )


def _perform(effect: flow.Effect, *, call: Call, context: flow.Context, state: flow.State, now: dt.datetime
             ) -> flow.Event:
    agency = context.caller.agency
    if isinstance(effect, flow.CheckPin):
        return flow.PinChecked(agency=hotline_pin_check(code=effect.code, pin=effect.pin))
    if isinstance(effect, flow.ReadStatus):
        report = ticket_status_report(
            agency_id=agency.id if agency is not None else None, number=effect.number, language=state.lang
        )
        return flow.StatusRead(report=report)
    if isinstance(effect, flow.FindOnCall):
        return flow.OnCallFound(phone=oncall_phone(service_id=effect.service, layer=effect.layer, at=now))
    if isinstance(effect, flow.OpenTicket):
        if agency is None:
            raise flow.FlowError("a ticket can only be opened for an identified caller")
        opened = hotline_ticket_open(
            call_sid=call.sid,
            phone=call.phone,
            agency_id=agency.id,
            service_id=effect.service,
            whole_agency=effect.whole_agency,
            description=effect.description,
            urgent=effect.urgent,
            language=state.lang,
            now=now,
        )
        return flow.TicketOpened(number=opened.ticket.number, sms_sent=opened.sms_sent)
    raise flow.FlowError(f"no way to perform {effect!r}")


def voice_answer(call: Call, *, now: dt.datetime) -> str:
    """The TwiML (as text) that answers one voice webhook."""
    context = None
    state = call.state
    try:
        context = _context(call, state)
        event = call.event
        for _attempt in range(MAX_EFFECTS_PER_REQUEST):
            turn = flow.advance(state, event, context)
            state = turn.state
            if turn.remember_language:
                phone_language_remember(phone=call.phone, language=turn.remember_language, now=now)
            if turn.twiml is not None:
                return str(turn.twiml)
            assert turn.effect is not None
            with translation.override(state.lang or flow.AR):
                event = _perform(turn.effect, call=call, context=context, state=state, now=now)
        raise flow.FlowError("the call flow asked for too many effects in one turn")
    except Exception as error:  # noqa: BLE001 - a caller never hears an application error
        language = state.lang or (context.caller.language if context is not None else "")
        return str(flow.apology(context or bare_context(call.phone), language, message=caller_message(error)))


def bare_context(phone: str) -> flow.Context:
    """A context that reads no database: for an apology when the database itself failed, and for page calls."""
    return flow.Context(
        caller=flow.Caller(phone=phone),
        services=(),
        voices=_voices(),
        voice_url=public_url("hotline:voice"),
        recording_url=public_url("hotline:recording"),
    )

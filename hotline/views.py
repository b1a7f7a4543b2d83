"""Twilio's webhooks. Each one is CSRF-exempt (Twilio has no cookie), POST only, signature-checked before anything
else (`hotline.security`), parses Twilio's parameters, calls one adapter or service and answers TwiML or 204."""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import parsedate_to_datetime

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from hotline import flow
from hotline.backends import mask_phone
from hotline.errors import caller_message
from hotline.paging import page_outcome, page_prompt, page_script
from hotline.ratelimit import rate_allowed
from hotline.security import twilio_signed
from hotline.selectors import phone_language, phone_or_blank
from hotline.services import (
    hotline_page_answer,
    hotline_recording_store,
    page_delivery_record,
    recording_seen,
)
from hotline.sms import ARABIC_LETTERS, sms_receive
from hotline.twilio_api import public_url, recording_download
from hotline.voice import bare_context, call_from_request, voice_answer

logger = logging.getLogger(__name__)

TWIML = "text/xml; charset=utf-8"


def _twiml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=TWIML)


@csrf_exempt
@require_POST
@twilio_signed
def voice(request: HttpRequest, step: str = "start") -> HttpResponse:
    """An incoming call (`/hotline/voice/`) and each later step of it (`/hotline/voice/<step>/`)."""
    call = call_from_request(step=step, params=request.POST, query=request.GET)
    try:
        if call.state.step == "start" and not rate_allowed(kind="call", key=call.phone or "withheld"):
            logger.warning("Too many calls from %s; answering with a goodbye", mask_phone(call.phone))
            language = phone_language(phone=call.phone)
            return _twiml(str(flow.too_many_calls(bare_context(call.phone), language)))
    except Exception as error:  # noqa: BLE001 - a caller never hears an application error
        return _twiml(str(flow.apology(bare_context(call.phone), call.state.lang, message=caller_message(error))))
    return _twiml(voice_answer(call, now=timezone.now()))


@csrf_exempt
@require_POST
@twilio_signed
def recording(request: HttpRequest) -> HttpResponse:
    """Twilio's recording status callback: fetch a finished recording and attach it to the call's ticket, once (or
    keep it until the call opens its ticket)."""
    params = request.POST
    recording_sid = params.get("RecordingSid", "")
    call_sid = params.get("CallSid", "")
    if params.get("RecordingStatus") != "completed" or not recording_sid or not call_sid:
        return HttpResponse(status=204)
    if recording_seen(recording_sid=recording_sid):
        return HttpResponse(status=204)
    seconds = params.get("RecordingDuration", "0")
    try:
        audio = recording_download(recording_sid=recording_sid)
        hotline_recording_store(
            call_sid=call_sid,
            recording_sid=recording_sid,
            seconds=int(seconds) if seconds.isdigit() else 0,
            audio=audio,
            phone=phone_or_blank(params.get("From", "")),
            now=timezone.now(),
        )
    except Exception:  # noqa: BLE001 - Twilio may try again; the recording stays with Twilio meanwhile
        logger.exception("Could not store recording %s of a call", recording_sid)
        return HttpResponse(status=503)
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@twilio_signed
def sms(request: HttpRequest) -> HttpResponse:
    """An SMS to the hotline's number: the reply goes back in the TwiML. A sender over the limit gets no reply, so
    that two machines answering each other cannot loop."""
    params = request.POST
    phone = phone_or_blank(params.get("From", ""))
    body = params.get("Body", "")
    message_sid = params.get("MessageSid", "")
    answer = MessagingResponse()
    if not message_sid:
        return _twiml(str(answer))
    try:
        if not rate_allowed(kind="sms", key=phone or "withheld"):
            logger.warning("Too many SMS from %s; not answering", mask_phone(phone))
            return _twiml(str(answer))
        reply = sms_receive(message_sid=message_sid, phone=phone, body=body, now=timezone.now())
    except Exception as error:  # noqa: BLE001 - a sender never gets an application error
        with translation.override("ar" if ARABIC_LETTERS.search(body) else "en"):
            reply = caller_message(error) or _("We are sorry, something went wrong on our side.")
    if reply:
        answer.message(reply)
    return _twiml(str(answer))


@csrf_exempt
@require_POST
@twilio_signed
def status(request: HttpRequest) -> HttpResponse:
    """Twilio's status callbacks for the SMS and calls the helpdesk sent (pages, confirmations): the newest state is
    kept on the page; a late or repeated callback changes nothing."""
    params = request.POST
    sequence = params.get("SequenceNumber", "")
    try:
        at = parsedate_to_datetime(params["Timestamp"]) if params.get("Timestamp") else None
    except (TypeError, ValueError):
        at = None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    try:
        page_delivery_record(
            provider_id=params.get("MessageSid") or params.get("CallSid", ""),
            status=params.get("MessageStatus") or params.get("CallStatus", ""),
            sequence=int(sequence) if sequence.isdigit() else None,
            at=at,
            now=timezone.now(),
        )
    except Exception:  # noqa: BLE001 - Twilio may send it again; nothing else depends on this answer
        logger.exception("Could not record a delivery state")
        return HttpResponse(status=503)
    return HttpResponse(status=204)


def _page_answer(request: HttpRequest, page_id: int, *, tries: int) -> HttpResponse:
    params = request.POST
    phone = phone_or_blank(params.get("To", ""))
    context = bare_context(phone)
    try:
        script = page_script(page_id=page_id)
        if script is None:
            return _twiml(str(VoiceResponse().hangup()))
        key = params.get("Digits", "")
        if key in ("1", "2"):
            outcome = hotline_page_answer(
                page_id=page_id, call_sid=params.get("CallSid", ""), phone=phone, key=key, now=timezone.now()
            )
            return _twiml(str(page_outcome(page_script(page_id=page_id) or script, context, outcome=outcome)))
        key_url = public_url("hotline:page_key", page_id=page_id)
        answered_by = params.get("AnsweredBy", "") if tries == 0 else ""
        return _twiml(str(page_prompt(script, context, answered_by=answered_by, key_url=key_url, tries=tries)))
    except Exception as error:  # noqa: BLE001 - the technician never hears an application error
        return _twiml(str(flow.apology(context, "", message=caller_message(error))))


@csrf_exempt
@require_POST
@twilio_signed
def page(request: HttpRequest, page_id: int) -> HttpResponse:
    """The script of a voice page, fetched by Twilio when the technician (or their voicemail) answers."""
    return _page_answer(request, page_id, tries=0)


@csrf_exempt
@require_POST
@twilio_signed
def page_key(request: HttpRequest, page_id: int) -> HttpResponse:
    """The technician's key on a voice page (or no key, after the prompt)."""
    tries = request.GET.get("tries", "")
    return _page_answer(request, page_id, tries=min(int(tries), 9) if tries.isdigit() else 0)

"""Writes of the hotline. Each one that a retried webhook could repeat is keyed by Twilio's id (CallSid,
RecordingSid, MessageSid) and locks its row first, so a retry finds the work done and changes nothing."""

from __future__ import annotations

import datetime as dt
import logging
import textwrap
from dataclasses import dataclass
from functools import partial

import phonenumbers
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from escalation.models import Page
from escalation.outbox import page_enqueue
from hotline.backends import SMS
from hotline.flow import Named
from hotline.models import CallRecording, HotlineCall, PhonePreference
from hotline.ratelimit import rate_allowed
from hotline.selectors import agency_by_hotline_code, phone_sms_allowed, requester_for
from tickets.exceptions import InvalidInput, TicketError
from tickets.models import Agency, Channel, Level, Service, Ticket
from tickets.services import ticket_acknowledge, ticket_open, ticket_recording_attach

logger = logging.getLogger(__name__)

SUBJECT_LENGTH = 120
# The outbox's step label of the SMS that confirms a ticket opened by phone.
CONFIRMATION_STEP = "hotline confirmation"
# Hashed so that an unknown code costs as much time as a known one.
_DUMMY_AGENCY = Agency(hotline_pin="")


@dataclass(frozen=True)
class OpenedByPhone:
    ticket: Ticket
    sms_sent: bool


def hotline_pin_check(*, code: str, pin: str) -> Named | None:
    """The agency whose hotline code and PIN these are, or None. Wrong PINs are counted per code, so trying many
    PINs for one agency from many phones is refused too."""
    agency = agency_by_hotline_code(code=code)
    if agency is None:
        _DUMMY_AGENCY.set_hotline_pin(pin)
        return None
    if not rate_allowed(kind="pin", key=code):
        logger.warning("Too many wrong hotline PINs for agency %s; refusing until the window ends", agency.code)
        return None
    if not agency.check_hotline_pin(pin):
        return None
    return Named(id=agency.pk, name_ar=agency.name_ar, name_en=agency.name_en)


def phone_language_remember(*, phone: str, language: str, now: dt.datetime) -> None:
    if not phone:
        return
    updated = PhonePreference.objects.filter(phone=phone).exclude(language=language).update(
        language=language, updated_at=now
    )
    if not updated:
        PhonePreference.objects.get_or_create(phone=phone, defaults={"language": language, "updated_at": now})


def phone_sms_opt_out_set(*, phone: str, opted_out: bool, now: dt.datetime) -> None:
    PhonePreference.objects.update_or_create(phone=phone, defaults={"sms_opt_out": opted_out, "updated_at": now})


def _is_mobile(phone: str) -> bool:
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return False
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _confirm_by_sms(ticket: Ticket, *, phone: str, language: str, now: dt.datetime) -> bool:
    """Queue an SMS with the ticket's number for the caller, when their phone can receive one and they did not send
    STOP. It leaves through the page outbox (retried, and shown to technicians on the ticket) after commit."""
    if not phone or not _is_mobile(phone) or not phone_sms_allowed(phone=phone):
        return False
    with translation.override(language):
        body = _(
            "Government IT helpdesk: your ticket %(reference)s about %(service)s is open. To hear its status, "
            "reply STATUS %(number)s."
        ) % {"reference": ticket.reference, "service": ticket.service.name, "number": ticket.number}
    page_enqueue(
        ticket_id=ticket.pk,
        recipient=ticket.requester,
        channel=SMS,
        body=body,
        language=language,
        step=CONFIRMATION_STEP,
        now=now,
        to=phone,
    )
    return True


def _call_lock(*, call_sid: str, phone: str, language: str, now: dt.datetime) -> HotlineCall:
    call, _created = HotlineCall.objects.select_for_update().get_or_create(
        call_sid=call_sid, defaults={"from_number": phone, "language": language, "created_at": now}
    )
    return call


@transaction.atomic
def hotline_ticket_open(
    *,
    call_sid: str,
    phone: str,
    agency_id: int,
    service_id: int,
    whole_agency: bool,
    description: str,
    urgent: bool,
    language: str,
    now: dt.datetime,
) -> OpenedByPhone:
    """Open the ticket of a call, once per CallSid: a retried webhook gets the ticket already opened. The staff member
    calling is its requester when their number is on file; the caller's number is kept on the ticket."""
    call = _call_lock(call_sid=call_sid, phone=phone, language=language, now=now)
    if call.ticket is not None:
        return OpenedByPhone(ticket=call.ticket, sms_sent=False)
    service = Service.objects.filter(pk=service_id).first()
    agency = Agency.objects.filter(pk=agency_id, active=True).first()
    if service is None or agency is None:
        raise InvalidInput(_("That service is not available."))
    with translation.override(language):
        if urgent:
            subject = _("Urgent call: %(service)s is down for %(agency)s") % {
                "service": service.name,
                "agency": agency.name,
            }
            text = _("The caller asked to speak to the on-call engineer now and nobody answered. Their voicemail "
                     "is attached when it arrives.")
        else:
            subject = textwrap.shorten(description, width=SUBJECT_LENGTH, placeholder="…")
            text = description
        high = urgent or whole_agency
        ticket = ticket_open(
            service=service,
            subject=subject,
            description=text,
            impact=Level.HIGH if high else Level.MEDIUM,
            urgency=Level.HIGH if high else Level.MEDIUM,
            channel=Channel.PHONE,
            requester=requester_for(phone=phone, agency_id=agency.pk),
            agency=agency,
            caller_phone=phone,
            contact_phone=phone,
            now=now,
        )
    call.ticket = ticket
    call.save(update_fields=["ticket"])
    for waiting in call.recordings.filter(attachment__isnull=True).exclude(audio=""):
        _recording_attach(waiting, ticket_id=ticket.pk, audio=waiting.audio.read(), language=language, now=now)
    return OpenedByPhone(ticket=ticket, sms_sent=_confirm_by_sms(ticket, phone=phone, language=language, now=now))


def recording_seen(*, recording_sid: str) -> bool:
    """Whether this recording was already stored (or kept without a ticket): a retried callback does nothing."""
    return CallRecording.objects.filter(recording_sid=recording_sid).exists()


@transaction.atomic
def hotline_recording_store(
    *,
    call_sid: str,
    recording_sid: str,
    seconds: int,
    audio: bytes,
    phone: str,
    now: dt.datetime,
) -> CallRecording:
    """Keep a call's recording once per RecordingSid and attach it to the call's ticket; when the call has no ticket
    yet, its audio waits on the recording and `hotline_ticket_open` attaches it."""
    call = _call_lock(call_sid=call_sid, phone=phone, language="", now=now)
    recording, created = CallRecording.objects.get_or_create(
        recording_sid=recording_sid, defaults={"call": call, "seconds": seconds, "created_at": now}
    )
    if not created:
        return recording
    if call.ticket_id is None:
        recording.audio.save(f"{recording_sid}.mp3", ContentFile(audio), save=True)
        return recording
    _recording_attach(recording, ticket_id=call.ticket_id, audio=audio, language=call.language, now=now)
    return recording


def _recording_attach(recording: CallRecording, *, ticket_id: int, audio: bytes, language: str, now: dt.datetime
                      ) -> None:
    with translation.override(language or None):
        note = _("Recording of the call (%(seconds)d s).") % {"seconds": recording.seconds}
    upload = SimpleUploadedFile(f"call-{recording.recording_sid}.mp3", audio, content_type="audio/mpeg")
    recording.attachment = ticket_recording_attach(ticket_id=ticket_id, upload=upload, note=note, now=now)
    if recording.audio.name:
        # The waiting copy goes once the attachment is committed; a rollback keeps it for the next try.
        transaction.on_commit(partial(recording.audio.storage.delete, recording.audio.name))
        recording.audio.name = ""
    recording.save(update_fields=["attachment", "audio"])


# How far along each state Twilio reports is, for SMS and for calls: a state never goes back to an earlier one.
DELIVERY_ORDER: dict[str, int] = {
    "accepted": 0, "scheduled": 0, "queued": 1, "initiated": 2, "sending": 2, "ringing": 3, "sent": 3,
    "in-progress": 4, "answered": 4, "delivered": 5, "undelivered": 5, "failed": 5, "canceled": 5,
    "completed": 5, "busy": 5, "no-answer": 5, "read": 6,
}


@transaction.atomic
def page_delivery_record(
    *, provider_id: str, status: str, sequence: int | None, at: dt.datetime | None, now: dt.datetime
) -> bool:
    """Record the delivery state Twilio reports for the page it knows as `provider_id`; whether it changed anything.
    Callbacks come late, twice or out of order: the newest wins, by the call's `SequenceNumber` when both have one,
    else by how far along the state is (an SMS "sent" after "delivered" changes nothing)."""
    order = DELIVERY_ORDER.get(status)
    if order is None or not provider_id:
        return False
    page = Page.objects.select_for_update().filter(provider_id=provider_id).first()
    if page is None:
        return False
    if sequence is not None and page.provider_sequence is not None:
        newer = sequence > page.provider_sequence
    else:
        newer = order > DELIVERY_ORDER.get(page.provider_status, -1)
    if not newer:
        return False
    page.provider_status = status
    page.provider_sequence = sequence if sequence is not None else page.provider_sequence
    page.provider_updated_at = at or now
    page.save(update_fields=["provider_status", "provider_sequence", "provider_updated_at"])
    return True


@transaction.atomic
def hotline_page_answer(*, page_id: int, call_sid: str, phone: str, key: str, now: dt.datetime) -> str:
    """What the paged technician's key does, once per call: 1 acknowledges the ticket (the console's service, channel
    phone), 2 fires the next escalation step at once. A ticket no longer waiting for that changes nothing. Returns
    the call's outcome ("" when nothing changed); a retried webhook gets the first outcome again."""
    call = _call_lock(call_sid=call_sid, phone=phone, language="", now=now)
    if call.outcome:
        return call.outcome
    page = Page.objects.select_related("ticket", "recipient").filter(pk=page_id).first()
    if page is None or page.recipient is None:
        return HotlineCall.Outcome.NONE
    ticket = page.ticket
    try:
        if key == "1":
            ticket_acknowledge(ticket=ticket, actor=page.recipient, channel=Channel.PHONE, now=now)
            call.outcome = HotlineCall.Outcome.ACKNOWLEDGED
        elif key == "2":
            from escalation.services import escalation_escalate_now

            escalation_escalate_now(ticket_id=ticket.pk, actor=page.recipient, now=now)
            call.outcome = HotlineCall.Outcome.ESCALATED
    except TicketError:
        return HotlineCall.Outcome.NONE
    call.ticket = ticket
    call.save(update_fields=["outcome", "ticket"])
    return call.outcome

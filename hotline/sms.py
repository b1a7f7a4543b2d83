"""SMS to the hotline: `STATUS <number>` (agency staff: their agency's tickets; technicians: any), `ACK <number>`
(a technician acknowledges through the same service as the console's button), STOP and START, and a short help text
for anything else. Keywords are understood in English and Arabic, with Western or Arabic-Indic digits, and every
reply is in the sender's language."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from escalation.selectors import contact_profile_get
from hotline.flow import StatusReport
from hotline.models import InboundSms
from hotline.selectors import phone_language, staff_by_phone, technician_by_phone, ticket_status_report
from hotline.services import phone_sms_opt_out_set
from tickets import services
from tickets.exceptions import TicketError
from tickets.models import Channel, Status, Ticket
from tickets.sentences import choice_label

STATUS, ACK, STOP, START, HELP = "status", "ack", "stop", "start", "help"
KEYWORDS = {
    "STATUS": STATUS,
    "حالة": STATUS,
    "ACK": ACK,
    "تأكيد": ACK,
    # Twilio's standard opt-out and opt-in keywords, and their Arabic.
    "STOP": STOP,
    "STOPALL": STOP,
    "UNSUBSCRIBE": STOP,
    "CANCEL": STOP,
    "END": STOP,
    "QUIT": STOP,
    "إيقاف": STOP,
    "START": START,
    "UNSTOP": START,
    "YES": START,
    "بدء": START,
}
BODY_MAX_LENGTH = 1600  # what Twilio delivers in one message at most
ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_COMMAND = re.compile(r"^\s*(\S+)(?:\s+(?:HD-?)?([0-9]{1,18}))?\s*[.!]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SmsCommand:
    kind: str
    number: int | None = None


def sms_parse(body: str) -> SmsCommand:
    """What an SMS asks for. STATUS and ACK need a ticket number; anything not understood is HELP."""
    match = _COMMAND.match(body.translate(_ARABIC_DIGITS))
    if match is None:
        return SmsCommand(HELP)
    kind = KEYWORDS.get(match.group(1).upper())
    number = int(match.group(2)) if match.group(2) else None
    if kind in (STATUS, ACK) and number is None:
        return SmsCommand(HELP)
    if kind is None or (kind in (STOP, START) and number is not None):
        return SmsCommand(HELP)
    return SmsCommand(kind, number)


def sms_language(*, phone: str, body: str, technician: User | None) -> str:
    """Arabic if the message is written in Arabic, else the language the number chose on the hotline, else the
    technician's own, else English."""
    if ARABIC_LETTERS.search(body):
        return "ar"
    remembered = phone_language(phone=phone)
    if remembered:
        return remembered
    profile = contact_profile_get(user=technician) if technician is not None else None
    return profile.language if profile is not None else "en"


def _help() -> str:
    return _(
        "Government IT helpdesk: send STATUS and a ticket number (for example STATUS 104233) to hear its status. "
        "On-call technicians: send ACK and the number to acknowledge. Send STOP to receive no more SMS."
    )


def _when(value: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "D j M H:i")


def _status_text(report: StatusReport, language: str) -> str:
    parts = [
        _("HD-%(number)s, %(service)s: %(status)s.")
        % {"number": report.number, "service": report.service.name(language),
           "status": choice_label(Status, report.status)}
    ]
    if report.assignee:
        parts.append(_("With %(name)s.") % {"name": report.assignee})
    elif report.status in (Status.NEW, Status.ACKNOWLEDGED):
        parts.append(_("Waiting for a technician."))
    if report.resolution_due_at is not None and report.status in (Status.NEW, Status.ACKNOWLEDGED,
                                                                   Status.IN_PROGRESS):
        parts.append(_("Resolution due %(when)s.") % {"when": _when(report.resolution_due_at)})
    if report.sentence:
        parts.append(_("Latest: %(sentence)s") % {"sentence": report.sentence})
    return " ".join(parts)


def _status(command: SmsCommand, *, phone: str, technician: User | None, language: str) -> str:
    assert command.number is not None
    member = staff_by_phone(phone=phone)
    if technician is None and member is None:
        return _("This number is not on file with the helpdesk. Call the hotline to hear the status of a ticket.")
    report = ticket_status_report(
        number=command.number,
        language=language,
        agency_id=member.agency_id if member is not None else None,
        any_agency=technician is not None,
    )
    if report is None:
        return _("No ticket HD-%(number)s was found for your agency.") % {"number": command.number}
    return _status_text(report, language)


def _acknowledge(command: SmsCommand, *, technician: User | None, now: dt.datetime) -> str:
    assert command.number is not None
    if technician is None:
        return _("Only on-call technicians can acknowledge by SMS.")
    ticket = Ticket.objects.filter(number=command.number).first()
    if ticket is None:
        return _("No ticket HD-%(number)s was found.") % {"number": command.number}
    try:
        services.ticket_acknowledge(ticket=ticket, actor=technician, channel=Channel.SMS, now=now)
    except TicketError as refusal:
        return _("HD-%(number)s was not acknowledged: %(reason)s") % {"number": command.number,
                                                                      "reason": refusal.message}
    return _("HD-%(number)s is acknowledged. Thank you.") % {"number": command.number}


def sms_answer(*, phone: str, body: str, now: dt.datetime) -> tuple[str, str]:
    """(reply, language) to one SMS from `phone` (E.164 or "")."""
    technician = technician_by_phone(phone=phone)
    language = sms_language(phone=phone, body=body, technician=technician)
    command = sms_parse(body)
    with translation.override(language):
        if command.kind == STATUS:
            return _status(command, phone=phone, technician=technician, language=language), language
        if command.kind == ACK:
            return _acknowledge(command, technician=technician, now=now), language
        if command.kind in (STOP, START) and phone:
            phone_sms_opt_out_set(phone=phone, opted_out=command.kind == STOP, now=now)
            if command.kind == STOP:
                return _("You will receive no more SMS from the helpdesk. Send START to receive them again."), language
            return _("You will receive SMS from the helpdesk again."), language
        return _help(), language


@transaction.atomic
def sms_receive(*, message_sid: str, phone: str, body: str, now: dt.datetime) -> str:
    """Answer one SMS, once per MessageSid: a retried webhook gets the reply the first one got, and acknowledges
    nothing twice. Of two concurrent deliveries, the second waits on the first's row and then reads its reply."""
    received, created = InboundSms.objects.get_or_create(
        message_sid=message_sid,
        defaults={"from_number": phone, "body": body[:BODY_MAX_LENGTH], "language": "", "received_at": now},
    )
    if not created:
        return received.reply
    received.reply, received.language = sms_answer(phone=phone, body=body, now=now)
    received.save(update_fields=["reply", "language"])
    return received.reply

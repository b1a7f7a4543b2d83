"""Voice pages: what the on-call technician hears when the Twilio backend calls them, and what their keys do.

The Calls API fetches the script from `/hotline/voice/page/<page id>/` (signed like every webhook; no ticket text
travels in a URL). A person hears the ticket in their language and presses 1 to acknowledge (the console's
acknowledge service, channel phone) or 2 to escalate now (the engine's `escalation_escalate_now`); an answering
machine (Twilio's machine detection) hears a short notice and neither happens, so the chain moves on."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from escalation.models import Page
from hotline import flow
from hotline.models import HotlineCall
from tickets.models import Priority, Status
from tickets.sentences import choice_label

MACHINE = ("machine", "fax")
MAX_PROMPTS = 2


@dataclass(frozen=True)
class PageScript:
    """A page as it is read to the technician."""

    page_id: int
    number: int
    priority: int
    service: flow.Named
    agency: flow.Named
    subject: str
    status: str
    language: str


def page_script(*, page_id: int) -> PageScript | None:
    page = Page.objects.select_related("ticket__service", "ticket__agency").filter(pk=page_id).first()
    if page is None:
        return None
    ticket = page.ticket
    return PageScript(
        page_id=page.pk,
        number=ticket.number,
        priority=ticket.priority,
        service=flow.Named(id=ticket.service_id, name_ar=ticket.service.name_ar, name_en=ticket.service.name_en),
        agency=flow.Named(id=ticket.agency_id, name_ar=ticket.agency.name_ar, name_en=ticket.agency.name_en),
        subject=ticket.subject,
        status=ticket.status,
        language=page.language if page.language in flow.LANGUAGES else flow.AR,
    )


def is_machine(answered_by: str) -> bool:
    return answered_by.startswith(MACHINE)


def page_prompt(script: PageScript, context: flow.Context, *, answered_by: str, key_url: str, tries: int
                ) -> VoiceResponse:
    """The script of a page call: the ticket, then "press 1 to acknowledge, 2 to escalate now"; a machine hears a
    notice only."""
    with translation.override(script.language):
        speaker = flow.Speaker(context, script.language)
        digits = " ".join(str(script.number))
        if is_machine(answered_by):
            speaker.say(
                _("This is the government IT helpdesk with an urgent page about ticket %(digits)s. Please open the "
                  "console.")
                % {"digits": digits}
            )
            speaker.response.hangup()
            return speaker.response
        if tries >= MAX_PROMPTS:
            speaker.say(_("No key was pressed. The page stays open and the escalation continues. Goodbye."))
            speaker.response.hangup()
            return speaker.response
        gather = speaker.response.gather(input="dtmf", num_digits=1, action=key_url, method="POST", timeout=8)
        speaker.say(_("This is the government IT helpdesk with an urgent page."), into=gather)
        speaker.say(
            _("Ticket %(digits)s, %(priority)s, %(service)s, for %(agency)s: %(subject)s.")
            % {
                "digits": digits,
                "priority": choice_label(Priority, script.priority),
                "service": script.service.name(script.language),
                "agency": script.agency.name(script.language),
                "subject": script.subject,
            },
            into=gather,
        )
        speaker.say(_("To acknowledge, press 1. To escalate now, press 2."), into=gather)
        speaker.response.redirect(f"{key_url}?tries={tries + 1}", method="POST")
        return speaker.response


def page_outcome(script: PageScript, context: flow.Context, *, outcome: str) -> VoiceResponse:
    """What the technician hears after their key: done, or why nothing changed."""
    with translation.override(script.language):
        speaker = flow.Speaker(context, script.language)
        values = {"digits": " ".join(str(script.number)), "status": choice_label(Status, script.status)}
        if outcome == HotlineCall.Outcome.ACKNOWLEDGED:
            speaker.say(_("Thank you. Ticket %(digits)s is acknowledged and the escalation stops.") % values)
        elif outcome == HotlineCall.Outcome.ESCALATED:
            speaker.say(_("Ticket %(digits)s is escalated to the next step now.") % values)
        else:
            speaker.say(_("Ticket %(digits)s is already %(status)s. Nothing was changed.") % values)
        speaker.response.hangup()
        return speaker.response

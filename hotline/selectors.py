"""Reads of the hotline: who is calling, what they may hear, and what their number asked for."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.utils import translation

from escalation.selectors import contact_profile_get, oncall_user, user_by_mobile
from hotline.flow import Caller, Named, StatusReport
from hotline.models import PhonePreference
from tickets.models import Agency, AgencyMembership, Service, Ticket
from tickets.phones import phone_e164, phones_match
from tickets.selectors import user_display_name, user_is_technician
from tickets.sentences import event_sentence

# A number stored in another form ("+974 5512 3456", "0097455123456", "55123456") still ends with the same last
# digits, grouped together in every usual way of writing it.
_SUFFIX_DIGITS = 4


def phone_or_blank(raw: str) -> str:
    """The number in E.164, or "" for a withheld, foreign-format or invalid caller ID."""
    try:
        return phone_e164(raw)
    except ValueError:
        return ""


def staff_by_phone(*, phone: str) -> AgencyMembership | None:
    """The active agency staff member whose number on file is `phone` (E.164), whichever way it was stored."""
    if not phone:
        return None
    members = AgencyMembership.objects.select_related("user", "agency").filter(
        user__is_active=True, agency__active=True
    )
    exact = members.filter(phone=phone).order_by("pk").first()
    if exact is not None:
        return exact
    candidates = members.filter(phone__endswith=phone[-_SUFFIX_DIGITS:]).order_by("pk")
    return next((member for member in candidates if phones_match(member.phone, phone)), None)


def _named(obj: Agency | Service) -> Named:
    return Named(id=obj.pk, name_ar=obj.name_ar, name_en=obj.name_en)


def caller_identify(*, phone: str, agency_id: int | None = None) -> Caller:
    """Who is calling from `phone` (E.164 or ""): agency staff by their number on file, else the agency whose code
    and PIN they keyed earlier in the call (`agency_id`), else nobody yet."""
    member = staff_by_phone(phone=phone)
    language = phone_language(phone=phone)
    if member is not None:
        return Caller(phone=phone, agency=_named(member.agency), language=language)
    agency = Agency.objects.filter(pk=agency_id, active=True).first() if agency_id else None
    return Caller(phone=phone, agency=_named(agency) if agency is not None else None, language=language)


def phone_language(*, phone: str) -> str:
    if not phone:
        return ""
    return PhonePreference.objects.filter(phone=phone).values_list("language", flat=True).first() or ""


def phone_sms_allowed(*, phone: str) -> bool:
    """Whether this number may be sent an SMS: it did not send STOP."""
    return not PhonePreference.objects.filter(phone=phone, sms_opt_out=True).exists()


def hotline_services() -> tuple[Named, ...]:
    """The services a caller chooses from, in the order the menu numbers them."""
    return tuple(_named(service) for service in Service.objects.filter(active=True).order_by("name_en", "pk"))


def agency_by_hotline_code(*, code: str) -> Agency | None:
    return Agency.objects.filter(hotline_code=code, active=True).first() if code else None


def requester_for(*, phone: str, agency_id: int) -> User | None:
    """The staff member calling, when their number is on file with the agency the ticket is for."""
    member = staff_by_phone(phone=phone)
    return member.user if member is not None and member.agency_id == agency_id else None


def technician_by_phone(*, phone: str) -> User | None:
    """The technician whose contact profile has this mobile number."""
    user = user_by_mobile(phone=phone) if phone else None
    return user if user is not None and user_is_technician(user) else None


def oncall_phone(*, service_id: int, layer: str, at: dt.datetime) -> str:
    """The mobile of who is on call (`layer`: primary or secondary) for the team of a service; "" when nobody is, or
    they have no number on file."""
    service = Service.objects.filter(pk=service_id).first()
    user = oncall_user(team_id=service.team_id, at=at, layer=layer) if service is not None else None
    profile = contact_profile_get(user=user) if user is not None else None
    return profile.mobile if profile is not None else ""


def ticket_status_report(
    *, number: int, language: str, agency_id: int | None, any_agency: bool = False
) -> StatusReport | None:
    """Ticket `number` as the caller hears it, or None when it is not a ticket of their agency (another agency's
    ticket is "not found" like one that does not exist); `any_agency` for a technician. Its latest change is told
    with the same sentence as on the agency's ticket page (public events only, as agency staff see them)."""
    tickets = Ticket.objects.select_related("service", "assignee").filter(number=number)
    if not any_agency:
        if agency_id is None:
            return None
        tickets = tickets.filter(agency_id=agency_id)
    ticket = tickets.first()
    if ticket is None:
        return None
    latest = ticket.events.filter(public=True).select_related("actor").order_by("-id").first()
    with translation.override(language):
        assignee = user_display_name(ticket.assignee) if ticket.assignee is not None else ""
        sentence = event_sentence(latest) if latest is not None else ""
    return StatusReport(
        number=ticket.number,
        service=_named(ticket.service),
        status=ticket.status,
        assignee=assignee,
        resolution_due_at=ticket.resolution_due_at,
        sentence=sentence,
    )

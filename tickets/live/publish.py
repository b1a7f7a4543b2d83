"""The agency pages' live messages, sent through `helpdesk.realtime`: each committed PUBLIC ticket event goes to
its own agency's group, naming only the ticket and the event's cursor; the page then fetches its new state over
HTTP, through the same views (and the same rights) as a reload."""

from __future__ import annotations

from helpdesk import realtime
from tickets.models import TicketEvent


def agency_group(agency_id: int) -> str:
    return f"agency.{agency_id}"


def agency_event_message(event: TicketEvent) -> dict:
    return {"cursor": event.pk, "ticket": event.ticket.number, "kind": event.kind}


def publish_agency_event(*, agency_id: int, message: dict) -> None:
    """Tell the agency's open pages that one of its tickets changed (`message` from `agency_event_message`). Only
    public events are published here; internal events never leave."""
    realtime.group_send(
        agency_group(agency_id), {"type": "agency.event", **message}, what=f"agency event {message['cursor']}"
    )

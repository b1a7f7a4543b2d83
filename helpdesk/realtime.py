"""The one place that writes to the channel layer. Services call it after commit; it is best effort, because a
console that misses a message asks for it again from the event table."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tickets.selectors import event_message_get

logger = logging.getLogger(__name__)

CONSOLE_GROUP = "console"


def console_session_group(session_key: str) -> str:
    """The group of the console sockets opened with one login session."""
    return f"console.session.{session_key}"


def _group_send(group: str, message: dict[str, Any], what: str) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The channel layer is only the fast path: consoles resync events and presence from the database, and a
        # socket whose session ended is closed at its next heartbeat.
        logger.warning("Could not publish %s to the channel layer", what, exc_info=True)


def publish_ticket_event(*, event_id: int) -> None:
    """Broadcast one committed ticket event to every connected technician console."""
    message = {"type": "ticket.event", **event_message_get(event_id=event_id)}
    _group_send(CONSOLE_GROUP, message, f"ticket event {event_id}")


def publish_presence(*, state: dict[str, Any]) -> None:
    """Broadcast who is online and who views or types on which ticket to every connected technician console."""
    _group_send(CONSOLE_GROUP, {**state, "type": "console.presence"}, "console presence")


def close_session_consoles(*, session_key: str) -> None:
    """Close the console sockets opened with a session that has just logged out."""
    _group_send(console_session_group(session_key), {"type": "console.close"}, "a console close")

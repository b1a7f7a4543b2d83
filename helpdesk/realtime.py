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


def publish_ticket_event(*, event_id: int) -> None:
    """Broadcast one committed ticket event to every connected technician console."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "ticket.event", **event_message_get(event_id=event_id)}
    try:
        async_to_sync(layer.group_send)(CONSOLE_GROUP, message)
    except Exception:
        # The channel layer is only the fast path: consoles resync from the event table.
        logger.warning("Could not publish ticket event %s to the channel layer", event_id, exc_info=True)


def publish_presence(*, state: dict[str, Any]) -> None:
    """Broadcast who is online and who views or types on which ticket to every connected technician console."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {**state, "type": "console.presence"}
    try:
        async_to_sync(layer.group_send)(CONSOLE_GROUP, message)
    except Exception:
        # Presence is refreshed on every change and read again from the database by each new console.
        logger.warning("Could not publish console presence to the channel layer", exc_info=True)
